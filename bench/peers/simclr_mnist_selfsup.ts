/**
 * selfsup's side of the learning-gap investigation (bench/RESULTS.md, "Learning gap: selfsup vs
 * a PyTorch twin"): the default `deno task pretrain` recipe (SimCLR, MNIST, ConvNet 16-32-64,
 * head 64-64-128, NT-Xent tau 0.5, SGD lr 0.06 momentum 0.8 wd 5e-4, 5% warm-up then cosine,
 * batch 64, mnistAugment, 300 steps) with switches that undo or apply one candidate cause at a
 * time, so each candidate's effect is measured against the PyTorch twin
 * (bench/peers/simclr_mnist_twin.py) on the same kNN monitor.
 *
 * ```sh
 * deno run -A bench/peers/simclr_mnist_selfsup.ts --seed 0                # the library as it is
 * deno run -A bench/peers/simclr_mnist_selfsup.ts --seed 0 --init keras   # the old initializers
 * deno run -A bench/peers/simclr_mnist_selfsup.ts --bn-views separate     # one BN batch per view
 * deno run -A bench/peers/simclr_mnist_selfsup.ts --save-views views.png  # 16 images, two views
 * ```
 *
 * Prints one JSON line per evaluation and a JSON summary (`--out` writes it to a file).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { tf } from "../../backend/tf.ts";
import { useBackend } from "../../backend/use_backend.ts";
import { withSeed } from "../../backend/with_seed.ts";
import { createMethod } from "../../methods/mod.ts";
import type { SimclrNets } from "../../methods/simclr.ts";
import { imagesOf, Loader, mnist, saveImageGrid } from "../../data/mod.ts";
import { mnistAugment } from "../../augment/mod.ts";
import { knnMonitor, train, type TrainOptions } from "../../train/mod.ts";
import { knnAccuracy } from "../../eval/mod.ts";
import { ntXent } from "../../losses/mod.ts";
import { simclrHead } from "../../models/mod.ts";

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    seed: { type: "string", default: "0" },
    steps: { type: "string", default: "300" },
    "batch-size": { type: "string", default: "64" },
    lr: { type: "string", default: "0.06" },
    temperature: { type: "string", default: "0.5" },
    // keep: the library's initializers; keras: tfjs-layers' (conv he-normal, dense glorot-uniform,
    // zero bias: selfsup before the fix); torch: PyTorch's kaiming-uniform(a = sqrt 5) + bias;
    // torch-conv / torch-dense: PyTorch's for the convolutions / dense layers only
    init: { type: "string", default: "keep" },
    // keep: the method's step; shared: one BN batch of 2N views; separate: one per view
    "bn-views": { type: "string", default: "keep" },
    // keep: the library's SimCLR head; plain: Dense -> ReLU -> Dense (biases); bn: with BatchNorm
    head: { type: "string", default: "keep" },
    "save-views": { type: "string" },
    "view-stats": { type: "boolean", default: false },
    "eval-every": { type: "string", default: "0" },
    out: { type: "string" },
  },
});
const seed = Number(a.seed), steps = Number(a.steps), batchSize = Number(a["batch-size"]);
const backend = await useBackend(undefined, { quiet: true });
const [train60k, test10k] = await Promise.all([mnist("train"), mnist("test")]);
const augment = mnistAugment();

const bank = imagesOf(train60k, 2000), queries = imagesOf(test10k, 1000);

if (a["save-views"]) {
  const x = tf.slice(bank.images, [0, 0, 0, 0], [16, -1, -1, -1]) as tf.Tensor4D;
  const v1 = augment(x, seed * 2 + 1), v2 = augment(x, seed * 2 + 2);
  const grid = tf.concat([x, v1, v2]);
  await saveImageGrid(grid.dataSync() as Float32Array, [48, 28, 28, 1], a["save-views"], {
    columns: 16,
  });
  tf.dispose([x, v1, v2, grid]);
}

if (a["view-stats"]) {
  // the twin's --view-stats figures: cosine view-view, view-image, mean pixel over 1024 images
  const cos = (u: tf.Tensor, v: tf.Tensor) =>
    tf.tidy(() => {
      const [n] = u.shape;
      const uu = tf.reshape(u, [n, -1]), vv = tf.reshape(v, [n, -1]);
      const dot = tf.sum(tf.mul(uu, vv), 1);
      return tf.mean(tf.div(dot, tf.mul(tf.norm(uu, 2, 1), tf.norm(vv, 2, 1)))).dataSync()[0];
    });
  const pairs: number[] = [], orig: number[] = [], mean: number[] = [];
  const x1024 = imagesOf(train60k, 1024).images;
  for (let i = 0; i < 1024; i += 64) {
    const b = tf.slice(x1024, [i, 0, 0, 0], [64, -1, -1, -1]) as tf.Tensor4D;
    const [v1, v2] = [augment(b, 2 * i + 1), augment(b, 2 * i + 2)];
    pairs.push(cos(v1, v2));
    orig.push(cos(v1, b));
    mean.push(tf.mean(v1).dataSync()[0]);
    tf.dispose([b, v1, v2]);
  }
  const avg = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  console.log(JSON.stringify({
    cosViewView: avg(pairs),
    cosViewImage: avg(orig),
    meanPixel: avg(mean),
    meanPixelImages: tf.mean(x1024).dataSync()[0],
  }));
  Deno.exit(0);
}

const setup = createMethod("simclr", {
  encoder: "convnet",
  inputShape: [28, 28, 1],
  seed,
  augment,
  widths: [16, 32, 64],
  temperature: Number(a.temperature),
});
const nets = setup.nets as SimclrNets;
if (a.head !== "keep") {
  if (a.head !== "plain" && a.head !== "bn") throw new RangeError(`--head ${a.head}?`);
  nets.head.dispose();
  nets.head = withSeed(seed + 2000, () => simclrHead(64, { batchNorm: a.head === "bn" }));
}

/** Re-draws every kernel and bias of the nets with the named scheme. */
function reinitialize(scheme: string): void {
  if (scheme === "keep") return;
  if (!["keras", "torch", "torch-conv", "torch-dense"].includes(scheme)) {
    throw new RangeError(`--init ${scheme}?`);
  }
  withSeed(seed + 1000, () => {
    for (const net of [nets.encoder, nets.head]) {
      for (const layer of net.layers) {
        type Var = { shape: number[]; write(t: tf.Tensor): void };
        const l = layer as unknown as { kernel?: Var; bias?: Var };
        if (!l.kernel) continue;
        const shape = l.kernel.shape;
        const rf = shape.length === 4 ? shape[0] * shape[1] : 1;
        const fanIn = shape[shape.length - 2] * rf, fanOut = shape[shape.length - 1] * rf;
        const conv = shape.length === 4;
        if ((scheme === "torch-conv" && !conv) || (scheme === "torch-dense" && conv)) continue;
        const init = scheme.startsWith("torch")
          ? tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn))
          : conv
          ? tf.truncatedNormal(shape, 0, Math.sqrt(2 / fanIn)) // tfjs heNormal
          : tf.randomUniform(
            shape,
            -Math.sqrt(6 / (fanIn + fanOut)),
            Math.sqrt(6 / (fanIn + fanOut)),
          );
        l.kernel.write(init);
        if (l.bias) {
          l.bias.write(
            scheme.startsWith("torch")
              ? tf.randomUniform(l.bias.shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn))
              : tf.zeros(l.bias.shape),
          );
        }
      }
    }
  });
}
reinitialize(a.init!);

