import { tf } from "../backend/tf.ts";
import { assertOptions } from "./_validate.ts";
import { top1 } from "./_ops.ts";
import { mocoLogits, validateMoco } from "./_contrastive.ts";
import type { MocoInfoNceOptions } from "./moco_info_nce.ts";

/**
 * Top-1 accuracy of the positive among {@linkcode mocoInfoNce}'s logits `[n, 1 + K]`: the fraction
 * of queries whose key beats every queue entry (ties go to the key, argmax's lowest index, as in
 * facebookresearch/moco's `accuracy`). A monitoring metric: no gradient, returns a tensor.
 *
 * @param q queries, shape `[n, d]`
 * @param k keys, shape `[n, d]`
 * @param queue negatives, shape `[K, d]`
 * @param options temperature (does not change the argmax)
 * @returns a scalar in [0, 1]
 * @throws {TypeError} for wrong ranks, dtypes or mismatched shapes
 * @throws {RangeError} for an empty batch or queue, or a temperature that is not > 0
 *
 * @example
 * ```ts
 * import { mocoAccuracy, tf } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const q = tf.tensor2d([[1, 0], [0, 1]]);
 * const k = tf.tensor2d([[1, 0], [1, 0]]);
 * const queue = tf.tensor2d([[0, 1]]);
 * assert.equal(mocoAccuracy(q, k, queue).dataSync()[0], 0.5);
 * ```
 */
export function mocoAccuracy(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  queue: tf.Tensor2D,
  options: MocoInfoNceOptions = {},
): tf.Scalar {
  assertOptions("MoCo accuracy", options, ["temperature"]);
  const { temperature = 0.2 } = options;
  validateMoco("MoCo accuracy", q, k, queue, temperature);
  return tf.tidy(() => {
    const { positive, negatives } = mocoLogits(q, k, queue, temperature);
    const logits = tf.concat([tf.reshape(positive, [-1, 1]), negatives], 1) as tf.Tensor2D; // [n, 1+K]
    return top1(logits, tf.zeros([q.shape[0]], "int32") as tf.Tensor1D);
  });
}
