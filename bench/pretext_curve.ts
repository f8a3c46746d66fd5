/**
 * Issue 14's open question on Fashion-MNIST: why relative patch, jigsaw, the DAE and colorization
 * do not beat the random-init encoder at the method table's budget. Trains one pretext row as the
 * table does (`runMethodTable`, one seed, 1000 steps of 64 by default) and reads its encoder along
 * the way (`duringTraining`) with the table's linear probe (standardized features, AdamW 1e-2, 10
 * epochs of 256, 60k train / 10k test) at the steps in `at` (0 = the row's random init): on the map
 * before the pooling (the table's Fashion-MNIST read-out) and on the 64 pooled features (the mean
 * of the same map over its 4 x 4 positions, the encoder's global average pooling; MNIST's
 * read-out). Beside each point: the pretext task's own training accuracy (`top1`, the mean over
 * the 50 steps before it, each batch's before its update: the batches of the first epoch are
 * unseen, so this is close to a held-out accuracy) and loss, from the row's curve. The table's own
 * score of the end encoder is kept as a check (its linear probe equals the last point's map probe
 * when `at` holds the last step).
 *
 * Options (JSON): `method` (`relative-patch`, or `jigsaw`, `denoising-autoencoder`, `rotation`,
 * `colorization`: read on its L input, as the table does), `seed` (0), `steps` (1000), `at`
 * (`[0, 250, 500, 1000]`: every entry a multiple of `every` or the last step), `every` (250),
 * `probeEpochs` (10), `dataset` (`fashion-mnist` or `mnist`), `limit` (the first `limit` training
 * and `limit / 6` test images, for a smoke test or a cheaper colorization run), `blocks` (false:
 * also probe the pooled output of each block but the last, the ReLU after each stride-2 conv,
 * 14 x 14 x 16 and 7 x 7 x 32 on 28 px images; the last block's is `pooled`), to see at which
 * depth training adds or removes what the probe reads.
 *
 * ```sh
 * SELFSUP_THREADS=1 deno run -A bench/pretext_curve.ts '{"method":"jigsaw","seed":0}' /tmp/jigsaw_curve.json
 * # smoke test: 600 / 100 images, 4 steps, read at 0, 2, 4
 * SELFSUP_THREADS=1 deno run -A bench/pretext_curve.ts '{"steps":4,"every":2,"at":[0,2,4],"probeEpochs":1,"limit":600}' out.json
 * ```
 *
 * @module
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { fashionMnist, type InMemoryDataset, mnist } from "../data/mod.ts";
import { extractFeatures, linearProbe } from "../eval/mod.ts";
import { prePoolEncoder, runMethodTable } from "../eval/method_table.ts";
import { first, READOUT_METHODS, readoutInput, type ReadoutMethod } from "./jigsaw_readout.ts";
import { finishTableBench, startTableBench, timedLog } from "./_table_bench.ts";

/**
 * The map before the pooling, `[N, H * W * C]` (flattened in that order), and its mean over the
 * `H * W` positions, `[N, C]`: what the encoder's global average pooling outputs.
 *
 * @param map the flattened map
 * @param channels C
 * @returns a new tensor `[N, C]`
 */
export function poolMap(map: tf.Tensor2D, channels: number): tf.Tensor2D {
  return tf.tidy(() => tf.mean(tf.reshape(map, [map.shape[0], -1, channels]), 1) as tf.Tensor2D);
}

/**
 * One model per block of a ConvNet encoder (`convNet`: conv, conv stride 2, each with BatchNorm
 * and ReLU): from the encoder's input to the ReLU after the block's stride-2 conv, the block's
 * output map `[B, H, W, C]`. The last one's mean over positions is the encoder's output.
 *
 * @param encoder a ConvNet encoder
 * @returns one model per block, shallowest first
 */
export function blockModels(encoder: tfl.LayersModel): tfl.LayersModel[] {
  const models: tfl.LayersModel[] = [];
  let afterStride2 = false;
  for (const layer of encoder.layers) {
    const name = layer.getClassName();
    if (name === "Conv2D") {
      const strides = (layer.getConfig() as { strides: number[] }).strides;
      afterStride2 = strides[0] === 2;
    } else if (name === "ReLU" && afterStride2) {
      models.push(
        tfl.model({ inputs: encoder.inputs, outputs: layer.output as tfl.SymbolicTensor }),
      );
      afterStride2 = false;
    }
  }
  if (!models.length) {
    throw new TypeError("Cannot take the blocks: no ReLU after a stride-2 conv in the encoder");
  }
  return models;
}

