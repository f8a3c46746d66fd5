/**
 * `deno task preview -- --method <pretext task> --out x.png`: what each pretext task sees and
 * predicts, as a PNG grid (and a JSON sidecar with the labels), for a person to check.
 *
 * @module
 */
import { dirname } from "node:path";
import { type OptionSpec, runCommand, UsageError } from "./_args.ts";
import { checkOutputFolder } from "./_runs.ts";
import sharp from "sharp";
import { tf } from "../backend/tf.ts";
import { type BackendName, useBackend } from "../backend/use_backend.ts";
import { mnist } from "../data/mod.ts";
import { createMethod, type MethodSetup } from "../methods/mod.ts";
import { NEIGHBOR_POSITIONS } from "../methods/relative_patch.ts";
import { orientationTint } from "../methods/colorization.ts";
import { trainForPreview } from "./_preview_pretext_train.ts";
import { renderGrid } from "./_preview_grid.ts";
import { type GridLabels, labelGrid } from "./_grid_labels.ts";

/** The tasks this preview renders. */
export const PRETEXT_PREVIEW_METHODS = [
  "rotation",
  "relative-patch",
  "jigsaw",
  "colorization",
  "denoising-autoencoder",
  "gan",
] as const;

/** Options of {@linkcode previewPretext}. */
export interface PretextPreviewOptions {
  /** The task. */
  method: typeof PRETEXT_PREVIEW_METHODS[number];
  /** Where the PNG goes (the labels go to the same path + `.json`). @default {"<method>.png"} */
  out?: string;
  /** Rows (images). @default {8} */
  count?: number;
  /** Seed of the images and views. @default {0} */
  seed?: number;
  /**
   * Training steps on MNIST before rendering (batch 32): predictions need a trained net.
   * @default {300 for gan, 150 for colorization and denoising-autoencoder, 0 for the others}
   */
  steps?: number;
  /** Pixel upscaling. @default {4} */
  zoom?: number;
  /** A title, column headings and row labels inside the picture; false for the bare grid. @default {true} */
  labels?: boolean;
  /** The backend. @default {"wasm"} */
  backend?: BackendName;
  /** Print the training run's progress with ETA (stderr; a bar on a terminal). @default {false} */
  progress?: boolean;
  /** Where progress goes instead of stderr (tests). */
  log?: (text: string) => void;
}

function canvas(b: number, t: number, c: number): { data: Float32Array; side: number } {
  const side = 3 * t + 4;
  return { data: new Float32Array(b * side * side * c).fill(0.5), side };
}

/** Pastes tile `src` (`[t, t, c]` at offset `so` of `from`) at grid position p of canvas image i. */
function paste(
  to: Float32Array,
  side: number,
  i: number,
  p: number,
  from: Float32Array | Int32Array | Uint8Array,
  so: number,
  t: number,
  c: number,
) {
  const y0 = 1 + Math.floor(p / 3) * (t + 1), x0 = 1 + (p % 3) * (t + 1);
  for (let y = 0; y < t; y++) {
    for (let x = 0; x < t; x++) {
      for (let k = 0; k < c; k++) {
        to[((i * side + y0 + y) * side + x0 + x) * c + k] = from[so + (y * t + x) * c + k];
      }
    }
  }
}

/**
 * Renders one pretext task's inputs and outputs on MNIST test digits: rotation (columns =
 * labels 0, 90, 180, 270), relative-patch (image, then centre and neighbour pasted at the
 * labelled position), jigsaw (image, shuffled tiles, tiles put back by the label's permutation),
 * colorization (L input, prediction, truth), denoising (noisy, output, clean), gan (samples).
 *
 * @param options the task, output path, rows, seed, training steps, zoom, backend
 * @returns the PNG's path and the labels shown
 *
 * @example
 * ```ts ignore
 * import { previewPretext } from "./_preview_pretext.ts";
 * await previewPretext({ method: "jigsaw", out: "jigsaw.png" });
 * ```
 */
