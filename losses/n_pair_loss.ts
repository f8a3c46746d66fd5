import { tf } from "../backend/tf.ts";
import { meanCrossEntropy, rowDot } from "./_ops.ts";
import { matMulT } from "./_grad.ts";
import { assertFloatTensor, assertOptions, assertPositive, assertSameShape } from "./_validate.ts";

/** Options for {@linkcode nPairLoss}. */
export interface NPairLossOptions {
  /**
   * Weight of the L2 penalty on the embeddings: `l2Reg × mean over the 2n embeddings of ||x||²`.
   * Sohn 2016 regularizes the embedding norms because the plain dot products are unbounded.
   * @default {0}
   */
  l2Reg?: number;
}

/**
 * Multi-class N-pair loss (Sohn 2016, "Improved Deep Metric Learning with Multi-class N-pair Loss
 * Objective", NeurIPS): logits are the plain (unnormalized) dot products anchors·positivesᵀ
 * `[n, n]`, and the loss is the mean softmax cross-entropy with the diagonal as targets (anchor i's
 * positive is positives row i, the other rows are its negatives), plus
 * `l2Reg × (mean_i ||a_i||² + mean_i ||p_i||²) / 2`. Each row should come from a different class.
 *
 * @param anchors anchor embeddings, shape `[n, d]`
 * @param positives positive embeddings, shape `[n, d]`, row i of the same class as anchor i
 * @param options l2Reg
 * @returns the scalar loss
 * @throws {TypeError} when the inputs are not float32 rank-2 tensors of the same shape
 * @throws {RangeError} for an empty batch or a negative l2Reg
 *
 * @example
 * ```ts
 * import { nPairLoss, tf } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const a = tf.tensor2d([[1, 0], [0, 1]]);
 * const loss = nPairLoss(a, a).dataSync()[0];
 * assert.ok(Math.abs(loss - Math.log(1 + Math.exp(-1))) < 1e-6);
 * ```
 */
export function nPairLoss(
  anchors: tf.Tensor2D,
  positives: tf.Tensor2D,
  options: NPairLossOptions = {},
): tf.Scalar {
  assertOptions("N-pair loss", options, ["l2Reg"]);
  const { l2Reg = 0 } = options;
  const loss = "N-pair loss";
  assertFloatTensor(loss, "anchors", anchors, ["n", "d"]);
  assertFloatTensor(loss, "positives", positives, ["n", "d"]);
  assertSameShape(loss, "anchors", anchors, "positives", positives);
  assertPositive(loss, "l2Reg", l2Reg, true);
  return tf.tidy(() => {
    const logits = matMulT(anchors, positives); // [n, n]
    const ce = meanCrossEntropy(logits, rowDot(anchors, positives));
    if (l2Reg === 0) return ce;
    const sq = tf.add(
      tf.mean(tf.sum(tf.square(anchors), 1)),
      tf.mean(tf.sum(tf.square(positives), 1)),
    );
    return tf.add(ce, tf.mul(l2Reg / 2, sq)) as tf.Scalar;
  });
}
