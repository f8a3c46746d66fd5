/**
 * Issue 17: `createMethod`'s run-time checks (methods/create_method.ts), cheap enough for
 * `deno task mutate`: which options each method accepts (checked before any net is built: a bad
 * inputShape then fails in the encoder builder, not as an unknown option), the exact refusals,
 * each name building its own method, the seed's default and the clean-up after a refusal.
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { createMethod, METHOD_NAMES } from "../../methods/mod.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

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
const MOCO = ["temperature", "queueSize", "momentum", "shuffleBnSplits"];

/** Each method's own options, as its options interface and the README list them. */
const OWN: Record<string, string[]> = {
  simclr: ["loss", "temperature", "headLayers", "sharedBatchNorm", "headBatchNorm"],
  simsiam: ["stopGradient"],
  "moco-v1": MOCO,
  "moco-v2": MOCO,
  "moco-v3": MOCO,
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
};

const BAD_SHAPE = /^Cannot build method: inputShape must be \[height, width, channels\]/;

/** The error createMethod throws for these options (the bad inputShape stops it before nets). */
function refusal(name: string, options: Record<string, unknown>): Error {
  try {
    createMethod(name as string, options as never);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`${name}: no error`);
}

Deno.test("createMethod accepts every common option and each method's own, for every name", () => {
  assert.deepEqual([...METHOD_NAMES].sort(), Object.keys(OWN).sort());
  for (const name of METHOD_NAMES) {
    for (const key of [...COMMON, ...OWN[name]]) {
      const e = refusal(name, { encoder: "convnet", inputShape: "bad", [key]: 1 });
      // an option is refused as unknown before anything else; past that check, the method's own
      // (swav's preset) or the encoder builder's (the bad inputShape) refusal comes
      assert.doesNotMatch(e.message, /unknown option/, `${name} refused ${key}`);
      assert.ok(e.message.length > 0, `${name} ${key}`);
    }
  }
});

Deno.test("createMethod refuses another method's option, naming it and what is allowed", () => {
  const e = refusal("rotation", { inputShape: "bad", temperature: 0.1 });
  assert.ok(e instanceof TypeError);
  assert.equal(
    e.message,
    `Cannot create rotation: unknown option temperature; expected some of ${COMMON.join(", ")}`,
  );
  const f = refusal("byol", { inputShape: "bad", queueSize: 8, loss: "x", momentum: 0.9 });
  assert.ok(f instanceof TypeError);
  assert.equal(
    f.message,
    `Cannot create byol: unknown options queueSize, loss; expected some of ${
      [...COMMON, "momentum"].join(", ")
    }`,
  );
  // an unknown key left undefined is no option
  const g = refusal("rotation", { inputShape: "bad", temperature: undefined });
  assert.match(g.message, BAD_SHAPE);
});

Deno.test("createMethod refuses an unknown name with the list of names, comma-separated", () => {
  const e = refusal("simclrr", { inputShape: "bad" });
  assert.ok(e instanceof TypeError);
  assert.equal(
    e.message,
    "Unknown method: expected one of simclr, moco-v1, moco-v2, moco-v3, swav, simsiam, byol, " +
      "barlow-twins, vicreg, rotation, relative-patch, jigsaw, colorization, " +
      'denoising-autoencoder, gan, received "simclrr"',
  );
});

Deno.test("createMethod refuses options that are not an object", () => {
  for (const options of [null, undefined, 3, "convnet"]) {
    const e = refusal("simclr", options as never);
    assert.ok(e instanceof TypeError, String(options));
    assert.equal(
      e.message,
      `Cannot create simclr: options must be an object, received ${String(options)}`,
    );
  }
});

Deno.test("createMethod builds the method each name names", () => {
  const base = { encoder: "convnet", inputShape: [8, 8, 1], seed: 0, widths: [4] };
  const small: Record<string, Record<string, unknown>> = {
    simclr: { projectionDim: 4, hiddenDim: 4 },
    simsiam: { projectionDim: 4, hiddenDim: 4 },
    "moco-v1": { queueSize: 8, projectionDim: 4 },
    "moco-v2": { queueSize: 8, projectionDim: 4, hiddenDim: 4 },
    "moco-v3": { queueSize: 8, projectionDim: 4, hiddenDim: 4 },
    byol: { projectionDim: 4, hiddenDim: 4 },
    "barlow-twins": { projectionDim: 4, hiddenDim: 4 },
    vicreg: { projectionDim: 4, hiddenDim: 4 },
    rotation: {},
    swav: { projectionDim: 4, hiddenDim: 4, prototypes: 4 },
  };
  for (const [name, extra] of Object.entries(small)) {
    const setup = createMethod(name as string, { ...base, ...extra } as never);
    assert.equal(setup.method.name, name);
    tf.dispose(setup.method.trainable(setup.nets));
  }
});

function firstKernel(seed: number | undefined): Float32Array {
  const setup = createMethod("rotation", {
    encoder: "convnet",
    inputShape: [8, 8, 1],
    widths: [4],
    ...(seed === undefined ? {} : { seed }),
  } as never);
  const vars = setup.method.trainable(setup.nets);
  const k = Float32Array.from(vars[0].dataSync() as Float32Array);
  tf.dispose(vars);
  return k;
}

Deno.test("createMethod seeds the initializers, seed 0 when none is given", () => {
  const none = firstKernel(undefined), zero = firstKernel(0), three = firstKernel(3);
  assert.deepEqual(none, zero);
  assert.deepEqual(firstKernel(3), three);
  assert.notDeepEqual(three, zero);
});

Deno.test("createMethod's clean-up after a refused option leaves variables made before alone", () => {
  const mine = tf.variable(tf.ones([3]));
  assert.throws(() =>
    createMethod("simclr", {
      encoder: "convnet",
      inputShape: [8, 8, 1],
      widths: [4],
      seed: 0,
      temperature: -1,
    })
  );
  assert.equal(mine.isDisposed, false);
  assert.deepEqual(Array.from(mine.dataSync()), [1, 1, 1]);
  mine.dispose();
});