export async function previewPretext(
  options: PretextPreviewOptions,
): Promise<{ out: string; labels: unknown }> {
  const { method: name, count = 8, seed = 0, zoom = 4, backend = "wasm" } = options;
  if (!(PRETEXT_PREVIEW_METHODS as readonly string[]).includes(name)) {
    throw new RangeError(
      `Invalid --method: expected one of ${PRETEXT_PREVIEW_METHODS.join(", ")}, received "${name}"`,
    );
  }
  const out = options.out ?? `${name}.png`;
  const generative = ["colorization", "denoising-autoencoder", "gan"].includes(name);
  const steps = options.steps ?? (name === "gan" ? 300 : generative ? 150 : 0);
  await useBackend(backend, { quiet: true });
  const [trainSet, testSet] = await Promise.all([mnist("train"), mnist("test")]);
  const setup: MethodSetup = createMethod(name, {
    encoder: "convnet",
    inputShape: [28, 28, 1],
    seed,
    widths: [16, 32, 64],
    ...(name === "gan" ? { zDim: 32 } : {}),
    // tiles shown as cut (the net sees each one standardized: mean 0, std 1, Noroozi & Favaro)
    ...(name === "jigsaw" ? { normalizeTiles: false } : {}),
  });
  await trainForPreview(name, setup, trainSet, {
    steps,
    seed,
    progress: options.progress ?? false,
    ...(options.log ? { log: options.log } : {}),
  });
  const first = (seed * 97) % (testSet.length - count);
  const x = tf.tensor4d(
    Float32Array.from(testSet.images.subarray(first * 784, (first + count) * 784), (v) => v / 255),
    [count, 28, 28, 1],
  );
  const columns: tf.Tensor4D[] = [];
  let labels: unknown = null;
  let text: GridLabels = {};
  const m = setup.method as MethodSetup["method"] & Record<string, unknown>;
  const nets = setup.nets as Record<string, { apply(x: tf.Tensor, o: object): unknown }>;
  try {
    if (name === "rotation") {
      const [v] = m.views(x, seed);
      for (let k = 0; k < 4; k++) {
        columns.push(tf.slice(v, [k * count, 0, 0, 0], [count, 28, 28, 1]));
      }
      v.dispose();
      labels = { columns: ["0", "90", "180", "270"].map((d) => `label ${d} degrees`) };
      text = {
        title: "Rotation: one input per label",
        columns: ["0", "90", "180", "270"].map((d) => `${d}\u00b0`),
      };
    } else if (name === "relative-patch") {
      const [c, n, l] = m.views(x, seed);
      const t = c.shape[1];
      const cv = canvas(count, t, 1);
      const lab = Array.from(l.dataSync());
      const cd = c.dataSync() as Float32Array, nd = n.dataSync() as Float32Array;
      for (let i = 0; i < count; i++) {
        paste(cv.data, cv.side, i, 4, cd, i * t * t, t, 1);
        paste(cv.data, cv.side, i, NEIGHBOR_POSITIONS[lab[i]], nd, i * t * t, t, 1);
      }
      columns.push(tf.clone(x), tf.tensor4d(cv.data, [count, cv.side, cv.side, 1]));
      tf.dispose([c, n, l]);
      labels = lab.map((k) => ({ label: k, position: NEIGHBOR_POSITIONS[k] }));
      text = {
        title: "Relative patch: label = where the neighbour sits",
        columns: ["image", "centre, neighbour"],
        rows: lab.map((k) => `label ${k}`),
      };
    } else if (name === "jigsaw") {
      const [s, l] = m.views(x, seed);
      const t = s.shape[1];
      const perms = m.permutations as number[][];
      const lab = Array.from(l.dataSync());
      const sd = s.dataSync() as Float32Array;
      const shuffled = canvas(count, t, 1), restored = canvas(count, t, 1);
      for (let i = 0; i < count; i++) {
        for (let p = 0; p < 9; p++) {
          const so = (i * 9 + p) * t * t;
          paste(shuffled.data, shuffled.side, i, p, sd, so, t, 1);
          paste(restored.data, restored.side, i, perms[lab[i]][p], sd, so, t, 1);
        }
      }
      const side = shuffled.side;
      columns.push(
        tf.clone(x),
        tf.tensor4d(shuffled.data, [count, side, side, 1]),
        tf.tensor4d(restored.data, [count, side, side, 1]),
      );
      tf.dispose([s, l]);
      labels = lab.map((k) => ({ label: k, permutation: perms[k] }));
      text = {
        title: "Jigsaw: label = tile permutation",
        columns: ["image", "shuffled", "put back"],
        rows: lab.map((k) => `perm. ${k}`),
      };
    } else if (name === "colorization") {
      const [l, ab] = m.views(x, seed);
      const colorize = m.colorize as (n: unknown, l: tf.Tensor4D) => tf.Tensor4D;
      columns.push(
        tf.tile(l, [1, 1, 1, 3]) as tf.Tensor4D,
        colorize(setup.nets, l),
        orientationTint(x),
      );
      tf.dispose([l, ab]);
      labels = { columns: ["L input", "prediction (annealed mean)", "truth"] };
      text = {
        title: `Colorization, ${steps} steps (hue = stroke direction)`,
        columns: ["L input", "prediction", "truth"],
      };
    } else if (name === "denoising-autoencoder") {
      const [noisy, clean] = m.views(x, seed);
      const z = nets.encoder.apply(noisy, { training: false }) as tf.Tensor;
      columns.push(
        tf.clipByValue(noisy, 0, 1) as tf.Tensor4D,
        nets.decoder.apply(z, { training: false }) as tf.Tensor4D,
        clean,
      );
      tf.dispose([noisy, z]);
      labels = { columns: ["noisy input", "reconstruction", "clean"] };
      text = {
        title: `Denoising autoencoder, ${steps} steps`,
        columns: ["noisy input", "reconstruction", "clean"],
      };
    } else {
      const sample = m.sample as (n: unknown, k: number, s: number) => tf.Tensor4D;
      for (let k = 0; k < 8; k++) columns.push(sample(setup.nets, count, seed + k));
      labels = { samples: 8 * count };
      text = { title: `DCGAN, ${steps} steps: ${8 * count} samples` };
    }
    const grid = renderGrid(columns, { zoom, separator: name === "gan" ? 0 : 6 });
    if (options.labels ?? true) await Deno.writeFile(out, (await labelGrid(grid, text)).png);
    else {
      await sharp(grid.data, {
        raw: { width: grid.width, height: grid.height, channels: grid.channels as 1 | 3 },
      }).png().toFile(out);
    }
    await Deno.writeTextFile(
      `${out}.json`,
      JSON.stringify({ method: name, steps, labels }, null, 1) + "\n",
    );
  } finally {
    tf.dispose([x, ...columns]);
  }
  return { out, labels };
}

