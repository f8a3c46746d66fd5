import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { byol, cosineMomentum } from "../../methods/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { firstLast, noiseAugment, runSteps, toyEncoder } from "./_helpers.ts";

await setupBackend();
// created per test: another test file's setupBackend may reset the engine between files
const makeImages = () => tf.randomUniform([16, 6, 6, 1], 0, 1, "float32", 31) as tf.Tensor4D;

function setup() {
  return byol({
    encoder: toyEncoder([6, 6, 1], 16, 3),
    inputShape: [6, 6, 1],
    seed: 2,
    projectionDim: 8,
    hiddenDim: 16,
    momentum: 0.9,
    augment: noiseAugment(0.3),
  });
}

Deno.test("byol: the loss falls and the collapse monitor stays healthy", () => {
  const images = makeImages();
  const run = runSteps(setup(), images, 40, tf.train.adam(0.01));
  const [first, last] = firstLast(run.losses);
  assert.ok(last < first - 0.3, `loss ${first} -> ${last}`);
  assert.ok(firstLast(run.metrics.zStd)[1] > 0.5 / Math.sqrt(8));
});

Deno.test("byol: the target is an exact EMA of the online encoder and projector (cosine tau)", () => {
  const images = makeImages();
  const s = setup();
  runSteps(s, images, 3, tf.train.sgd(0.5));
  const online = [...s.nets.encoder.getWeights(), ...s.nets.projector.getWeights()].map((w) =>
    Float64Array.from(w.dataSync())
  );
  const target = [...s.nets.targetEncoder.getWeights(), ...s.nets.targetProjector.getWeights()]
    .map((w) => Float64Array.from(w.dataSync()));
  const progress = 0.25;
  const tau = cosineMomentum(0.9, progress);
  assert.ok(Math.abs(tau - (1 - 0.1 * (Math.cos(Math.PI * 0.25) + 1) / 2)) < 1e-15);
  s.method.afterUpdate!(s.nets, s.state, { progress, step: 3, epoch: 0 });
  [...s.nets.targetEncoder.getWeights(), ...s.nets.targetProjector.getWeights()].forEach((w, i) =>
    assertTensorClose(w, target[i].map((t, j) => tau * t + (1 - tau) * online[i][j]), {
      rtol: 1e-6,
      atol: 1e-7,
    })
  );
  // the predictor has no target copy and the target is not trained
  const trainable = new Set(s.method.trainable(s.nets));
  assert.ok(
    s.nets.targetEncoder.trainableWeights.every((w) => !trainable.has(w.read() as tf.Variable)),
  );
});
