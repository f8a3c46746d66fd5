import { tf } from "../backend/tf.ts";
import { matMulT, noGrad } from "./_grad.ts";

/**
 * Row-wise L2 normalization, `x / max(||x||, 1e-12)` as TensorFlow's `l2_normalize`: a zero row
 * stays zero instead of becoming NaN. Shape `[n, d]` -> `[n, d]`.
 */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  const sq = tf.sum(tf.square(x), 1, true); // [n, 1]
  return tf.mul(x, tf.rsqrt(tf.maximum(sq, 1e-24)));
}

/**
 * log Σ exp(x) along `axis` (0 or 1) of `[n, m]`, stable: the max is subtracted first. The max is
 * taken without gradient (its contributions cancel exactly), which spares tfjs' `Max` gradient
 * and its full-size `Equal` mask in the backward pass.
 */
export function logSumExp(x: tf.Tensor2D, axis: 0 | 1): tf.Tensor1D {
  const m = noGrad(x, (t) => tf.max(t, axis, true)); // [n, 1] or [1, m]
  return tf.reshape(tf.add(m, tf.log(tf.sum(tf.exp(tf.sub(x, m)), axis, true))), [-1]);
}

/**
 * Mean softmax cross-entropy of `logits` `[n, m]` (rows, or columns with `axis` 0) whose targets
 * are the given `positive` logits `[n]` (already present in each row): mean(logsumexp - positive).
 */
export function meanCrossEntropy(
  logits: tf.Tensor2D,
  positive: tf.Tensor1D,
  axis: 0 | 1 = 1,
): tf.Scalar {
  return tf.mean(tf.sub(logSumExp(logits, axis), positive));
}

/** Row-wise dot products of two `[n, d]` tensors: `[n]`. */
export function rowDot(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.mul(a, b), 1);
}

/**
 * Fraction of rows whose largest logit sits at the column `targets[i]` (argmax, so a tie goes
 * to the lowest column as in google-research/simclr). No gradient.
 */
export function top1(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), targets), "float32"));
}

/**
 * Distance between L2-normalized embeddings used by {@linkcode tripletLoss} and
 * {@linkcode contrastiveLoss}: euclidean ||a - b|| or cosine 1 - cos (pytorch-metric-learning).
 */
export type EmbeddingDistance = "euclidean" | "cosine";

/**
 * Pairwise distances `[n, n]` between the L2-normalized rows of `x` `[n, d]`: euclidean
 * `sqrt(2 - 2 cos)` or cosine `1 - cos`. A squared euclidean distance <= 1e-12 (identical rows)
 * gives exactly 0 with a zero gradient: the clamp keeps sqrt's gradient finite instead of NaN, and
 * the `step` factor makes the value exactly 0, so "non-zero term" counts match
 * pytorch-metric-learning's.
 */
export function pairwiseDistance(x: tf.Tensor2D, distance: EmbeddingDistance): tf.Tensor2D {
  const xn = l2Normalize(x);
  const cos = matMulT(xn, xn); // [n, n]
  if (distance === "cosine") return tf.sub(1, cos);
  const sq = tf.sub(2, tf.mul(2, cos));
  return tf.mul(tf.sqrt(tf.maximum(sq, 1e-12)), tf.step(tf.sub(sq, 1e-12)));
}

/**
 * Label masks `[n, n]` as float32 0/1: `same[i][j]` = same label and i != j, `different[i][j]` =
 * different labels. Built from labels only, so no gradient path crosses the comparisons.
 */
export function labelMasks(labels: tf.Tensor1D): { same: tf.Tensor2D; different: tf.Tensor2D } {
  const n = labels.shape[0];
  const eq = tf.cast(
    tf.equal(tf.reshape(labels, [n, 1]), tf.reshape(labels, [1, n])),
    "float32",
  ) as tf.Tensor2D;
  const same = tf.sub(eq, tf.eye(n)) as tf.Tensor2D;
  const different = tf.sub(1, eq) as tf.Tensor2D;
  return { same, different };
}

/**
 * Mean of `values` over the entries where `mask` is 1 and the value is > 0 (pytorch-metric-learning's
 * AvgNonZeroReducer); 0 when there are none. The count uses `step`, whose gradient is zero, so this
 * stays differentiable on every backend (tfjs has no gradient for `Greater`).
 */
export function meanNonZero(values: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  const masked = tf.mul(values, mask);
  const count = tf.sum(tf.step(masked));
  return tf.div(tf.sum(masked), tf.maximum(count, 1));
}
