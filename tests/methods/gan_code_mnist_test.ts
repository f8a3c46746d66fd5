/**
 * The DCGAN authors' MNIST options in `gan` (Newmu/dcgan_code, `mnist/train_cond_dcgan.py`):
 * the linear decay of the rate to 0 (`dcganLearningRate`), the fully connected layers of 1024
 * units in both nets (`hidden`), and the numbers of their script (`DCGAN_CODE_MNIST`). Weight
 * decay lives in the bench's iteration: `tests/bench/gan_state_test.ts`.
 */
import assert from "node:assert/strict";
import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { withSeed } from "../../backend/with_seed.ts";
import { DCGAN_CODE_MNIST, dcganLearningRate, gan } from "../../methods/gan.ts";
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

Deno.test("dcganLearningRate: constant to decayFrom, then linear to 0 at the run's end (the authors' MNIST schedule)", () => {
  const lr = 2e-4;
  const T = 10, N = 4;
  const at = (it: number) => dcganLearningRate(it, { lr, iterations: T, decayFrom: N });
  // by hand: lr (T - it) / (T - N) from N on
  const want = [lr, lr, lr, lr, lr, lr * 5 / 6, lr * 4 / 6, lr * 3 / 6, lr * 2 / 6, lr / 6, 0];
  for (let it = 0; it <= T; it++) {
    assert.ok(
      Math.abs(at(it) - want[it]) <= 1e-12 * lr,
      `iteration ${it}: ${at(it)} vs ${want[it]}`,
    );
  }
  assert.equal(at(N), lr); // the decay's first iteration still runs at the full rate
  assert.equal(at(T + 5), 0); // past the end: 0, not negative
  // decay from 0: linear over the whole run
  assert.ok(Math.abs(dcganLearningRate(5, { lr, iterations: T, decayFrom: 0 }) - lr / 2) < 1e-18);
  // without decayFrom: the paper's constant rate
  for (const it of [0, 5, T, 10 * T]) {
    assert.equal(dcganLearningRate(it, { lr, iterations: T }), lr);
  }
  for (const bad of [T, T + 1, -1, 2.5]) {
    assert.throws(
      () => dcganLearningRate(0, { lr, iterations: T, decayFrom: bad }),
      /expected decayFrom an integer in \[0, 10\)/,
    );
  }
});

Deno.test("DCGAN_CODE_MNIST: the authors' script's numbers (1024-unit layers, L2 2.5e-5, batch 128, 200 epochs, decay over the last 100)", () => {
  // train_cond_dcgan.py: ngfc = ndfc = 1024, l2 = 2.5e-5, nbatch = 128, niter = niter_decay = 100
  // epochs over ntrain = 50,000 images; iter_data gives ceil(50000 / 128) = 391 mini-batches an
  // epoch, each one update of one net in turn (k = 1)
  const perEpoch = Math.ceil(50_000 / 128);
  assert.equal(perEpoch, 391);
  assert.deepEqual(DCGAN_CODE_MNIST, {
    hidden: 1024,
    weightDecay: 2.5e-5,
    batchSize: 128,
    iterations: (200 * perEpoch) / 2,
    decayFrom: (100 * perEpoch) / 2,
  });
});

/** `[class, kernel shape, useBias]` of each layer (kernel shape only for Dense). */
function layersOf(model: tfl.LayersModel): [string, number[] | null, boolean | null][] {
  return model.layers.map((l) => {
    const name = l.getClassName();
    const c = l.getConfig() as { useBias?: boolean };
    return [
      name,
      name === "Dense" ? l.getWeights()[0].shape : null,
      name === "Dense" ? c.useBias ?? null : null,
    ];
  });
}

Deno.test("gan hidden: the authors' fully connected layers, G z -> FC -> BN -> ReLU -> projection, D features -> FC -> BN -> LeakyReLU 0.2 -> logit", () => {
  const { nets, method } = withSeed(0, () => gan({ ...small, hidden: 16 }));
  // the generator: z [8] -> FC 16 (no bias) -> BN, ReLU -> projection to 4x4x4 (no bias)
  const g = layersOf(nets.generator);
  assert.deepEqual(g.slice(0, 5), [
    ["InputLayer", null, null],
    ["Dense", [8, 16], false],
    ["BatchNormalization", null, null],
    ["ReLU", null, null],
    ["Dense", [16, 4 * 4 * 4], false],
  ]);
  // per unit of the 16: scale, offset, moving mean, moving variance
  assert.deepEqual(nets.generator.layers[2].getWeights().map((w) => w.shape), [[16], [16], [16], [
    16,
  ]]);
  // the critic: flattened features 2x2x8 -> FC 16 (no bias) -> BN -> LeakyReLU 0.2 -> 1 (bias)
  assert.deepEqual(layersOf(nets.critic), [
    ["InputLayer", null, null],
    ["Dense", [2 * 2 * 8, 16], false],
    ["BatchNormalization", null, null],
    ["LeakyReLU", null, null],
    ["Dense", [16, 1], true],
  ]);
  assert.equal((nets.critic.layers[3].getConfig() as { alpha: number }).alpha, 0.2);
  // the encoder probed downstream stays the convolutional trunk
  const plain = withSeed(0, () => gan(small));
  assert.deepEqual(layersOf(nets.encoder), layersOf(plain.nets.encoder));
  assert.deepEqual(nets.encoder.outputs[0].shape, [null, 2 * 2 * 8]);
  // without hidden: z -> projection, features -> logit, as before
  assert.deepEqual(layersOf(plain.nets.critic), [
    ["InputLayer", null, null],
    ["Dense", [2 * 2 * 8, 1], true],
  ]);
  assert.deepEqual(layersOf(plain.nets.generator)[1], ["Dense", [8, 4 * 4 * 4], false]);
  // each phase trains its net's new layers: D's step the critic's FC and BN, G's step G's
  const names = (vs: tf.Variable[]) => vs.map((v) => v.name);
  const dVars = names(method.trainableAt(nets, { progress: 0, step: 0, epoch: 0 }));
  const gVars = names(method.trainableAt(nets, { progress: 0, step: 1, epoch: 0 }));
  for (const v of nets.critic.trainableWeights) {
    assert.ok(dVars.includes((v.read() as tf.Variable).name), v.name);
  }
  for (const v of nets.generator.trainableWeights) {
    assert.ok(gVars.includes((v.read() as tf.Variable).name), v.name);
  }
  assert.equal(dVars.length, plain.nets.encoder.trainableWeights.length + 2 + 3); // + FC, BN, logit
  // a step of each phase runs, samples keep their shape
  const views = method.views(tf.randomUniform([4, 8, 8, 1], 0, 1, "float32", 1) as tf.Tensor4D, 2);
  for (const step of [0, 1]) {
    const r = method.step(nets, views, {}, { progress: 0, step, epoch: 0 });
    assert.ok(Number.isFinite(r.loss.dataSync()[0]));
    tf.dispose([r.loss, ...Object.values(r.metrics)]);
  }
  const s = method.sample(nets, 3, 0);
  assert.deepEqual(s.shape, [3, 8, 8, 1]);
  tf.dispose([s, ...views]);
  for (const bad of [-1, 1.5]) assert.throws(() => gan({ ...small, hidden: bad }), RangeError);
});
