import { byol, type ByolOptions } from "./byol.ts";
import { moco, type MocoOptions } from "./moco.ts";
import { simclr, type SimclrOptions } from "./simclr.ts";
import { simsiam, type SimsiamOptions } from "./simsiam.ts";
import { swav, type SwavOptions } from "./swav.ts";
import type { BaseMethodOptions, MethodSetup } from "./types.ts";
import { tf } from "../backend/tf.ts";
import { withSeed } from "../backend/with_seed.ts";
import { rotation, type RotationOptions } from "./rotation.ts";
import { relativePatch, type RelativePatchOptions } from "./relative_patch.ts";
import { jigsaw, type JigsawOptions } from "./jigsaw.ts";
import { colorization, type ColorizationOptions } from "./colorization.ts";
import { denoisingAutoencoder, type DenoisingAutoencoderOptions } from "./denoising_autoencoder.ts";
import { gan, type GanOptions } from "./gan.ts";
import { barlowTwins, type BarlowTwinsOptions } from "./barlow_twins.ts";
import { vicreg, type VicregOptions } from "./vicreg.ts";

/** The methods `createMethod` builds, as `--method` spells them. */
export const METHOD_NAMES = [
  "simclr",
  "moco-v1",
  "moco-v2",
  "moco-v3",
  "swav",
  "simsiam",
  "byol",
  "barlow-twins",
  "vicreg",
  "rotation",
  "relative-patch",
  "jigsaw",
  "colorization",
  "denoising-autoencoder",
  "gan",
] as const;

/**
 * A method {@linkcode createMethod} builds. A misspelled literal fails `deno check`; a plain
 * `string` (read at run time) is checked when called: a TypeError listing these names.
 */
export type MethodName = typeof METHOD_NAMES[number];

/**
 * Options of {@linkcode createMethod}: the common ones plus those of the chosen method (see each
 * method's options for their meaning and paper defaults). Options that the method does not take
 * are an error.
 */
export type CreateMethodOptions =
  & BaseMethodOptions
  & Omit<SimclrOptions, keyof BaseMethodOptions>
  & Omit<SimsiamOptions, keyof BaseMethodOptions>
  & Omit<MocoOptions, keyof BaseMethodOptions | "version">
  & Omit<ByolOptions, keyof BaseMethodOptions>
  & Omit<SwavOptions, keyof BaseMethodOptions>
  & Omit<RotationOptions, keyof BaseMethodOptions>
  & Omit<RelativePatchOptions, keyof BaseMethodOptions>
  & Omit<JigsawOptions, keyof BaseMethodOptions>
  & Omit<ColorizationOptions, keyof BaseMethodOptions | "loss">
  & Omit<DenoisingAutoencoderOptions, keyof BaseMethodOptions | "loss">
  & Omit<GanOptions, keyof BaseMethodOptions>
  & Omit<BarlowTwinsOptions, keyof BaseMethodOptions>
  & Omit<VicregOptions, keyof BaseMethodOptions>;

const COMMON = [
  "encoder",
  "inputShape",
  "seed",
  "augment",
  "widths",
  "heads",
  "projectionDim",
  "hiddenDim",
];

const MOCO_KEYS = ["temperature", "queueSize", "momentum", "shuffleBnSplits"] as const;

/**
 * The options each method takes beside the common ones ({@linkcode BaseMethodOptions}): any other
 * is a TypeError, and for a literal name a `deno check` error ({@linkcode MethodOptions}).
 */
export const METHOD_OPTION_KEYS = {
  simclr: ["loss", "temperature", "headLayers", "sharedBatchNorm", "headBatchNorm"],
  simsiam: ["stopGradient"],
  "moco-v1": MOCO_KEYS,
  "moco-v2": MOCO_KEYS,
  "moco-v3": MOCO_KEYS,
  byol: ["momentum"],
  "barlow-twins": ["lambda", "scaledProjector", "scaleLoss"],
  vicreg: ["invariance", "variance", "covariance", "scaledProjector"],
  rotation: [],
  "relative-patch": ["tileSize", "colorDropping", "patch", "gap", "jitter"],
  jigsaw: ["permutations", "tileSize", "tileUnits", "selection", "normalizeTiles"],
  colorization: [
    "loss",
    "outputStride",
    "neighbors",
    "sigma",
    "lambda",
    "temperature",
    "bins",
    "head",
    "priorImages",
  ],
  "denoising-autoencoder": ["loss", "noise", "noiseLevel", "decoderWidths"],
  gan: ["zDim", "generatorWidths"],
  swav: [
    "preset",
    "temperature",
    "epsilon",
    "sinkhornIterations",
    "globalCrops",
    "localSize",
    "prototypes",
    "localCrops",
    "queueLength",
    "queueStartEpoch",
    "freezePrototypesEpochs",
    "freezePrototypesIterations",
  ],
} as const satisfies Record<MethodName, readonly (keyof CreateMethodOptions)[]>;

