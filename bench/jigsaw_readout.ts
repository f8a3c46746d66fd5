/**
 * Why jigsaw's linear probe on Fashion-MNIST does not beat its random-init encoder at the table's
 * budget (bench/table/fashion-mnist-views-map.md: 84.8 ± 0.9 vs 84.7 ± 0.6): trains the table's
 * jigsaw row (`runMethodTable`, 1000 steps, one seed) and reads its encoder, and the random-init
 * encoder of the same seed, four ways with the table's linear probe (standardized features,
 * AdamW 1e-2, 10 epochs of 256, 60k train / 10k test): the map before the pooling (the table's
 * Fashion-MNIST read-out) or the pooled features, each on the images as the table feeds them
 * ([0, 1]) or standardized per image (zero mean, unit std, as jigsaw's tiles are in training).
 * Options (JSON): `seed` (0), `steps` (1000), `probeEpochs` (10), `method` (`jigsaw`, or another
 * pretext row: `relative-patch`, `denoising-autoencoder`, `rotation`, `colorization`), `random`
 * (false: skip the random-init read-outs, which do not depend on the method but on its input),
 * `kinds` (`["map", "pooled"]`: the read-outs to run, e.g. `["pooled"]` alone), `train` (false:
 * the random-init read-outs alone, no pretraining), `dataset` (`fashion-mnist`, or `mnist`: the
 * table's MNIST read-out is the pooled one), `limit` (the first `limit` training images and
 * `limit / 6` test images, for a smoke test), `probeSeed` (`seed`: the linear probe's own seed,
 * its head's init and batch order, apart from the encoder's; to tell the read-out's variance
 * from the encoders').
 *
 * Colorization's encoder is read out on what it was trained on and what the table feeds it
 * (`tableEncoderInput`): L / 100 of the orientation-tinted image, not the [0, 1] image; "raw" is
 * then that L input and "per-image" that L input standardized per image, and the random-init
 * encoder (with `random`) is read out on the same L input, so its rows differ from the other
 * methods' random-init rows (which read [0, 1] images, as the table's random init row does).
 *
 * ```sh
 * SELFSUP_THREADS=1 deno run -A bench/jigsaw_readout.ts '{"seed":0}' /tmp/jigsaw_readout.json
 * # cheaper, for a first look: 200 steps, 3 probe epochs
 * SELFSUP_THREADS=1 deno run -A bench/jigsaw_readout.ts '{"steps":200,"probeEpochs":3}' out.json
 * # the same read-outs for the DAE, without the random-init ones
 * SELFSUP_THREADS=1 deno run -A bench/jigsaw_readout.ts '{"method":"denoising-autoencoder","random":false}' dae.json
 * # jigsaw's pooled read-outs only, another seed
 * SELFSUP_THREADS=1 deno run -A bench/jigsaw_readout.ts '{"seed":1,"kinds":["pooled"]}' j1.json
 * # the random-init encoder of seed 2 alone, pooled
 * SELFSUP_THREADS=1 deno run -A bench/jigsaw_readout.ts '{"seed":2,"kinds":["pooled"],"train":false}' r2.json
 * # the same encoder read by a probe of another seed
 * SELFSUP_THREADS=1 deno run -A bench/jigsaw_readout.ts '{"seed":2,"probeSeed":5,"kinds":["pooled"],"train":false}' r2p5.json
 * # a smoke test of the whole path: 600 training and 100 test images, 3 steps, 1 probe epoch
 * SELFSUP_THREADS=1 deno run -A bench/jigsaw_readout.ts '{"steps":3,"probeEpochs":1,"limit":600}' out.json
 * ```
 *
 * @module
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { withSeed } from "../backend/with_seed.ts";
import { fashionMnist, type InMemoryDataset, inMemoryDataset, mnist } from "../data/mod.ts";
import { extractFeatures, linearProbe } from "../eval/mod.ts";
import {
  disposeNets,
  prePoolEncoder,
  runMethodTable,
  tableEncoderInput,
} from "../eval/method_table.ts";
import { createMethod } from "../methods/mod.ts";
import { convNet } from "../models/mod.ts";
import { finishTableBench, startTableBench, timedLog } from "./_table_bench.ts";

/** The pretext rows this bench reads out. */
export const READOUT_METHODS = [
  "jigsaw",
  "relative-patch",
  "denoising-autoencoder",
  "rotation",
  "colorization",
] as const;

