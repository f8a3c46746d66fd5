import { tf } from "../backend/tf.ts";
import { assertOptions } from "./_validate.ts";
import { top1 } from "./_ops.ts";
import { ntXentLogits, validatePair } from "./_contrastive.ts";
import type { NtXentOptions } from "./nt_xent.ts";

/**
 * Top-1 accuracy of the positive among {@linkcode ntXent}'s logits: the fraction of the 2n anchors
 * whose most similar other embedding (self excluded) is their other view. Ties go to the lowest
 * index (argmax), as in google-research/simclr. A monitoring metric: no gradient, returns a tensor.
 *
 * @param z1 projections of the first view, shape `[n, d]`
 * @param z2 projections of the second view, shape `[n, d]`
 * @param options temperature (does not change the argmax)
 * @returns a scalar in [0, 1]
 * @throws {TypeError} when the inputs are not float32 rank-2 tensors of the same shape
 * @throws {RangeError} for an empty batch or a temperature that is not > 0
 *
 * @example
 * ```ts
 * import { ntXentAccuracy, tf } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const z1 = tf.tensor2d([[1, 0], [0, 1]]);
 * assert.equal(ntXentAccuracy(z1, z1).dataSync()[0], 1);
 * ```
 */
export function ntXentAccuracy(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  options: NtXentOptions = {},
): tf.Scalar {
  assertOptions("NT-Xent accuracy", options, ["temperature"]);
  const { temperature = 0.5 } = options;
  validatePair("NT-Xent accuracy", z1, z2, temperature);
  return tf.tidy(() => {
    const n = z1.shape[0];
    const { logits } = ntXentLogits(z1, z2, temperature); // [2n, 2n]
    const first = tf.range(n, 2 * n, 1, "int32");
    const second = tf.range(0, n, 1, "int32");
    return top1(logits, tf.concat([first, second]) as tf.Tensor1D);
  });
}
