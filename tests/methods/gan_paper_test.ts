/**
 * DCGAN's recipe in `gan` (Radford et al. 2015, arXiv:1511.06434, Sec. 3-4), one fix per test:
 * the discriminator's layers, N(0, 0.02) weights, the generator's stride-2 output layer, the
 * generator update without the real batch, and the recipe's numbers.
 */
import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { withSeed } from "../../backend/with_seed.ts";
import { DCGAN_RECIPE, gan } from "../../methods/gan.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

const small = {
  encoder: "convnet" as const,
  inputShape: [8, 8, 1] as [number, number, number],
  seed: 0,
  zDim: 8,
  generatorWidths: [4],
  discriminatorWidths: [4, 8],
};

/** The kernels (not biases, not BatchNorm) of a model, flattened. */
function kernels(model: tfl.LayersModel): Float32Array[] {
  return model.layers.flatMap((l) =>
    ["Dense", "Conv2D", "Conv2DTranspose"].includes(l.getClassName())
      ? [l.getWeights()[0].dataSync() as Float32Array]
      : []
  );
}

function meanStd(v: ArrayLike<number>): [number, number] {
  let s = 0, q = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  const m = s / v.length;
  for (let i = 0; i < v.length; i++) q += (v[i] - m) ** 2;
  return [m, Math.sqrt(q / v.length)];
}

Deno.test("gan's discriminator is DCGAN's: strided convs, LeakyReLU 0.2, BatchNorm on all but the input layer, flattened", () => {
  const { nets, encoder } = withSeed(0, () => gan(small));
  assert.equal(encoder, nets.encoder);
  const layers = nets.encoder.layers.map((l) => l.getClassName());
  assert.deepEqual(layers, [
    "InputLayer",
    "Conv2D",
    "LeakyReLU",
    "Conv2D",
    "BatchNormalization",
    "LeakyReLU",
    "Flatten",
  ]);
  for (const l of nets.encoder.layers) {
    const c = l.getConfig() as { strides?: number[]; alpha?: number };
    if (l.getClassName() === "Conv2D") assert.deepEqual(c.strides, [2, 2], l.name);
    if (l.getClassName() === "LeakyReLU") assert.equal(c.alpha, 0.2, l.name);
  }
  assert.deepEqual(nets.encoder.outputs[0].shape, [null, 2 * 2 * 8]);
  // `discriminator: "encoder"` keeps the given encoder (the library's convnet) as D's trunk
  const own = withSeed(0, () => gan({ ...small, discriminator: "encoder", widths: [4] }));
  assert.equal(own.nets.encoder.name.startsWith("convnet"), true, own.nets.encoder.name);
  assert.throws(
    () => gan({ ...small, discriminator: "wgan" as never }),
    /expected discriminator "dcgan" or "encoder", received wgan/,
  );
});

Deno.test("gan draws every weight from N(0, 0.02) and BatchNorm scales from N(1, 0.02)", () => {
  const { nets } = withSeed(
    0,
    () =>
      gan({
        ...small,
        inputShape: [16, 16, 1],
        zDim: 64,
        generatorWidths: [32, 16],
        discriminatorWidths: [16, 32],
      }),
  );
  const all = [nets.encoder, nets.critic, nets.generator].flatMap(kernels);
  const flat = Float32Array.from(all.flatMap((k) => Array.from(k)));
  assert.ok(flat.length > 20000, `${flat.length} weights`);
  const [m, s] = meanStd(flat);
  assert.ok(Math.abs(m) < 0.001, `kernel mean ${m}`);
  assert.ok(Math.abs(s - 0.02) < 0.0005, `kernel std ${s} (DCGAN: 0.02)`);
  // each net on its own too (a default initializer in one of them would hide in the pool)
  for (const k of all.filter((k) => k.length >= 1000)) {
    const [, sk] = meanStd(k);
    assert.ok(Math.abs(sk - 0.02) < 0.002, `kernel of ${k.length}: std ${sk}`);
  }
  const gammas = [nets.encoder, nets.generator].flatMap((net) =>
    net.layers.filter((l) => l.getClassName() === "BatchNormalization").flatMap((l) =>
      Array.from(l.getWeights()[0].dataSync())
    )
  );
  const [gm, gs] = meanStd(gammas);
  assert.ok(Math.abs(gm - 1) < 0.005 && Math.abs(gs - 0.02) < 0.005, `gamma ${gm} +- ${gs}`);
});