/** A pretext row this bench reads out. */
export type ReadoutMethod = (typeof READOUT_METHODS)[number];

/**
 * What `method`'s encoder reads in the table, from `[B, 28, 28, 1]` images in [0, 1]: the images
 * themselves, or for colorization the table's own conversion (`tableEncoderInput` of a
 * colorization built as the table builds it: L / 100 of the orientation-tinted image; the
 * conversion uses neither the weights nor the prior), converted `chunk` images at a time.
 *
 * @param method a pretext row
 * @param images `[N, 28, 28, 1]` in [0, 1]
 * @param chunk images per conversion (the whole set's Lab copies would not fit at once)
 * @returns a new tensor `[N, 28, 28, 1]`
 */
export function readoutInput(
  method: ReadoutMethod,
  images: tf.Tensor4D,
  chunk = 2000,
): tf.Tensor4D {
  if (method !== "colorization") return tf.clone(images);
  const setup = createMethod("colorization", {
    encoder: "convnet",
    seed: 0,
    inputShape: [28, 28, 1],
    widths: [16, 32, 64],
  });
  try {
    const input = tableEncoderInput(setup)!;
    const parts: tf.Tensor4D[] = [];
    for (let i = 0; i < images.shape[0]; i += chunk) {
      const n = Math.min(chunk, images.shape[0] - i);
      parts.push(tf.tidy(() => input(tf.slice(images, [i, 0, 0, 0], [n, -1, -1, -1]))));
    }
    const out = tf.concat(parts, 0) as tf.Tensor4D;
    tf.dispose(parts);
    return out;
  } finally {
    // the nets of the throwaway colorization
    disposeNets(setup.nets);
  }
}

/** The first `n` images of a set (all of them without `n`), for a smoke test. */
export const first = (ds: InMemoryDataset, n: number | undefined): InMemoryDataset => {
  if (n === undefined || n >= ds.length) return ds;
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  return inMemoryDataset(
    ds.name,
    ds.images.slice(0, n * size),
    ds.labels.slice(0, n),
    ds.shape,
    ds.numClasses,
  );
};

/**
 * The encoder's seed (the random init and the pretraining) and the linear probe's (its head's
 * init and batch order): `probeSeed` defaults to `seed`, which defaults to 0.
 *
 * @param opts the bench's options
 * @returns both seeds
 */
export function readoutSeeds(
  opts: { seed?: number; probeSeed?: number },
): { seed: number; probeSeed: number } {
  const seed = opts.seed ?? 0;
  const probeSeed = opts.probeSeed ?? seed;
  for (const [name, v] of [["seed", seed], ["probeSeed", probeSeed]] as const) {
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(
        `Cannot read out: expected ${name} a non-negative integer, received ${v}`,
      );
    }
  }
  return { seed, probeSeed };
}