/**
 * How far each kernel moved from its value at init, relative to that value: `|W - W0| / |W0|`
 * (Frobenius norms), one figure per kernel.
 *
 * @param init the kernels at init
 * @param now the same kernels now, in the same order
 * @returns one ratio per kernel
 */
export function kernelDrift(init: readonly tf.Tensor[], now: readonly tf.Tensor[]): number[] {
  if (init.length !== now.length) {
    throw new RangeError(
      `Cannot measure drift: expected ${init.length} kernels, received ${now.length}`,
    );
  }
  return init.map((w0, i) =>
    tf.tidy(() => tf.div(tf.norm(tf.sub(now[i], w0)), tf.norm(w0)).dataSync()[0])
  );
}

/** The table's linear probe: features standardized by the training features' statistics. */
async function tableProbe(
  fa: tf.Tensor2D,
  fb: tf.Tensor2D,
  labels: { train: number[]; test: number[] },
  epochs: number,
  seed: number,
): Promise<number> {
  const [a, b] = tf.tidy(() => {
    const { mean, variance } = tf.moments(fa, 0);
    const sd = tf.sqrt(tf.add(variance, 1e-6));
    return [tf.div(tf.sub(fa, mean), sd), tf.div(tf.sub(fb, mean), sd)];
  });
  try {
    const r = await linearProbe(
      { features: a, labels: labels.train },
      { features: b, labels: labels.test },
      { lr: 1e-2, epochs, batchSize: 256, seed, numClasses: 10 },
    );
    r.head.dispose();
    return r.accuracy;
  } finally {
    tf.dispose([a, b]);
  }
}

