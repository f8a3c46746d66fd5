import { tf } from "../backend/tf.ts";
import { type EmbeddingDistance, labelMasks, meanNonZero, pairwiseDistance } from "./_ops.ts";
import {
  assertFinite,
  assertFloatTensor,
  assertLabels,
  assertOneOf,
  assertOptions,
} from "./_validate.ts";

/** Options for {@linkcode contrastiveLoss}. */
export interface ContrastiveLossOptions {
  /**
   * Same-label pairs are pulled until their distance is at most posMargin.
   * @default {0} pytorch-metric-learning's `ContrastiveLoss` default
   */
  posMargin?: number;
  /**
   * Different-label pairs are pushed until their distance is at least negMargin.
   * @default {1} pytorch-metric-learning's `ContrastiveLoss` default (Hadsell et al. 2006's m)
   */
  negMargin?: number;
  /**
   * Distance between the L2-normalized embeddings.
   * @default {"euclidean"}
   */
  distance?: EmbeddingDistance;
}

/**
 * Contrastive (margin) loss of Hadsell, Chopra & LeCun 2006 ("Dimensionality Reduction by Learning
 * an Invariant Mapping", CVPR) with pytorch-metric-learning's conventions: over all ordered pairs
 * i != j of L2-normalized embeddings, relu(d - posMargin) for same-label pairs and
 * relu(negMargin - d) for different-label pairs; each part is averaged over its non-zero terms (0
 * when none) and the two averages are summed.
 *
 * @param embeddings shape `[n, d]`
 * @param labels class of each embedding, int32, shape `[n]`
 * @param options posMargin, negMargin, distance
 * @returns the scalar loss
 * @throws {TypeError} for wrong ranks, dtypes or a label count other than n
 * @throws {RangeError} for an empty batch, non-finite margins or an unknown distance
 *
 * @example
 * ```ts
 * import { contrastiveLoss, tf } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const e = tf.tensor2d([[1, 0], [0, 1], [0, 1]]);
 * const labels = tf.tensor1d([0, 0, 1], "int32");
 * // positive pair (0,1): d = sqrt(2); negative pairs: (0,2) d = sqrt(2) -> 0, (1,2) d = 0 -> 1
 * const loss = contrastiveLoss(e, labels).dataSync()[0];
 * assert.ok(Math.abs(loss - (Math.SQRT2 + 1)) < 1e-3);
 * ```
 */
export function contrastiveLoss(
  embeddings: tf.Tensor2D,
  labels: tf.Tensor1D,
  options: ContrastiveLossOptions = {},
): tf.Scalar {
  assertOptions("contrastive loss", options, ["posMargin", "negMargin", "distance"]);
  const { posMargin = 0, negMargin = 1, distance = "euclidean" } = options;
  const loss = "contrastive loss";
  assertFloatTensor(loss, "embeddings", embeddings, ["n", "d"]);
  assertLabels(loss, labels, embeddings.shape[0]);
  assertFinite(loss, "posMargin", posMargin);
  assertFinite(loss, "negMargin", negMargin);
  assertOneOf(loss, "distance", distance, ["euclidean", "cosine"] as const);
  return tf.tidy(() => {
    const d = pairwiseDistance(embeddings, distance); // [n, n]
    const { same, different } = labelMasks(labels);
    const pos = meanNonZero(tf.relu(tf.sub(d, posMargin)), same);
    const neg = meanNonZero(tf.relu(tf.sub(negMargin, d)), different);
    return tf.add(pos, neg) as tf.Scalar;
  });
}
