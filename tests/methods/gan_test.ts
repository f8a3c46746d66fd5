/**
 * `methods/gan.ts` on small nets: the phase of each step, every refusal's exact message, the
 * recipe constants, the step's loss and metrics against float64 references computed from the
 * nets' own logits, which net each phase's gradient reaches, the views, the samples (inference
 * mode) and the critic's layers. Fast: 8x8 images, widths of 4-8.
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { withSeed } from "../../backend/with_seed.ts";
import {
  DCGAN_ADAM,
  DCGAN_RECIPE,
  dcganLearningRate,
  gan,
  type GanNets,
  ganPhase,
} from "../../methods/gan.ts";
import { setupBackend, thrown } from "../_utils.ts";

await setupBackend();

const small = {
  encoder: "convnet" as const,
  inputShape: [8, 8, 1] as [number, number, number],
  seed: 0,
  zDim: 8,
  generatorWidths: [4],
  discriminatorWidths: [4, 8],
};

const at = (step: number) => ({ progress: 0, step, epoch: 0 });

/** log(1 + e^x) in float64. */
const softplus = (x: number) => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;

/** zStd in float64: rows L2-normalized, each column's population std, their mean. */
function zStdRef(rows: number[][]): number {
  const n = rows.map((r) => {
    const norm = Math.sqrt(r.reduce((s, x) => s + x * x, 0));
    return r.map((x) => x / norm);
  });
  const d = n[0].length;
  let sum = 0;
  for (let j = 0; j < d; j++) {
    const col = n.map((r) => r[j]);
    const m = mean(col);
    sum += Math.sqrt(mean(col.map((x) => (x - m) ** 2)));
  }
  return sum / d;
}

const rowsOf = (t: tf.Tensor) => t.arraySync() as number[][];

/** D's features and logits of images in [0, 1], in training mode, as the step runs D. */
function discriminate(nets: GanNets, x: tf.Tensor4D): { f: number[][]; logit: number[] } {
  return tf.tidy(() => {
    const f = nets.encoder.apply(x, { training: true }) as tf.Tensor2D;
    const logit = nets.critic.apply(f, { training: true }) as tf.Tensor2D;
    return { f: rowsOf(f), logit: Array.from(logit.dataSync()) };
  });
}

/** G's images of z `[B, 1, 1, zDim]` in training mode, mapped to [0, 1] by (g + 1) / 2. */
function fakes(nets: GanNets, z: tf.Tensor4D, zDim: number): tf.Tensor4D {
  return tf.tidy(() => {
    const g = nets.generator.apply(tf.reshape(z, [-1, zDim]), { training: true }) as tf.Tensor;
    return tf.div(tf.add(g, 1), 2) as tf.Tensor4D;
  });
}

function values(metrics: Record<string, tf.Scalar>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, v.dataSync()[0]]));
}