async function main() {
  const bench = await startTableBench("pretext_curve.json");
  const { opts, out } = bench;
  const seed: number = opts.seed ?? 0;
  const steps: number = opts.steps ?? 1000;
  const every: number = opts.every ?? 250;
  const at: number[] = opts.at ?? [0, 250, 500, 1000];
  const probeEpochs: number = opts.probeEpochs ?? 10;
  const blocks: boolean = opts.blocks ?? false;
  const method: ReadoutMethod = opts.method ?? "relative-patch";
  if (!READOUT_METHODS.includes(method)) {
    throw new RangeError(
      `Cannot read along training: expected method among ${
        READOUT_METHODS.join(", ")
      }, received "${method}"`,
    );
  }
  const unreached = at.filter((s) => s !== steps && s % every !== 0 || s > steps);
  if (unreached.length) {
    throw new RangeError(
      `Cannot read along training: steps ${
        unreached.join(", ")
      } are not read (every ${every}, last ${steps})`,
    );
  }
  const dataset: "fashion-mnist" | "mnist" = opts.dataset ?? "fashion-mnist";
  const load = dataset === "mnist" ? mnist : fashionMnist;
  const limit: number | undefined = opts.limit;
  const [trainSet, testSet] = await Promise.all([
    load("train").then((ds) => first(ds, limit)),
    load("test").then((ds) => first(ds, limit === undefined ? undefined : Math.ceil(limit / 6))),
  ]);
  // the encoder's input as the table feeds it (colorization: L / 100), converted once
  const input = (ds: InMemoryDataset) => {
    const x = tf.tidy(() =>
      tf.div(tf.tensor4d(ds.images, [ds.length, 28, 28, 1], "int32"), 255) as tf.Tensor4D
    );
    const converted = readoutInput(method, x);
    x.dispose();
    return converted;
  };
  const train = input(trainSet), test = input(testSet);
  const labels = { train: Array.from(trainSet.labels), test: Array.from(testSet.labels) };

  const points: {
    step: number;
    map: number;
    pooled: number;
    /** pooled output of each block but the last (with `blocks`) */
    blocks?: number[];
    drift: number[];
    seconds: number;
  }[] = [];
  // the conv kernels at step 0, to measure how far training moves each from its random init
  let init: tf.Tensor[] = [];
  const kernels = (encoder: tfl.LayersModel) => encoder.getWeights().filter((w) => w.rank === 4);
  async function read(encoder: tfl.LayersModel, step: number) {
    if (step === 0) init = kernels(encoder).map((w) => tf.clone(w));
    if (!at.includes(step)) return;
    const drift = kernelDrift(init, kernels(encoder));
    const t0 = performance.now();
    const model = prePoolEncoder(encoder);
    const channels = encoder.outputs[0].shape.at(-1)!;
    const [ma, mb] = [
      await extractFeatures(model, train, { batchSize: 500, pool: "flatten" }) as tf.Tensor2D,
      await extractFeatures(model, test, { batchSize: 500, pool: "flatten" }) as tf.Tensor2D,
    ];
    const [pa, pb] = [poolMap(ma, channels), poolMap(mb, channels)];
    try {
      const map = await tableProbe(ma, mb, labels, probeEpochs, seed);
      const pooled = await tableProbe(pa, pb, labels, probeEpochs, seed);
      const perBlock: number[] = [];
      if (blocks) {
        for (const block of blockModels(encoder).slice(0, -1)) {
          const ba = await extractFeatures(block, train, { batchSize: 500, pool: "mean" });
          const bb = await extractFeatures(block, test, { batchSize: 500, pool: "mean" });
          try {
            perBlock.push(
              await tableProbe(ba as tf.Tensor2D, bb as tf.Tensor2D, labels, probeEpochs, seed),
            );
          } finally {
            tf.dispose([ba, bb]);
          }
        }
      }
      points.push({
        step,
        map,
        pooled,
        ...(blocks ? { blocks: perBlock } : {}),
        drift,
        seconds: (performance.now() - t0) / 1000,
      });
      timedLog(
        `${method} seed ${seed} step ${step}: linear probe map ${(100 * map).toFixed(1)}% pooled ${
          (100 * pooled).toFixed(1)
        }%${
          blocks ? `, blocks' pooled ${perBlock.map((b) => (100 * b).toFixed(1)).join(" / ")}%` : ""
        }, conv kernels moved ${drift.map((d) => d.toFixed(2)).join(" / ")} of their init's norm`,
      );
      if (step === 0) {
        // the pooled features from the map equal the encoder's own output
        const own = await extractFeatures(encoder, test, { batchSize: 500 }) as tf.Tensor2D;
        const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(own, pb))).dataSync()[0]);
        own.dispose();
        timedLog(`pooled from the map vs the encoder's output: max |diff| ${gap.toExponential(1)}`);
        if (gap > 1e-4) throw new Error(`pooled map differs from the encoder's output by ${gap}`);
      }
      await Deno.writeTextFile(`${out}.points.json`, JSON.stringify({ opts, points }, null, 1));
    } finally {
      tf.dispose([ma, mb, pa, pb]);
    }
  }

  const rows = await runMethodTable({
    datasets: [dataset],
    methods: [method],
    steps,
    seeds: [seed],
    probeEpochs,
    skipBaselines: true,
    log: timedLog,
    loadDataset: (_d, split) => Promise.resolve(split === "train" ? trainSet : testSet),
    duringTraining: { every, atStart: true, read: (encoder, info) => read(encoder, info.step) },
  });
  const curve = rows[0]?.curves?.[0] ?? [];
  // the pretext task's accuracy and loss over the 50 steps before each point (none at step 0)
  const table = points.map((p) => {
    const c = curve.find((q) => q.step === p.step);
    return { ...p, top1: c?.top1 ?? null, loss: c?.loss ?? null };
  });
  await finishTableBench({ ...bench, opts: { ...opts, points: table, curve } }, rows);
  for (const p of table) {
    console.log(
      `step ${p.step}: map ${(100 * p.map).toFixed(1)} pooled ${(100 * p.pooled).toFixed(1)}${
        p.blocks ? ` blocks ${p.blocks.map((b) => (100 * b).toFixed(1)).join("/")}` : ""
      } top1 ${p.top1 === null ? "-" : (100 * p.top1).toFixed(1)} loss ${
        p.loss === null ? "-" : p.loss.toFixed(3)
      } drift ${p.drift.map((d) => d.toFixed(2)).join("/")}`,
    );
  }
  console.log(
    "curve:",
    curve.map((q) =>
      `${q.step}:${q.loss.toFixed(3)}${q.top1 === undefined ? "" : `/${(100 * q.top1).toFixed(0)}`}`
    ).join(" "),
  );
  tf.dispose([train, test, ...init]);
}

if (import.meta.main) await main();
