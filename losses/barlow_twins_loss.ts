import { tf } from "../backend/tf.ts";
import { assertFloatTensor, assertOptions, assertPositive, assertSameShape } from "./_validate.ts";

/** Options for {@linkcode barlowTwinsLoss}. */
export interface BarlowTwinsLossOptions {
  /**
   * Weight λ of the redundancy-reduction (off-diagonal) term.
   * @default {5e-3} as in Barlow Twins, Zbontar et al. 2021, arXiv:2103.03230
   */
  lambda?: number;
}

/**
 * Barlow Twins loss (Zbontar et al. 2021, arXiv:2103.03230, Algorithm 1): each embedding dimension
 * is standardized along the batch (batch norm without affine: mean 0, biased variance + 1e-5), the
 * cross-correlation C = z1ᵀ z2 / n `[d, d]` is formed, and
 * `loss = Σ_i (1 - C_ii)² + λ Σ_{i≠j} C_ij²`. The off-diagonal is selected by an arithmetic mask.
 *
 * @param z1 projections of the first view, shape `[n, d]`, n >= 2
 * @param z2 projections of the second view, shape `[n, d]`
 * @param options lambda
 * @returns the scalar loss
 * @throws {TypeError} when the inputs are not float32 rank-2 tensors of the same shape
 * @throws {RangeError} for a batch of fewer than 2 rows or a negative lambda
 *
 * @example
 * ```ts
 * import { barlowTwinsLoss, tf } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const z = tf.tensor2d([[1, 1], [-1, 1], [1, -1], [-1, -1]]); // uncorrelated columns
 * assert.ok(barlowTwinsLoss(z, z).dataSync()[0] < 1e-4); // C is (nearly) the identity
 * ```
 */
export function barlowTwinsLoss(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  options: BarlowTwinsLossOptions = {},
): tf.Scalar {
  assertOptions("Barlow Twins loss", options, ["lambda"]);
  const { lambda = 5e-3 } = options;
  const loss = "Barlow Twins loss";
  assertFloatTensor(loss, "z1", z1, ["n", "d"]);
  assertFloatTensor(loss, "z2", z2, ["n", "d"]);
  assertSameShape(loss, "z1", z1, "z2", z2);
  assertPositive(loss, "lambda", lambda, true);
  const [n, d] = z1.shape;
  if (n < 2) {
    throw new RangeError(
      `Cannot compute ${loss}: the batch must have at least 2 rows to standardize, received [${z1.shape}]`,
    );
  }
  return tf.tidy(() => {
    const a = standardize(z1);
    const b = standardize(z2);
    const c = tf.div(tf.matMul(a, b, true, false), n); // [d, d]
    const diag = tf.div(tf.sum(tf.mul(a, b), 0), n); // [d], C_ii
    const onDiag = tf.sum(tf.square(tf.sub(1, diag)));
    const offDiag = tf.sum(tf.mul(tf.square(c), tf.sub(1, tf.eye(d))));
    return tf.add(onDiag, tf.mul(lambda, offDiag)) as tf.Scalar;
  });
}

/** Batch norm without affine parameters over axis 0: `[n, d]` -> `[n, d]`. */
function standardize(z: tf.Tensor2D): tf.Tensor2D {
  const { mean, variance } = tf.moments(z, 0, true);
  return tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor2D;
}
