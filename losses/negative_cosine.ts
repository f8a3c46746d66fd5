import { tf } from "../backend/tf.ts";
import { stopGradient } from "../backend/stop_gradient.ts";
import { l2Normalize, rowDot } from "./_ops.ts";
import { assertFloatTensor, assertSameShape } from "./_validate.ts";

/**
 * Negative cosine similarity with a stop-gradient on the target, SimSiam's D(p, z) (Chen & He
 * 2020, arXiv:2011.10566, Algorithm 1) and BYOL's regression loss up to an affine map (Grill et
 * al. 2020, arXiv:2006.07733: 2 - 2 cos): `-mean_i cos(p_i, stopGradient(z_i))`, as
 * `loss_simsiam` in our source document. The symmetric SimSiam loss is
 * `negativeCosine(p1, z2) / 2 + negativeCosine(p2, z1) / 2`.
 *
 * @param p predictor outputs, shape `[n, d]` (receive the gradient)
 * @param z target projections, shape `[n, d]` (no gradient flows into them)
 * @returns the scalar loss in [-1, 1]; -1 when every p_i points along z_i
 * @throws {TypeError} when the inputs are not float32 rank-2 tensors of the same shape
 * @throws {RangeError} for an empty batch
 *
 * @example
 * ```ts
 * import { negativeCosine, tf } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const p = tf.tensor2d([[2, 0], [0, 1]]);
 * const z = tf.tensor2d([[1, 0], [0, -3]]);
 * assert.ok(Math.abs(negativeCosine(p, z).dataSync()[0] - 0) < 1e-6); // (-1 + 1) / 2
 * ```
 */
export function negativeCosine(p: tf.Tensor2D, z: tf.Tensor2D): tf.Scalar {
  const loss = "negative cosine";
  assertFloatTensor(loss, "p", p, ["n", "d"]);
  assertFloatTensor(loss, "z", z, ["n", "d"]);
  assertSameShape(loss, "p", p, "z", z);
  return tf.tidy(() => {
    const cos = rowDot(l2Normalize(p), l2Normalize(stopGradient(z))); // [n]
    return tf.neg(tf.mean(cos)) as tf.Scalar;
  });
}
