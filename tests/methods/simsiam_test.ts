import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { simsiam } from "../../methods/mod.ts";
import { assertNoLeak, setupBackend } from "../_utils.ts";
import { firstLast, noiseAugment, runSteps, toyEncoder, toySequenceEncoder } from "./_helpers.ts";

await setupBackend();
// created per test: another test file's setupBackend may reset the engine between files
const makeImages = () => tf.randomUniform([16, 6, 6, 1], 0, 1, "float32", 11) as tf.Tensor4D;

function setup(stopGradient: boolean) {
  return simsiam({
    encoder: toyEncoder([6, 6, 1], 16, 5),
    inputShape: [6, 6, 1],
    seed: 3,
    projectionDim: 16,
    hiddenDim: 8,
    // the source's heads end in an affine BatchNorm, so a constant output is reachable (gamma ->
    // 0); with a non-affine last BN every dimension keeps unit batch variance and cannot collapse
    heads: "source",
    stopGradient,
    augment: noiseAugment(0.5),
  });
}

Deno.test("simsiam: with stop-gradient the loss falls and zStd stays near 1/sqrt(d); without it, collapse", () => {
  const images = makeImages();
  const d = 16;
  const ref = 1 / Math.sqrt(d);
  const healthy = runSteps(setup(true), images, 60, tf.train.adam(0.05));
  const [first, last] = firstLast(healthy.losses);
  assert.ok(last < first - 0.3, `loss ${first} -> ${last}`);
  const h = firstLast(healthy.metrics.zStd)[1];
  assert.ok(h > 0.7 * ref && h <= 1.05 * ref, `with stop-gradient zStd ${h} (1/sqrt(d) = ${ref})`);
  // the SimSiam paper's Figure 2: without stop-gradient the output collapses to a constant
  const collapsed = runSteps(setup(false), images, 60, tf.train.adam(0.05));
  const c = firstLast(collapsed.metrics.zStd)[1];
  assert.ok(c < 0.15 * ref, `without stop-gradient zStd ${c}`);
  assert.ok(
    firstLast(collapsed.losses)[1] < -0.95,
    "the collapsed loss reaches its trivial minimum -1",
  );
});

Deno.test("simsiam in sequence mode uses the source's heads and frames as instances", async () => {
  const s = simsiam({
    encoder: toySequenceEncoder([4, 10, 1], 6),
    inputShape: [4, 10, 1],
    seed: 1,
    projectionDim: 8,
    hiddenDim: 4,
  });
  assert.deepEqual(
    s.nets.projector.layers.map((l) => l.getClassName()),
    ["InputLayer", "Dense", "BatchNormalization", "LeakyReLU", "Dense", "BatchNormalization"],
  );
  const x = tf.randomUniform([2, 4, 10, 1], 0, 1, "float32", 1) as tf.Tensor4D;
  const views = s.method.views(x, 0);
  await assertNoLeak(() => {
    const r = s.method.step(s.nets, views, s.state, { progress: 0, step: 0, epoch: 0 });
    assert.equal(r.loss.rank, 0);
    return r;
  });
});