Deno.test("gan's generator ends in a stride-2 transposed conv with tanh: G(z) in [-1, 1], samples in [0, 1]", () => {
  const { nets, method } = withSeed(0, () => gan(small));
  const convs = nets.generator.layers.filter((l) => l.getClassName() === "Conv2DTranspose");
  const last = convs[convs.length - 1].getConfig() as { strides: number[]; activation: string };
  assert.deepEqual([last.strides, last.activation], [[2, 2], "tanh"]);
  assert.equal(convs[convs.length - 1], nets.generator.layers[nets.generator.layers.length - 1]);
  // large z pushes tanh to its ends: the raw output spans beyond [0, 1] on both sides
  const g = nets.generator.predict(tf.mul(tf.randomUniform([64, 8], -1, 1, "float32", 3), 1e3));
  const [lo, hi] = [tf.min(g as tf.Tensor).dataSync()[0], tf.max(g as tf.Tensor).dataSync()[0]];
  assert.ok(lo >= -1 && lo < -0.5 && hi <= 1 && hi > 0.5, `G(z) in [${lo}, ${hi}]`);
  const s = method.sample(nets, 64, 0);
  const [slo, shi] = [tf.min(s).dataSync()[0], tf.max(s).dataSync()[0]];
  assert.ok(slo >= 0 && shi <= 1, `samples in [${slo}, ${shi}]`);
  tf.dispose([g as tf.Tensor, s]);
});

Deno.test("gan's generator step does not run D on the real batch (its BatchNorm statistics see fakes only)", () => {
  const setup = withSeed(0, () => gan(small));
  const { method, nets, state } = setup;
  const before = nets.encoder.getWeights().map((w) => tf.clone(w));
  const z = method.views(tf.zeros([16, 8, 8, 1]), 5)[1];
  const after = (real: tf.Tensor4D) => {
    nets.encoder.setWeights(before);
    const r = method.step(nets, [real, z], state, { progress: 0, step: 1, epoch: 0 });
    const loss = r.loss.dataSync()[0];
    tf.dispose([r.loss, ...Object.values(r.metrics)]);
    return { loss, weights: nets.encoder.getWeights().map((w) => Array.from(w.dataSync())) };
  };
  const black = tf.zeros([16, 8, 8, 1]) as tf.Tensor4D;
  const white = tf.ones([16, 8, 8, 1]) as tf.Tensor4D;
  const [a, b] = [after(black), after(white)];
  assert.equal(a.loss, b.loss);
  assert.deepEqual(a.weights, b.weights); // moving mean/variance included
  // the discriminator's step does use it (and updates the running statistics with it)
  nets.encoder.setWeights(before);
  const d = (real: tf.Tensor4D) => {
    const r = method.step(nets, [real, z], state, { progress: 0, step: 0, epoch: 0 });
    const v = r.loss.dataSync()[0];
    tf.dispose([r.loss, ...Object.values(r.metrics)]);
    return v;
  };
  assert.notEqual(d(black), d(white));
  tf.dispose([...before, z, black, white]);
});

Deno.test("DCGAN_RECIPE: Adam 2e-4, beta1 0.5, batch 128, no decay, no schedule (Radford et al. 2015, Sec. 4)", () => {
  assert.deepEqual(
    [
      DCGAN_RECIPE.optimizer,
      DCGAN_RECIPE.lr,
      DCGAN_RECIPE.beta1,
      DCGAN_RECIPE.beta2,
      DCGAN_RECIPE.weightDecay,
      DCGAN_RECIPE.batchSize,
      DCGAN_RECIPE.schedule,
      DCGAN_RECIPE.warmupFraction,
      DCGAN_RECIPE.lrScaling,
      DCGAN_RECIPE.initStd,
      DCGAN_RECIPE.leakySlope,
      DCGAN_RECIPE.zDim,
      DCGAN_RECIPE.discriminator,
    ],
    ["adamw", 2e-4, 0.5, 0.999, 0, 128, "constant", 0, "none", 0.02, 0.2, 100, "dcgan"],
  );
});

