import { tf } from "../backend/tf.ts";
import { assertOptions } from "./_validate.ts";
import { top1 } from "./_ops.ts";
import { infoNceLogits, validatePair } from "./_contrastive.ts";
import type { InfoNceOptions } from "./info_nce.ts";

/**
 * Top-1 accuracy of the positive among {@linkcode infoNce}'s logits: the fraction of rows (in both
 * directions, z1 -> z2 and z2 -> z1, averaged) whose largest logit is the diagonal one. A tie goes
 * to the lowest index (argmax), as in google-research/simclr's `contrast_acc` metric. A
 * monitoring metric: no gradient, returns a tensor (no read-back), so a method step can put it in
 * its metrics.
 *
 * @param z1 projections of the first view, shape `[n, d]`
 * @param z2 projections of the second view, shape `[n, d]`
 * @param options temperature (it does not change the argmax; accepted so callers can pass the
 * loss's options)
 * @returns a scalar in [0, 1]
 * @throws {TypeError} when the inputs are not float32 rank-2 tensors of the same shape
 * @throws {RangeError} for an empty batch or a temperature that is not > 0
 *
 * @example
 * ```ts
 * import { infoNceAccuracy, tf } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const z1 = tf.tensor2d([[1, 0], [0, 1]]);
 * const z2 = tf.tensor2d([[1, 0], [1, -0.1]]); // pair 1 is beaten in both directions
 * assert.equal(infoNceAccuracy(z1, z2).dataSync()[0], 0.5);
 * ```
 */
export function infoNceAccuracy(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  options: InfoNceOptions = {},
): tf.Scalar {
  assertOptions("InfoNCE accuracy", options, ["temperature"]);
  const { temperature = 0.1 } = options;
  validatePair("InfoNCE accuracy", z1, z2, temperature);
  return tf.tidy(() => {
    const { logits } = infoNceLogits(z1, z2, temperature); // [n, n]
    const targets = tf.range(0, z1.shape[0], 1, "int32") as tf.Tensor1D;
    const a12 = top1(logits, targets);
    const a21 = top1(tf.transpose(logits), targets);
    return tf.div(tf.add(a12, a21), 2) as tf.Scalar;
  });
}
