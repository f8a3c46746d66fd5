import { tf } from "../backend/tf.ts";
import { assertFloatTensor, assertOptions, assertPositive, assertSameShape } from "./_validate.ts";

/** Options for {@linkcode vicregLoss}. */
export interface VicregLossOptions {
  /**
   * Weight λ of the invariance term (mean squared error between the views).
   * @default {25} as in VICReg, Bardes et al. 2022, arXiv:2105.04906
   */
  invariance?: number;
  /**
   * Weight μ of the variance term (hinge on each dimension's standard deviation).
   * @default {25} as in VICReg, Bardes et al. 2022, arXiv:2105.04906
   */
  variance?: number;
  /**
   * Weight ν of the covariance term (squared off-diagonal covariances).
   * @default {1} as in VICReg, Bardes et al. 2022, arXiv:2105.04906
   */
  covariance?: number;
}

/**
 * VICReg loss (Bardes, Ponce & LeCun 2022, arXiv:2105.04906, Algorithm 1):
 * `λ·mean((z1 - z2)²) + μ·(mean_j relu(1 - std_j(z1)) + mean_j relu(1 - std_j(z2))) / 2 +
 * ν·(Σ_{i≠j} Cov(z1)_ij² + Σ_{i≠j} Cov(z2)_ij²) / d`, with std = sqrt(unbiased variance + 1e-4)
 * and Cov = z̄ᵀ z̄ / (n - 1) of the batch-centred embeddings. The off-diagonal is selected by an
 * arithmetic mask.
 *
 * @param z1 embeddings of the first view, shape `[n, d]`, n >= 2
 * @param z2 embeddings of the second view, shape `[n, d]`
 * @param options invariance, variance, covariance weights
 * @returns the scalar loss
 * @throws {TypeError} when the inputs are not float32 rank-2 tensors of the same shape
 * @throws {RangeError} for a batch of fewer than 2 rows or a negative weight
 *
 * @example
 * ```ts
 * import { tf, vicregLoss } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const z = tf.tensor2d([[2, 2], [-2, 2], [2, -2], [-2, -2]]); // std > 1, uncorrelated
 * assert.ok(Math.abs(vicregLoss(z, z).dataSync()[0]) < 1e-5); // every term is 0
 * ```
 */
export function vicregLoss(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  options: VicregLossOptions = {},
): tf.Scalar {
  assertOptions("VICReg loss", options, ["invariance", "variance", "covariance"]);
  const { invariance = 25, variance = 25, covariance = 1 } = options;
  const loss = "VICReg loss";
  assertFloatTensor(loss, "z1", z1, ["n", "d"]);
  assertFloatTensor(loss, "z2", z2, ["n", "d"]);
  assertSameShape(loss, "z1", z1, "z2", z2);
  assertPositive(loss, "invariance", invariance, true);
  assertPositive(loss, "variance", variance, true);
  assertPositive(loss, "covariance", covariance, true);
  const [n, d] = z1.shape;
  if (n < 2) {
    throw new RangeError(
      `Cannot compute ${loss}: the batch must have at least 2 rows for variances, received [${z1.shape}]`,
    );
  }
  return tf.tidy(() => {
    const repr = tf.mean(tf.squaredDifference(z1, z2));
    const offMask = tf.sub(1, tf.eye(d)); // [d, d]
    const terms = [z1, z2].map((z) => {
      const x = tf.sub(z, tf.mean(z, 0, true)); // [n, d] centred
      const cov = tf.div(tf.matMul(x, x, true, false), n - 1); // [d, d]
      const varJ = tf.div(tf.sum(tf.square(x), 0), n - 1); // [d] unbiased
      const std = tf.sqrt(tf.add(varJ, 1e-4));
      return {
        std: tf.mean(tf.relu(tf.sub(1, std))),
        cov: tf.div(tf.sum(tf.mul(tf.square(cov), offMask)), d),
      };
    });
    const stdLoss = tf.div(tf.add(terms[0].std, terms[1].std), 2);
    const covLoss = tf.add(terms[0].cov, terms[1].cov);
    return tf.addN([
      tf.mul(invariance, repr),
      tf.mul(variance, stdLoss),
      tf.mul(covariance, covLoss),
    ]) as tf.Scalar;
  });
}
