/**
 * `bench/pretext_curve.ts`'s two measurements besides the probe: the pooled features taken from
 * the flattened map (the encoder's global average pooling), and how far each kernel moved from
 * its init.
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { kernelDrift, poolMap } from "../../bench/pretext_curve.ts";

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