const method = { ...setup.method };
if (a["bn-views"] !== "keep") {
  const shared = a["bn-views"] === "shared";
  method.step = (n, views, state) => ({
    metrics: {},
    state,
    loss: tf.tidy(() => {
      const net = n as SimclrNets;
      const run = (x: tf.Tensor) =>
        net.head.apply(net.encoder.apply(x, { training: true }), { training: true }) as tf.Tensor2D;
      const b = views[0].shape[0];
      let z1: tf.Tensor2D, z2: tf.Tensor2D;
      if (shared) {
        const z = run(tf.concat(views, 0));
        z1 = tf.slice(z, [0, 0], [b, -1]);
        z2 = tf.slice(z, [b, 0], [b, -1]);
      } else {
        z1 = run(views[0]);
        z2 = run(views[1]);
      }
      return ntXent(z1, z2, { temperature: Number(a.temperature) });
    }),
  });
}

const monitor = knnMonitor(setup.encoder, {
  trainImages: bank.images,
  trainLabels: bank.labels,
  testImages: queries.images,
  testLabels: queries.labels,
}, { k: 200 });
const stepsPerEpoch = Math.floor(train60k.length / batchSize);
const options: TrainOptions<unknown> = {
  steps,
  stepsPerEpoch,
  optimizer: "sgd",
  lr: Number(a.lr),
  schedule: "cosine",
  warmupSteps: Math.round(0.05 * steps),
  weightDecay: 5e-4,
  seed,
  progress: false,
  evaluateAtStart: true,
  evaluateEvery: Number(a["eval-every"]) || steps,
  evaluate: async () => {
    const r = await monitor();
    console.log(JSON.stringify(r));
    return r;
  },
};
const t0 = performance.now();
const result = await train(
  { method, nets, state: setup.state } as unknown as Parameters<typeof train>[0],
  () => new Loader(train60k, { batchSize, seed, epochs: Infinity }),
  options,
);
const seconds = (performance.now() - t0) / 1000;
const raw = knnAccuracy(
  tf.reshape(bank.images, [2000, -1]),
  bank.labels,
  tf.reshape(queries.images, [1000, -1]),
  queries.labels,
  { k: 200, temperature: 0.1 },
);
const summary = {
  peer: "selfsup",
  backend,
  seed,
  steps,
  init: a.init,
  bnViews: a["bn-views"],
  head: a.head,
  temperature: Number(a.temperature),
  finalLoss: result.history.at(-1)?.loss,
  knnTop1: result.evaluations.at(-1)?.knnTop1,
  knnTop1RandomInit: result.evaluations[0]?.knnTop1,
  knnTop1RawPixels: raw,
  trainSeconds: seconds,
};
console.log(JSON.stringify(summary));
if (a.out) await Deno.writeTextFile(a.out, JSON.stringify(summary, null, 2) + "\n");