function close(actual: number, expected: number, what: string, tol = 1e-5) {
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs ${expected}`,
  );
}

Deno.test("ganPhase: the discriminator on even steps, the generator on odd ones", () => {
  const phases = [0, 1, 2, 3, 4, 7, 10].map((s) => ganPhase(at(s)));
  assert.deepEqual(phases, [
    "discriminator",
    "generator",
    "discriminator",
    "generator",
    "discriminator",
    "generator",
    "discriminator",
  ]);
});

Deno.test("gan refuses each bad option with its exact message", () => {
  const cases: [Record<string, unknown>, string, string][] = [
    [
      { discriminator: "wgan" },
      "TypeError",
      'Cannot build gan: expected discriminator "dcgan" or "encoder", received wgan',
    ],
    [
      { discriminator: null },
      "TypeError",
      'Cannot build gan: expected discriminator "dcgan" or "encoder", received null',
    ],
    [{ zDim: 0 }, "RangeError", "Cannot build gan: zDim must be a positive integer, received 0"],
    [
      { zDim: 2.5 },
      "RangeError",
      "Cannot build gan: zDim must be a positive integer, received 2.5",
    ],
    [
      { hidden: -1 },
      "RangeError",
      "Cannot build gan: hidden must be a non-negative integer, received -1",
    ],
    [
      { discriminator: "encoder", encoder: "sequence", widths: [4] },
      "TypeError",
      "Cannot build gan: expected an encoder with [B, D] output, received [B, L, D]",
    ],
  ];
  for (const [bad, name, message] of cases) {
    const e = thrown(() => gan({ ...small, ...bad } as never), JSON.stringify(bad));
    assert.equal(e.name, name, message);
    assert.equal(e.message, message);
  }
  assert.equal(
    thrown(() => dcganLearningRate(0, { lr: 1, iterations: 10, decayFrom: 10 })).message,
    "Cannot schedule the GAN's rate: expected decayFrom an integer in [0, 10), received 10",
  );
  // the range's ends are accepted: decayFrom 0 and iterations - 1
  assert.equal(dcganLearningRate(0, { lr: 1, iterations: 10, decayFrom: 0 }), 1);
  assert.equal(dcganLearningRate(9, { lr: 1, iterations: 10, decayFrom: 9 }), 1);
});

Deno.test("DCGAN_RECIPE and DCGAN_ADAM: every field, written from Radford et al. 2015, Sec. 4", () => {
  assert.deepEqual({ ...DCGAN_ADAM }, { lr: 2e-4, beta1: 0.5, beta2: 0.999 });
  assert.deepEqual({ ...DCGAN_RECIPE }, {
    cite: "DCGAN, Radford, Metz & Chintala 2015, arXiv:1511.06434, Sec. 4",
    optimizer: "adamw",
    baseLr: 2e-4,
    baseBatch: 128,
    lrScaling: "none",
    momentum: 0,
    beta1: 0.5,
    beta2: 0.999,
    nesterov: false,
    weightDecay: 0,
    schedule: "constant",
    warmupFraction: 0,
    minLrFraction: 0,
    augment: "method",
    lr: 2e-4,
    batchSize: 128,
    optimizerPerNet: true,
    discriminatorSteps: 1,
    zDim: 100,
    zDistribution: "uniform(-1, 1)",
    initStd: 0.02,
    leakySlope: 0.2,
    discriminator: "dcgan",
  });
});

Deno.test("gan's views: the images copied, z [B, 1, 1, zDim] drawn U(-1, 1) from the seed", () => {
  const { method } = withSeed(0, () => gan(small));
  const x = tf.randomUniform([3, 8, 8, 1], 0, 1, "float32", 1) as tf.Tensor4D;
  const [real, z] = method.views(x, 7);
  assert.notEqual(real, x);
  assert.deepEqual(real.dataSync(), x.dataSync());
  assert.deepEqual(z.shape, [3, 1, 1, 8]);
  const want = tf.randomUniform([3, 8], -1, 1, "float32", 7);
  assert.deepEqual(z.dataSync(), want.dataSync());
  x.dispose();
  assert.deepEqual(real.shape, [3, 8, 8, 1]); // not disposed with its input
  tf.dispose([real, z, want]);
});

Deno.test("gan's discriminator step: loss softplus(-D(x)) + softplus(D(G z)) and its metrics, against float64", () => {
  for (const hidden of [0, 4]) {
    const { method, nets } = withSeed(0, () => gan({ ...small, hidden }));
    const x = tf.randomUniform([4, 8, 8, 1], 0, 1, "float32", 1) as tf.Tensor4D;
    const [real, z] = method.views(x, 2);
    const r = discriminate(nets, real);
    const fake = fakes(nets, z, 8);
    const f = discriminate(nets, fake);
    const out = method.step(nets, [real, z], {}, at(0));
    const got = values(out.metrics);
    assert.deepEqual(Object.keys(got).sort(), ["dAccuracy", "dFake", "dReal", "gan", "zStd"]);
    const loss = mean(r.logit.map((l) => softplus(-l))) + mean(f.logit.map(softplus));
    close(out.loss.dataSync()[0], loss, `hidden ${hidden}: loss`);
    close(got.dReal, mean(r.logit.map(sigmoid)), `hidden ${hidden}: dReal`);
    close(got.dFake, mean(f.logit.map(sigmoid)), `hidden ${hidden}: dFake`);
    const right = r.logit.filter((l) => l > 0).length + f.logit.filter((l) => l < 0).length;
    assert.equal(got.dAccuracy, right / 8);
    assert.equal(got.gan, 0);
    close(got.zStd, zStdRef([...r.f, ...f.f]), `hidden ${hidden}: zStd`);
    tf.dispose([x, real, z, fake, out.loss, ...Object.values(out.metrics)]);
  }
});

Deno.test("gan's generator step: loss softplus(-D(G z)) and its metrics, against float64", () => {
  for (const hidden of [0, 4]) {
    const { method, nets } = withSeed(0, () => gan({ ...small, hidden }));
    const x = tf.randomUniform([4, 8, 8, 1], 0, 1, "float32", 1) as tf.Tensor4D;
    const [real, z] = method.views(x, 2);
    const fake = fakes(nets, z, 8);
    const f = discriminate(nets, fake);
    const out = method.step(nets, [real, z], {}, at(1));
    const got = values(out.metrics);
    assert.deepEqual(Object.keys(got).sort(), ["dFake", "gan", "zStd"]);
    close(out.loss.dataSync()[0], mean(f.logit.map((l) => softplus(-l))), `hidden ${hidden}`);
    close(got.dFake, mean(f.logit.map(sigmoid)), `hidden ${hidden}: dFake`);
    assert.equal(got.gan, 1);
    close(got.zStd, zStdRef(f.f), `hidden ${hidden}: zStd`);
    tf.dispose([x, real, z, fake, out.loss, ...Object.values(out.metrics)]);
  }
});

Deno.test("gan: the discriminator's step reaches only D's variables, the generator's only G's (D's gradient exactly 0)", () => {
  const { method, nets } = withSeed(0, () => gan(small));
  const x = tf.randomUniform([4, 8, 8, 1], 0, 1, "float32", 1) as tf.Tensor4D;
  const views = method.views(x, 2);
  const dVars = new Set(method.trainableAt(nets, at(0)));
  const gVars = new Set(method.trainableAt(nets, at(1)));
  assert.equal(dVars.size + gVars.size, method.trainable(nets).length);
  for (const v of gVars) assert.ok(!dVars.has(v), v.name);
  /** The largest |gradient| of each variable set under the step's loss. */
  const reach = (step: number) => {
    const { grads } = tf.variableGrads(() => {
      const out = method.step(nets, views, {}, at(step));
      tf.dispose(Object.values(out.metrics));
      return out.loss;
    }, method.trainable(nets));
    const largest = (set: Set<tf.Variable>) =>
      Math.max(
        0,
        ...[...set].map((v) => grads[v.name] ? tf.max(tf.abs(grads[v.name])).dataSync()[0] : 0),
      );
    const r = { d: largest(dVars), g: largest(gVars) };
    tf.dispose(Object.values(grads));
    return r;
  };
  const d = reach(0);
  assert.ok(d.d > 1e-4, `D step: D's gradient ${d.d}`);
  assert.equal(d.g, 0);
  const g = reach(1);
  assert.ok(g.g > 1e-4, `G step: G's gradient ${g.g}`);
  assert.equal(g.d, 0);
  tf.dispose([x, ...views]);
});

