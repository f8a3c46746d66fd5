import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import { withSeed } from "../../../backend/with_seed.ts";
import {
  colorization,
  createMethod,
  denoisingAutoencoder,
  gan,
  jigsaw,
  METHOD_NAMES,
  type MethodSetup,
  relativePatch,
  rotation,
} from "../../../methods/mod.ts";
import { assertNoLeak, setupBackend } from "../../_utils.ts";
import { ends, mnistImages, trainSteps } from "./_helpers.ts";

// Every net is built under withSeed so each test is deterministic on a given backend.
// wasm trains these convnets ~10x faster than cpu; SELFSUP_TEST_BACKEND still overrides
let fromEnv: string | undefined;
try {
  fromEnv = Deno.env.get("SELFSUP_TEST_BACKEND") || undefined;
} catch {
  fromEnv = undefined;
}
await setupBackend(fromEnv ? undefined : "wasm");

const base = {
  encoder: "convnet" as const,
  inputShape: [28, 28, 1] as [number, number, number],
  seed: 0,
  widths: [8, 16],
};
const context = { progress: 0, step: 0, epoch: 0 };

async function batches(n: number, size: number): Promise<tf.Tensor4D[]> {
  const x = await mnistImages(n * size);
  const out = tf.split(x, n) as tf.Tensor4D[];
  x.dispose();
  return out;
}

function disposeSetup(setup: MethodSetup): void {
  const nets = setup.nets as Record<string, { dispose(): unknown }>;
  for (const net of Object.values(nets)) net.dispose();
}

/** A step of the method leaks nothing, its views included. */
async function noLeak(setup: MethodSetup, x: tf.Tensor4D): Promise<void> {
  const warm = setup.method.views(x, 1);
  tf.dispose(setup.method.step(setup.nets, warm, setup.state, context) as never);
  tf.dispose(warm);
  await assertNoLeak(() => {
    const views = setup.method.views(x, 2);
    const r = setup.method.step(setup.nets, views, setup.state, context);
    const fresh = Object.values(r.state as Record<string, tf.Tensor>).filter((t) =>
      !Object.values(setup.state as Record<string, tf.Tensor>).includes(t)
    );
    tf.dispose([r.loss, ...Object.values(r.metrics), ...fresh, ...views]);
  });
}

Deno.test("the six pretext tasks are registered by name", () => {
  for (
    const name of [
      "rotation",
      "relative-patch",
      "jigsaw",
      "colorization",
      "denoising-autoencoder",
      "gan",
    ]
  ) {
    assert.ok((METHOD_NAMES as readonly string[]).includes(name), name);
  }
  const s = createMethod("jigsaw", { ...base, permutations: 5, tileUnits: 4, hiddenDim: 8 });
  assert.equal(s.method.name, "jigsaw");
  // @ts-expect-error rotation takes no permutations: deno check refuses it as well
  assert.throws(() => createMethod("rotation", { ...base, permutations: 5 }), TypeError);
});

Deno.test("rotation on MNIST: loss falls, 4-way accuracy well above 0.25, no leak", async () => {
  const data = await batches(8, 16);
  const setup = withSeed(1, () => rotation(base));
  const t = trainSteps(setup, data, 30, tf.train.adam(3e-3));
  const [l0, l1] = ends(t.losses);
  const [, a1] = ends(t.metrics.top1);
  assert.ok(l1 < l0 - 0.15, `loss ${l0} -> ${l1}`);
  assert.ok(a1 > 0.4, `top1 ${a1}`);
  await noLeak(setup, data[0]);
  disposeSetup(setup);
  tf.dispose(data);
});

Deno.test("jigsaw on MNIST: loss falls, permutation accuracy well above chance, no leak", async () => {
  const data = await batches(8, 16);
  const setup = withSeed(
    2,
    () => jigsaw({ ...base, permutations: 10, tileUnits: 16, hiddenDim: 64 }),
  );
  const t = trainSteps(setup, data, 40, tf.train.adam(3e-3));
  const [l0, l1] = ends(t.losses);
  const [, a1] = ends(t.metrics.top1);
  assert.ok(l1 < l0 - 0.5, `loss ${l0} -> ${l1}`);
  assert.ok(a1 > 0.3, `top1 ${a1} (chance 0.1)`);
  await noLeak(setup, data[0]);
  disposeSetup(setup);
  tf.dispose(data);
});

Deno.test("relative-patch on MNIST: loss falls, 8-way accuracy well above 0.125, no leak", async () => {
  const data = await batches(4, 32);
  const setup = withSeed(4, () => relativePatch({ ...base, hiddenDim: 64 }));
  const t = trainSteps(setup, data, 60, tf.train.adam(3e-3));
  const [l0, l1] = ends(t.losses);
  const [, a1] = ends(t.metrics.top1);
  assert.ok(l1 < l0 - 0.3, `loss ${l0} -> ${l1}`);
  assert.ok(a1 > 0.25, `top1 ${a1} (chance 0.125)`);
  await noLeak(setup, data[0]);
  disposeSetup(setup);
  tf.dispose(data);
});