Deno.test("the loop's adamw takes a recipe's betas (adamBetas): DCGAN's beta1 0.5 steps otherwise than 0.9", async () => {
  const { train } = await import("../../train/mod.ts");
  const { TOY_TRAIN_BASE, toyLoaderFactory, toyMethod, toyNets, toyState } = await import(
    "../train/_toy.ts"
  );
  const before = tf.memory().numTensors;
  const method = toyMethod(); // keeps its one target tensor for good
  const run = async (adamBetas?: [number, number]) => {
    const nets = toyNets();
    const r = await train(
      { method, nets, state: toyState() },
      toyLoaderFactory(),
      {
        ...TOY_TRAIN_BASE,
        stepsPerEpoch: 4,
        steps: 4,
        optimizer: "adamw",
        weightDecay: 0,
        ...(adamBetas ? { adamBetas } : {}),
      },
    );
    const w = nets.net.getWeights().map((t) => Array.from(t.dataSync()));
    tf.dispose([r.state.queue, r.state.ema]);
    nets.net.dispose();
    return w.flat();
  };
  const plain = await run();
  const paper = await run([0.9, 0.999]); // Adam's defaults: the same run
  const dcgan = await run([DCGAN_RECIPE.beta1, DCGAN_RECIPE.beta2]);
  assert.deepEqual(paper, plain);
  const moved = dcgan.reduce((m, v, i) => Math.max(m, Math.abs(v - plain[i])), 0);
  assert.ok(moved > 1e-4, `beta1 0.5 changed the weights by at most ${moved}`);
  assert.equal(tf.memory().numTensors, before + 1); // the toy's target
});

Deno.test("gan's generator normalizes its projection per channel after the reshape (dcgan.torch), not per unit", () => {
  const { nets } = withSeed(0, () => gan({ ...small, generatorWidths: [6, 4] }));
  const g = nets.generator;
  const names = g.layers.map((l) => l.getClassName());
  assert.deepEqual(names.slice(0, 5), [
    "InputLayer",
    "Dense",
    "Reshape",
    "BatchNormalization",
    "ReLU",
  ]);
  const bn = g.layers[3];
  assert.deepEqual(bn.getWeights().map((w) => w.shape), [[6], [6], [6], [6]]);
  // in training mode the normalized map has mean beta (0) and variance gamma^2 (~1) per channel
  // over batch, height and width, while single units keep their own means (per-unit BatchNorm
  // would zero every unit's batch mean)
  const probe = tfl.model({ inputs: g.inputs, outputs: bn.output as tfl.SymbolicTensor });
  const z = tf.randomUniform([64, 8], -1, 1, "float32", 1);
  const y = probe.apply(z, { training: true }) as tf.Tensor4D; // [64, 2, 2, 6]
  const { mean, variance } = tf.moments(y, [0, 1, 2]);
  const gamma = bn.getWeights()[0].dataSync();
  const [m, v] = [mean.dataSync(), variance.dataSync()];
  for (let c = 0; c < 6; c++) {
    assert.ok(Math.abs(m[c]) < 1e-4, `channel ${c} mean ${m[c]}`);
    // (epsilon 1e-5 against the projection's variance of ~1e-3 takes ~1% off)
    assert.ok(Math.abs(v[c] / gamma[c] ** 2 - 1) < 3e-2, `channel ${c} variance ${v[c]}`);
  }
  const unitMeans = Array.from(tf.moments(y, 0).mean.dataSync());
  const largest = unitMeans.reduce((a, u) => Math.max(a, Math.abs(u)), 0);
  assert.ok(largest > 0.1, `per-unit batch means all within ${largest} of 0: per-unit BatchNorm`);
  // the old placement stays an option (checkpoints of the per-unit generator)
  const old = withSeed(
    0,
    () => gan({ ...small, generatorWidths: [6, 4], generatorProjectionNorm: "unit" }),
  );
  const oldNames = old.nets.generator.layers.map((l) => l.getClassName()).slice(1, 5);
  assert.deepEqual(oldNames, ["Dense", "BatchNormalization", "ReLU", "Reshape"]);
  assert.deepEqual(old.nets.generator.layers[2].getWeights()[0].shape, [2 * 2 * 6]);
  tf.dispose([z, y, mean, variance]);
});
