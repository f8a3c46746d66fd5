import { tf } from "../backend/tf.ts";
import type * as tfl from "@tensorflow/tfjs-layers";
import { extractFeatures } from "../eval/extract_features.ts";
import { knnAccuracy } from "../eval/knn_accuracy.ts";
import { rejectUnknownKeys } from "./_validate.ts";

/** Labeled images the monitor classifies: a memory bank (`train`) and queries (`test`). */
export interface KnnHeldOut {
  /** Bank images `[N,H,W,C]` in [0, 1]. */
  trainImages: tf.Tensor4D;
  /** Bank labels, length N. */
  trainLabels: ArrayLike<number>;
  /** Query images `[M,H,W,C]` in [0, 1]. */
  testImages: tf.Tensor4D;
  /** Query labels, length M. */
  testLabels: ArrayLike<number>;
}

/** Options for {@linkcode knnMonitor}. */
export interface KnnMonitorOptions {
  /**
   * Neighbours that vote (Wu et al. 2018, arXiv:1805.01978, use 200).
   * @default 200
   */
  k?: number;
  /**
   * Temperature of the exp(sim / τ) vote weights.
   * @default 0.1
   */
  temperature?: number;
  /**
   * Images per forward pass.
   * @default 256
   */
  batchSize?: number;
}

/**
 * A per-epoch monitor for `train`'s `evaluate`: weighted kNN top-1 accuracy of the encoder's
 * features (inference mode; `[B,L,D]` or `[B,h,w,D]` outputs mean-pooled to `[B,D]`) on a labeled
 * held-out subset. It reads the encoder's current weights each time and changes nothing.
 *
 * @param encoder the encoder being trained
 * @param heldOut labeled bank and query images
 * @param options k, temperature, batch size
 * @returns `() => Promise<{ knnTop1 }>`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import { knnMonitor } from "./knn_monitor.ts";
 * import assert from "node:assert/strict";
 * const encoder = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [1, 2, 1] })] });
 * const bank = tf.tensor4d([1, 0, 0, 1], [2, 1, 2, 1]);
 * const monitor = knnMonitor(encoder, {
 *   trainImages: bank, trainLabels: [0, 1], testImages: bank, testLabels: [0, 1],
 * }, { k: 1 });
 * assert.equal((await monitor()).knnTop1, 1);
 * bank.dispose();
 * ```
 */
export function knnMonitor(
  encoder: tfl.LayersModel,
  heldOut: KnnHeldOut,
  options: KnnMonitorOptions = {},
): () => Promise<{ knnTop1: number }> {
  rejectUnknownKeys(options, ["k", "temperature", "batchSize"], "build the kNN monitor");
  const { k = 200, temperature = 0.1, batchSize = 256 } = options;
  for (
    const [name, images, labels] of [
      ["train", heldOut.trainImages, heldOut.trainLabels],
      ["test", heldOut.testImages, heldOut.testLabels],
    ] as const
  ) {
    if (!(images instanceof tf.Tensor) || images.rank !== 4) {
      throw new TypeError(`Cannot build the kNN monitor: ${name}Images must be a rank-4 tensor`);
    }
    if (labels.length !== images.shape[0]) {
      throw new TypeError(
        `Cannot build the kNN monitor: expected ${
          images.shape[0]
        } ${name} labels, received ${labels.length}`,
      );
    }
  }
  return async () => {
    const bank = await extractFeatures(encoder, heldOut.trainImages, { batchSize, pool: "mean" });
    try {
      const queries = await extractFeatures(encoder, heldOut.testImages, {
        batchSize,
        pool: "mean",
      });
      try {
        const knnTop1 = knnAccuracy(bank, heldOut.trainLabels, queries, heldOut.testLabels, {
          k,
          temperature,
        });
        return { knnTop1 };
      } finally {
        queries.dispose();
      }
    } finally {
      bank.dispose();
    }
  };
}