Deno.test("denoising autoencoder on MNIST: reconstruction error falls for every noise", async () => {
  const data = await batches(4, 16);
  for (const noise of ["gaussian", "salt-and-pepper", "masking"] as const) {
    const setup = withSeed(
      3,
      () => denoisingAutoencoder({ ...base, noise, decoderWidths: [8, 8] }),
    );
    const t = trainSteps(setup, data, 60, tf.train.adam(1e-2));
    const [l0, l1] = ends(t.losses);
    assert.ok(l1 < 0.75 * l0, `${noise}: loss ${l0} -> ${l1}`);
    // below predicting black everywhere (mean x^2 ~ 0.1)
    assert.ok(ends(t.metrics.mse)[1] < 0.08, `${noise}: mse ${ends(t.metrics.mse)[1]}`);
    if (noise === "masking") await noLeak(setup, data[0]);
    disposeSetup(setup);
  }
  tf.dispose(data);
});

Deno.test("colorization on pseudo-coloured MNIST: regression beats gray, classification learns bins", async () => {
  const data = await batches(4, 16);
  const l2 = withSeed(5, () => colorization({ ...base, loss: "l2" }));
  const r = trainSteps(l2, data, 30, tf.train.adam(3e-3));
  const [e0, e1] = ends(r.metrics.abError);
  const gray = ends(r.metrics.grayError)[1];
  assert.ok(e1 < e0 && e1 < gray, `l2 ab error ${e0} -> ${e1}, gray ${gray}`);
  disposeSetup(l2);
  const cls = withSeed(6, () => colorization(base));
  assert.equal(cls.method.bins.length / 2, 313);
  const c = trainSteps(cls, data, 30, tf.train.adam(3e-3));
  const [c0, c1] = ends(c.losses);
  const [, a1] = ends(c.metrics.top1);
  assert.ok(c1 < 0.85 * c0, `loss ${c0} -> ${c1}`);
  assert.ok(a1 > 0.3, `bin top1 ${a1} (chance 1/313)`);
  const rgb = cls.method.colorize(cls.nets, cls.method.views(data[0], 0)[0]);
  assert.deepEqual(rgb.shape, [16, 28, 28, 3]);
  const [min, max] = [tf.min(rgb).dataSync()[0], tf.max(rgb).dataSync()[0]];
  assert.ok(min >= 0 && max <= 1);
  rgb.dispose();
  disposeSetup(cls);
  tf.dispose(data);
});

Deno.test("gan: each phase's gradient reaches only its own net; D learns to tell real from fake", async () => {
  const data = await batches(4, 16);
  const setup = withSeed(
    7,
    () => gan({ ...base, zDim: 16, generatorWidths: [16, 8], discriminatorWidths: [8, 16] }),
  );
  const { method, nets, state } = setup;
  const views = method.views(data[0], 3);
  const dVars = [...nets.encoder.trainableWeights, ...nets.critic.trainableWeights].map((w) =>
    w.read() as tf.Variable
  );
  const gVars = nets.generator.trainableWeights.map((w) => w.read() as tf.Variable);
  const all = method.trainable(nets);
  for (const step of [0, 1]) {
    const { grads } = tf.variableGrads(
      () => method.step(nets, views, state, { ...context, step }).loss,
      all,
    );
    const norm = (vs: tf.Variable[]) =>
      vs.reduce((s, v) => s + (grads[v.name] ? tf.sum(tf.abs(grads[v.name])).dataSync()[0] : 0), 0);
    const [d, g] = [norm(dVars), norm(gVars)];
    if (step === 0) assert.ok(d > 0 && g === 0, `D step: |grad D| ${d}, |grad G| ${g}`);
    else assert.ok(d === 0 && g > 0, `G step: |grad D| ${d}, |grad G| ${g}`);
    tf.dispose(Object.values(grads));
  }
  assert.deepEqual(method.trainableAt(nets, { ...context, step: 1 }), gVars);
  tf.dispose(views);
  const t = trainSteps(setup, data, 60, tf.train.adam(2e-3));
  const dLoss = t.losses.filter((_, i) => i % 2 === 0);
  const [l0, l1] = ends(dLoss, 3);
  assert.ok(l1 < l0, `D loss ${l0} -> ${l1}`);
  const dAcc = ends(t.metrics.dAccuracy.filter((_, i) => i % 2 === 0), 3)[1];
  assert.ok(dAcc > 0.7, `D accuracy ${dAcc} (chance 0.5)`);
  const samples = method.sample(nets, 4, 0);
  assert.deepEqual(samples.shape, [4, 28, 28, 1]);
  samples.dispose();
  await noLeak(setup, data[0]);
  disposeSetup(setup);
  tf.dispose(data);
});
