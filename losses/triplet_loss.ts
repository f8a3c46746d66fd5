import { tf } from "../backend/tf.ts";
import { type EmbeddingDistance, labelMasks, meanNonZero, pairwiseDistance } from "./_ops.ts";
import {
  assertFloatTensor,
  assertLabels,
  assertOneOf,
  assertOptions,
  assertPositive,
} from "./_validate.ts";

/** Which triplets {@linkcode tripletLoss} uses. */
export type TripletMining = "all" | "hard" | "semihard";

/** Options for {@linkcode tripletLoss}. */
export interface TripletLossOptions {
  /**
   * Margin m of relu(d_ap - d_an + m).
   * @default {0.05} pytorch-metric-learning's `TripletMarginLoss` default (Musgrave et al. 2020,
   * arXiv:2003.08505)
   */
  margin?: number;
  /**
   * `"all"`: every valid (anchor, positive, negative) triplet. `"hard"`: batch-hard (Hermans et
   * al. 2017, arXiv:1703.07737), the farthest positive and the nearest negative of each anchor.
   * `"semihard"`: triplets whose negative satisfies d_ap < d_an < d_ap + margin (Schroff et al.
   * 2015, FaceNet, arXiv:1503.03832).
   * @default {"all"}
   */
  mining?: TripletMining;
  /**
   * Distance between the L2-normalized embeddings: `"euclidean"` (||a - b||) or `"cosine"`
   * (1 - cos).
   * @default {"euclidean"} as pytorch-metric-learning's `LpDistance(normalize_embeddings=True)`
   */
  distance?: EmbeddingDistance;
}

/**
 * Triplet margin loss (Weinberger & Saul 2009; Schroff et al. 2015) with online mining, following
 * pytorch-metric-learning's defaults: embeddings are L2-normalized, each mined triplet (a, p, n)
 * with label(a) = label(p), a != p, label(n) != label(a) contributes relu(d_ap - d_an + margin),
 * and the loss is the mean over the triplets whose loss is > 0 (AvgNonZeroReducer; 0 when none).
 *
 * Mining is done by arithmetic masks over the `[n, n, n]` (all, semihard) or `[n, n]` (hard)
 * distance tables, so it is differentiable on every backend. Memory grows as n³ for "all" and
 * "semihard" (n = 256: 16.8M floats).
 *
 * @param embeddings shape `[n, d]`
 * @param labels class of each embedding, int32, shape `[n]`
 * @param options margin, mining, distance
 * @returns the scalar loss
 * @throws {TypeError} for wrong ranks, dtypes or a label count other than n
 * @throws {RangeError} for an empty batch, a non-finite margin, or an unknown mining or distance
 *
 * @example
 * ```ts
 * import { tf, tripletLoss } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const e = tf.tensor2d([[1, 0], [1, 0], [0, 1]]);
 * const labels = tf.tensor1d([0, 0, 1], "int32");
 * // d_ap = 0 and d_an = sqrt(2) for every triplet: all losses are 0.
 * assert.ok(tripletLoss(e, labels, { margin: 0.2 }).dataSync()[0] < 1e-6);
 * const hard = tripletLoss(e, labels, { margin: 2, mining: "hard" }).dataSync()[0];
 * assert.ok(Math.abs(hard - (2 - Math.SQRT2)) < 1e-3);
 * ```
 */
export function tripletLoss(
  embeddings: tf.Tensor2D,
  labels: tf.Tensor1D,
  options: TripletLossOptions = {},
): tf.Scalar {
  assertOptions("triplet loss", options, ["margin", "mining", "distance"]);
  const { margin = 0.05, mining = "all", distance = "euclidean" } = options;
  const loss = "triplet loss";
  assertFloatTensor(loss, "embeddings", embeddings, ["n", "d"]);
  assertLabels(loss, labels, embeddings.shape[0]);
  assertPositive(loss, "margin", margin, true); // FaceNet's alpha: a margin, never negative
  assertOneOf(loss, "mining", mining, ["all", "hard", "semihard"] as const);
  assertOneOf(loss, "distance", distance, ["euclidean", "cosine"] as const);
  const n = embeddings.shape[0];
  return tf.tidy(() => {
    const d = pairwiseDistance(embeddings, distance); // [n, n]
    const { same, different } = labelMasks(labels); // [n, n] each
    if (mining === "hard") {
      // Distances are >= 0, so masking by multiplication gives the farthest positive, and adding a
      // large constant outside the negatives gives the nearest negative.
      const hardPos = tf.max(tf.mul(d, same), 1); // [n]
      const hardNeg = tf.min(tf.add(d, tf.mul(tf.sub(1, different), 1e4)), 1); // [n]
      const valid = tf.mul(tf.max(same, 1), tf.max(different, 1)); // [n] has both
      const l = tf.relu(tf.add(tf.sub(hardPos, hardNeg), margin));
      return meanNonZero(l, valid);
    }
    const dap = tf.reshape(d, [n, n, 1]); // [a, p, 1]
    const dan = tf.reshape(d, [n, 1, n]); // [a, 1, n]
    const valid = tf.mul(tf.reshape(same, [n, n, 1]), tf.reshape(different, [n, 1, n])); // [a,p,n]
    const gap = tf.sub(dap, dan); // d_ap - d_an, [a, p, n]
    const l = tf.relu(tf.add(gap, margin));
    if (mining === "all") return meanNonZero(l, valid);
    // semihard: d_ap < d_an < d_ap + margin. step() has a zero gradient (Greater has none).
    const semi = tf.mul(tf.step(tf.neg(gap)), tf.step(tf.add(gap, margin)));
    return meanNonZero(l, tf.mul(valid, semi));
  });
}