const BUILDERS: Record<MethodName, (o: CreateMethodOptions) => MethodSetup> = {
  simclr: (o) => simclr(o) as MethodSetup,
  simsiam: (o) => simsiam(o) as MethodSetup,
  "moco-v1": (o) => moco({ ...o, version: 1 }) as MethodSetup,
  "moco-v2": (o) => moco({ ...o, version: 2 }) as MethodSetup,
  "moco-v3": (o) => moco({ ...o, version: 3 }) as MethodSetup,
  byol: (o) => byol(o) as MethodSetup,
  "barlow-twins": (o) => barlowTwins(o) as MethodSetup,
  vicreg: (o) => vicreg(o) as MethodSetup,
  rotation: (o) => rotation(o) as MethodSetup,
  "relative-patch": (o) => relativePatch(o) as MethodSetup,
  jigsaw: (o) => jigsaw(o) as unknown as MethodSetup,
  colorization: (o) => colorization(o as ColorizationOptions) as unknown as MethodSetup,
  "denoising-autoencoder": (o) =>
    denoisingAutoencoder(o as DenoisingAutoencoderOptions) as unknown as MethodSetup,
  gan: (o) => gan(o) as unknown as MethodSetup,
  swav: (o) => swav(o) as MethodSetup,
};

/**
 * The options {@linkcode createMethod} accepts for method `N`: the common ones and the method's
 * own (for a name known only at run time, every method's).
 */
export type MethodOptions<N extends MethodName> =
  & BaseMethodOptions
  & Pick<CreateMethodOptions, typeof METHOD_OPTION_KEYS[N][number]>;

/**
 * Builds a method by name with its nets and initial state: what `deno task pretrain --method`
 * calls. Unknown names and options a method does not take are TypeErrors.
 *
 * @param name one of {@linkcode METHOD_NAMES} (a literal outside them fails `deno check`)
 * @param options encoder, input shape, seed and the method's options (for a literal name, only
 * the common ones and that method's: {@linkcode MethodOptions})
 * @returns the method, its nets, its initial state and the encoder used downstream
 *
 * @example
 * ```ts
 * import { createMethod } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const setup = createMethod("simsiam", {
 *   encoder: "convnet", inputShape: [8, 8, 1], seed: 0, widths: [4], projectionDim: 8,
 * });
 * assert.equal(setup.method.name, "simsiam");
 * assert.equal(setup.encoder.outputs[0].shape[1], 4);
 * ```
 */
export function createMethod<N extends string>(
  name: N & (string extends N ? string : MethodName),
  options: string extends N ? CreateMethodOptions
    : N extends MethodName ? MethodOptions<N>
    : never,
): MethodSetup {
  const build = Object.hasOwn(BUILDERS, name) ? BUILDERS[name as MethodName] : undefined;
  if (!build) {
    throw new TypeError(
      `Unknown method: expected one of ${METHOD_NAMES.join(", ")}, received "${name}"`,
    );
  }
  if (!options || typeof options !== "object") {
    throw new TypeError(
      `Cannot create ${name}: options must be an object, received ${String(options)}`,
    );
  }
  const allowed = new Set<string>([...COMMON, ...METHOD_OPTION_KEYS[name as MethodName]]);
  const unknown = Object.keys(options).filter((k) =>
    !allowed.has(k) && (options as unknown as Record<string, unknown>)[k] !== undefined
  );
  if (unknown.length > 0) {
    throw new TypeError(
      `Cannot create ${name}: unknown option${unknown.length > 1 ? "s" : ""} ${
        unknown.join(", ")
      }; expected some of ${[...allowed].join(", ")}`,
    );
  }
  // Seed every initializer that draws from Math.random (tfjs-layers' defaults), so the same seed
  // gives the same initial networks in every process.
  const registered = tf.engine().state.registeredVariables;
  const before = new Set(Object.keys(registered));
  try {
    return withSeed(options.seed ?? 0, () => build(options));
  } catch (e) {
    // an option rejected after some nets were built: free their weights (they leaked before)
    for (const [name, v] of Object.entries(registered)) if (!before.has(name)) v.dispose();
    throw e;
  }
}
