import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { sinkhorn } from "../../losses/mod.ts";
import { swav, type SwavState } from "../../methods/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { firstLast, runSteps, toyEncoder, toySequenceEncoder } from "./_helpers.ts";

await setupBackend();
// created per test: another test file's setupBackend may reset the engine between files
const makeImages = () => tf.randomUniform([16, 8, 8, 1], 0, 1, "float32", 51) as tf.Tensor4D;
const ctx = { progress: 0, step: 0, epoch: 0 };

function setup(extra: Record<string, number> = {}) {
  return swav({
    encoder: toyEncoder([8, 8, 1], 8, 7), // fixed 8x8 input: local crops resized by the test
    inputShape: [8, 8, 1],
    seed: 3,
    preset: "small",
    projectionDim: 8,
    hiddenDim: 16,
    prototypes: 6,
    localCrops: 0,
    freezePrototypesEpochs: 0,
    ...extra,
  });
}

Deno.test("swav: Sinkhorn codes of the method's scores satisfy their marginals", () => {
  const images = makeImages();
  const s = setup();
  const views = s.method.views(images, 0);
  assert.equal(views.length, 2);
  const z = tf.tidy(() => {
    const f = s.nets.encoder.apply(views[0], { training: true }) as tf.Tensor2D;
    const p = s.nets.projector.apply(f, { training: true }) as tf.Tensor2D;
    return tf.div(p, tf.norm(p, 2, 1, true));
  });
  const scores = tf.matMul(z, s.nets.prototypes.getWeights()[0]) as tf.Tensor2D; // [16, 6]
  const q = sinkhorn(scores, { iterations: 50, epsilon: 0.05 });
  // every sample's code is a distribution; every prototype gets B/K of the batch
  assertTensorClose(tf.sum(q, 1), new Array(16).fill(1), { rtol: 1e-4, atol: 1e-4 });
  assertTensorClose(tf.sum(q, 0), new Array(6).fill(16 / 6), { rtol: 1e-2, atol: 1e-2 });
});

Deno.test("swav: loss falls; prototypes stay unit-norm and frozen for the first epoch", () => {
  const images = makeImages();
  const s = setup({ freezePrototypesEpochs: 1 });
  const w0 = s.nets.prototypes.getWeights()[0].dataSync().slice();
  // 3 steps of epoch 0: frozen, however many steps the epoch has
  runSteps(s, images, 3, tf.train.sgd(0.5), { epoch: () => 0 });
  assertTensorClose(s.nets.prototypes.getWeights()[0], w0, { rtol: 1e-6, atol: 1e-7 }, "frozen");
  // a step of epoch 1 moves them
  runSteps(s, images, 1, tf.train.sgd(0.5), { epoch: () => 1 });
  const diff = tf.max(tf.abs(tf.sub(s.nets.prototypes.getWeights()[0], tf.tensor(w0, [8, 6]))));
  assert.ok(
    diff.dataSync()[0] > 1e-4,
    `prototypes moved after the first epoch by ${diff.dataSync()[0]}`,
  );
  const run = runSteps(setup(), images, 40, tf.train.adam(0.01));
  const [first, last] = firstLast(run.losses);
  assert.ok(last < first - 0.05, `loss ${first} -> ${last}`);
  const moved = s.nets.prototypes.getWeights()[0];
  assertTensorClose(tf.norm(moved, 2, 0), new Array(6).fill(1), { rtol: 1e-5, atol: 1e-6 });
});

Deno.test("swav: the feature queue switches on at queueStartEpoch, fills FIFO and joins once full", () => {
  const images = makeImages();
  const s = setup({ queueLength: 32, queueStartEpoch: 1 });
  const epoch = (step: number) => (step < 2 ? 0 : 1);
  const run = runSteps(s, images, 2, tf.train.sgd(0.1), { epoch });
  assert.equal((run.state as SwavState).queues, null, "no queue before the start epoch");
  const views = s.method.views(images, 7);
  const r = s.method.step(s.nets, views, run.state as SwavState, {
    progress: 0,
    step: 2,
    epoch: 1,
  });
  assert.equal(r.state.pending!.length, 2);
  const next = s.method.afterUpdate!(s.nets, r.state, { progress: 0, step: 2, epoch: 1 });
  assert.equal(next.filled, 16);
  assert.deepEqual(next.queues!.map((q) => q.shape), [[32, 8], [32, 8]]);
  assertTensorClose(tf.slice(next.queues![0], 0, 16), r.state.pending![0], { rtol: 0, atol: 0 });
  assertTensorClose(tf.slice(next.queues![0], 16, 16), tf.zeros([16, 8]), { rtol: 0, atol: 0 });
  // a half-full queue is not used; a full one changes the codes and so the loss
  const half =
    s.method.step(s.nets, views, next, { progress: 0, step: 3, epoch: 1 }).loss.dataSync()[0];
  const noQueue =
    s.method.step(s.nets, views, { ...next, queues: null }, { progress: 0, step: 3, epoch: 1 })
      .loss.dataSync()[0];
  assert.equal(half, noQueue);
  const full =
    s.method.step(s.nets, views, { ...next, filled: 32 }, { progress: 0, step: 3, epoch: 1 })
      .loss.dataSync()[0];
  assert.notEqual(full, noQueue);
});

Deno.test("swav multi-crop views and sequence mode", () => {
  const images = makeImages();
  const mc = swav({
    encoder: "convnet",
    inputShape: [8, 8, 1],
    widths: [2],
    seed: 1,
    preset: "small",
    projectionDim: 4,
    hiddenDim: 4,
    prototypes: 5,
    localSize: 4,
  });
  const views = mc.method.views(images, 0);
  assert.deepEqual(views.map((v) => v.shape[1]), [8, 8, 4, 4]);
  const seq = swav({
    encoder: toySequenceEncoder([4, 10, 1], 6),
    inputShape: [4, 10, 1],
    seed: 1,
    preset: "small",
    projectionDim: 4,
    prototypes: 5,
  });
  const x = tf.randomUniform([3, 4, 10, 1], 0, 1, "float32", 1) as tf.Tensor4D;
  const sv = seq.method.views(x, 0);
  assert.equal(sv.length, 2, "sequence mode: two same-width views, no local crops");
  const r = seq.method.step(seq.nets, sv, seq.state, ctx);
  assert.ok(Number.isFinite(r.loss.dataSync()[0]));
});
