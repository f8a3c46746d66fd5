/**
 * `bench/pretext_curve.ts`'s measurements besides the probe: the pooled features taken from
 * the flattened map (the encoder's global average pooling), how far each kernel moved from its
 * init, and the blocks whose pooled outputs `blocks` probes.
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { blockModels, kernelDrift, poolMap } from "../../bench/pretext_curve.ts";
import { withSeed } from "../../backend/with_seed.ts";
import { convNet } from "../../models/mod.ts";

Deno.test("pretext_curve: poolMap averages the flattened [H, W, C] map over its positions, per channel", () => {
  // 2 images, a 2 x 2 map of 3 channels; channel c at position p holds 10 * p + c (+ 100 for image 1)
  const values = [0, 1].flatMap((n) =>
    [0, 1, 2, 3].flatMap((p) => [0, 1, 2].map((c) => 100 * n + 10 * p + c))
  );
  const map = tf.tensor2d(values, [2, 12]);
  const pooled = poolMap(map, 3);
  // positions 0-3 average to 15
  assert.deepEqual(Array.from(pooled.dataSync()), [15, 16, 17, 115, 116, 117]);
  // the same as a global average pooling of the map in its [N, H, W, C] shape
  const own = tf.mean(tf.reshape(map, [2, 2, 2, 3]), [1, 2]);
  assert.deepEqual(Array.from(pooled.dataSync()), Array.from(own.dataSync()));
  tf.dispose([map, pooled, own]);
});

Deno.test("pretext_curve: kernelDrift is |W - W0| / |W0| per kernel, in order", () => {
  const init = [tf.tensor1d([3, 4]), tf.tensor1d([1, 0, 0])];
  const now = [tf.tensor1d([3, 4]), tf.tensor1d([1, 2, 0])];
  // unchanged: 0; moved by (0, 2, 0) from a norm of 1: 2
  assert.deepEqual(kernelDrift(init, now), [0, 2]);
  const moved = [tf.tensor1d([0, 0]), tf.tensor1d([1, 0, 0])];
  // (3, 4) -> (0, 0): a move of 5 from a norm of 5
  assert.deepEqual(kernelDrift(init, moved), [1, 0]);
  assert.throws(() => kernelDrift(init, now.slice(1)), RangeError);
  tf.dispose([...init, ...now, ...moved]);
});

Deno.test("pretext_curve: blockModels ends each block at the ReLU after its stride-2 conv", () => {
  const encoder = withSeed(3, () => convNet({ inputShape: [28, 28, 1], widths: [4, 8, 16] }));
  const x = tf.randomUniform([3, 28, 28, 1], 0, 1, "float32", 5) as tf.Tensor4D;
  const models = blockModels(encoder);
  // one per block, at the stride-2 resolutions of a 28 px input
  assert.deepEqual(models.map((m) => m.outputs[0].shape.slice(1)), [
    [14, 14, 4],
    [7, 7, 8],
    [4, 4, 16],
  ]);
  const outs = models.map((m) => m.predict(x) as tf.Tensor4D);
  // after the ReLU, not the conv or the BatchNorm before it: no negative value, and zeros
  for (const [i, y] of outs.entries()) {
    assert.ok(tf.min(y).dataSync()[0] >= 0, `block ${i} has negative values`);
    assert.ok(tf.sum(tf.equal(y, 0)).dataSync()[0] > 0, `block ${i} has no zero`);
  }
  // the last block's mean over positions is the encoder's output
  const own = encoder.predict(x) as tf.Tensor2D;
  const gap = tf.max(tf.abs(tf.sub(tf.mean(outs[2], [1, 2]), own))).dataSync()[0];
  assert.ok(gap < 1e-5, `last block's mean vs the encoder: ${gap}`);
  // a block's output is what the next block reads: the first conv after it takes that tensor
  const convs = encoder.layers.filter((l) => l.getClassName() === "Conv2D");
  assert.equal(convs[2].input, models[0].outputs[0]);
  assert.equal(convs[4].input, models[1].outputs[0]);
  tf.dispose([x, own, ...outs]);
  encoder.dispose();
});