Deno.test("gan's samples: G in inference mode on z ~ U(-1, 1) from the seed, mapped to [0, 1]", () => {
  const { method, nets } = withSeed(0, () => gan(small));
  const s = method.sample(nets, 5, 3);
  const want = tf.tidy(() => {
    const g = nets.generator.predict(tf.randomUniform([5, 8], -1, 1, "float32", 3)) as tf.Tensor;
    return tf.div(tf.add(g, 1), 2);
  });
  assert.deepEqual(s.shape, [5, 8, 8, 1]);
  assert.deepEqual(Array.from(s.dataSync()), Array.from(want.dataSync()));
  tf.dispose([s, want]);
});

Deno.test("gan's critic: a Dense named gan_critic, N(0, 0.02); with hidden, BN momentum 0.9, epsilon 1e-5, gamma N(1, 0.02)", () => {
  const { nets } = withSeed(0, () => gan({ ...small, hidden: 16 }));
  assert.equal(nets.critic.name, "gan_critic");
  const last = nets.critic.layers[nets.critic.layers.length - 1];
  assert.equal(last.name, "gan_critic");
  const bn = nets.critic.layers[2].getConfig() as { momentum: number; epsilon: number };
  assert.deepEqual([bn.momentum, bn.epsilon], [0.9, 1e-5]);
  const gamma = Array.from(nets.critic.layers[2].getWeights()[0].dataSync());
  assert.ok(gamma.some((g) => g !== 1) && gamma.every((g) => Math.abs(g - 1) < 0.1), `${gamma}`);
  for (const i of [1, 4]) {
    const k = Array.from(nets.critic.layers[i].getWeights()[0].dataSync());
    const largest = k.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    // N(0, 0.02): within 5 std; Glorot's uniform bound here is sqrt(6 / (32 + 16)) = 0.35
    assert.ok(largest < 0.1 && largest > 0, `layer ${i}: largest |w| ${largest}`);
  }
});

Deno.test("gan's defaults: z of 100, generator widths [128, 64], DCGAN's discriminator, no hidden layer, the name gan", () => {
  const { method, nets } = withSeed(
    0,
    () => gan({ encoder: "convnet", inputShape: [8, 8, 1], seed: 0 }),
  );
  assert.equal(method.name, "gan");
  // z [100] -> Dense to 2 x 2 x 128 -> reshape, BN, ReLU -> up to 4 x 4 x 64 -> up to 8 x 8 x 1
  const g = nets.generator.layers;
  assert.deepEqual(g[1].getWeights()[0].shape, [100, 2 * 2 * 128]);
  const ups = g.filter((l) => l.getClassName() === "Conv2DTranspose");
  assert.deepEqual(ups.map((l) => (l.getConfig() as { filters: number }).filters), [64, 1]);
  // the discriminator: dcganDiscriminator's [64, 128] to 2 x 2 x 128 features, then one logit
  assert.deepEqual(nets.encoder.outputs[0].shape, [null, 2 * 2 * 128]);
  assert.deepEqual(nets.critic.layers.map((l) => l.getClassName()), ["InputLayer", "Dense"]);
});