const PRETEXT_USAGE = `Usage: deno task preview --method <task> [options]

Renders a pretext task's inputs and targets as a PNG (labels in <out>.json), after a short
training run for the tasks whose outputs are images.`;

/** Every option of `deno task preview --method <task>`, in `--help` order. */
export const PRETEXT_PREVIEW_OPTIONS: readonly OptionSpec[] = [
  {
    name: "method",
    type: "string",
    choices: PRETEXT_PREVIEW_METHODS,
    description: "the pretext task (required)",
  },
  { name: "out", type: "string", description: "output PNG", defaultText: "<method>.png" },
  { name: "count", type: "integer", description: "rows", default: 8, min: 1 },
  {
    name: "seed",
    type: "integer",
    description: "seed of the images and views",
    default: 0,
    min: 0,
  },
  {
    name: "steps",
    type: "integer",
    description: "training steps first",
    defaultText: "300 for gan, 150 for colorization and denoising-autoencoder, 0 for the others",
    min: 0,
  },
  { name: "zoom", type: "integer", description: "integer pixel upscaling", default: 4, min: 1 },
  {
    name: "backend",
    type: "string",
    choices: ["cpu", "wasm", "webgpu", "native", "tensorflow", "auto"],
    description: "the tfjs backend",
    default: "wasm",
  },
  {
    name: "bare",
    type: "boolean",
    description: "the grid alone: no title, headings or row labels",
  },
  { name: "quiet", type: "boolean", description: "no progress output" },
];

/**
 * The command line of the pretext preview; returns the exit code.
 *
 * @param args command-line arguments (`--method` required)
 * @returns 0 on success, 2 on a bad command line
 *
 * @example
 * ```ts
 * import { pretextPreviewMain } from "./_preview_pretext.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await pretextPreviewMain(["--method", "nope"]), 2);
 * ```
 */
export function pretextPreviewMain(args: string[]): Promise<number> {
  const rest = args.filter((a) => a !== "--");
  return runCommand(rest, PRETEXT_PREVIEW_OPTIONS, PRETEXT_USAGE, async (o) => {
    if (o.method === undefined) {
      throw new UsageError(
        `--method is required: one of ${PRETEXT_PREVIEW_METHODS.join(", ")}`,
      );
    }
    const options: PretextPreviewOptions = {
      method: o.method as PretextPreviewOptions["method"],
      out: o.out as string | undefined,
      count: o.count as number,
      seed: o.seed as number,
      steps: o.steps as number | undefined,
      zoom: o.zoom as number,
      backend: o.backend as BackendName,
      progress: !o.quiet,
      labels: !o.bare,
    };
    // the output folder first: a bad --out must not surface from sharp after the work is done
    if (options.out) {
      await checkOutputFolder(dirname(options.out), "--out", options.out);
      await Deno.mkdir(dirname(options.out), { recursive: true });
    }
    const r = await previewPretext(options);
    console.log(`wrote ${r.out} and ${r.out}.json`);
    return 0;
  });
}