async function main() {
  const bench = await startTableBench("jigsaw_readout.json");
  const { opts, out } = bench;
  const { seed, probeSeed } = readoutSeeds(opts);
  const steps: number = opts.steps ?? 1000;
  const probeEpochs: number = opts.probeEpochs ?? 10;
  const method: ReadoutMethod = opts.method ?? "jigsaw";
  if (!READOUT_METHODS.includes(method)) {
    throw new RangeError(
      `Cannot read out: expected method among ${READOUT_METHODS.join(", ")}, received "${method}"`,
    );
  }
  const kinds: ("map" | "pooled")[] = opts.kinds ?? ["map", "pooled"];
  if (!kinds.length || kinds.some((k) => k !== "map" && k !== "pooled")) {
    throw new RangeError(
      `Cannot read out: expected kinds among map, pooled, received ${JSON.stringify(kinds)}`,
    );
  }
  if (opts.train === false && opts.random === false) {
    throw new RangeError("Cannot read out: train and random both false leave nothing to read");
  }
  const dataset: "fashion-mnist" | "mnist" = opts.dataset ?? "fashion-mnist";
  if (dataset !== "fashion-mnist" && dataset !== "mnist") {
    throw new RangeError(
      `Cannot read out: expected dataset fashion-mnist or mnist, received "${dataset}"`,
    );
  }
  const load = dataset === "mnist" ? mnist : fashionMnist;
  const limit: number | undefined = opts.limit;
  const [trainSet, testSet] = await Promise.all([
    load("train").then((ds) => first(ds, limit)),
    load("test").then((ds) => first(ds, limit === undefined ? undefined : Math.ceil(limit / 6))),
  ]);
  // the encoder's input as the table feeds it (colorization: L / 100), then per image standardized
  const images = (ds: typeof trainSet) => {
    const x = tf.tidy(() =>
      tf.div(tf.tensor4d(ds.images, [ds.length, 28, 28, 1], "int32"), 255) as tf.Tensor4D
    );
    const input = readoutInput(method, x);
    x.dispose();
    return input;
  };
  const train = { images: images(trainSet), labels: Array.from(trainSet.labels) };
  const test = { images: images(testSet), labels: Array.from(testSet.labels) };
  const perImage = (x: tf.Tensor4D) =>
    tf.tidy(() => {
      const { mean, variance } = tf.moments(x, [1, 2, 3], true);
      return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor4D;
    });
  const standardized = { train: perImage(train.images), test: perImage(test.images) };

  /** The table's linear probe on one read-out of `encoder`. */
  async function probe(
    encoder: tfl.LayersModel,
    kind: "map" | "pooled",
    input: "raw" | "per-image",
  ): Promise<number> {
    const model = kind === "map" ? prePoolEncoder(encoder) : encoder;
    const pool = kind === "map" ? "flatten" : "mean";
    const [xa, xb] = input === "raw"
      ? [train.images, test.images]
      : [standardized.train, standardized.test];
    const fa = await extractFeatures(model, xa, { batchSize: 500, pool }) as tf.Tensor2D;
    const fb = await extractFeatures(model, xb, { batchSize: 500, pool }) as tf.Tensor2D;
    const [a, b] = tf.tidy(() => {
      const { mean, variance } = tf.moments(fa, 0);
      const sd = tf.sqrt(tf.add(variance, 1e-6));
      return [tf.div(tf.sub(fa, mean), sd), tf.div(tf.sub(fb, mean), sd)];
    });
    const r = await linearProbe(
      { features: a, labels: train.labels },
      { features: b, labels: test.labels },
      { lr: 1e-2, epochs: probeEpochs, batchSize: 256, seed: probeSeed, numClasses: 10 },
    );
    r.head.dispose();
    tf.dispose([fa, fb, a, b]);
    return r.accuracy;
  }

  const readouts: Record<string, Record<string, number>> = {};
  async function readAll(name: string, encoder: tfl.LayersModel) {
    readouts[name] = {};
    for (const kind of kinds) {
      for (const input of ["raw", "per-image"] as const) {
        const acc = await probe(encoder, kind, input);
        readouts[name][`${kind} ${input}`] = acc;
        timedLog(
          `${name}: linear probe on ${kind} features of ${input} ${
            method === "colorization" ? "L inputs" : "images"
          } ${(100 * acc).toFixed(1)}%`,
        );
        await Deno.writeTextFile(
          `${out}.readouts.json`,
          JSON.stringify({ opts, readouts }, null, 1),
        );
      }
    }
  }

  if (opts.random !== false) {
    const random = withSeed(
      seed,
      () => convNet({ inputShape: [28, 28, 1], widths: [16, 32, 64] }),
    );
    await readAll("random init", random);
    random.dispose();
  }

  const rows = opts.train === false ? [] : await runMethodTable({
    datasets: [dataset],
    methods: [method],
    steps,
    seeds: [seed],
    probeEpochs,
    skipBaselines: true,
    log: timedLog,
    loadDataset: (_d, split) => Promise.resolve(split === "train" ? trainSet : testSet),
    onEncoder: (encoder) => readAll(method, encoder),
  });
  await finishTableBench({ ...bench, opts: { ...opts, readouts } }, rows);
  console.log(JSON.stringify(readouts));
  tf.dispose([train.images, test.images, standardized.train, standardized.test]);
}

if (import.meta.main) await main();
