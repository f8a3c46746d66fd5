import { tf } from "../backend/tf.ts";
import { knnAccuracy } from "../eval/knn_accuracy.ts";
import type { KnnHeldOut, KnnMonitorOptions } from "./knn_monitor.ts";
import { rejectUnknownKeys } from "./_validate.ts";

/**
 * The trivial baseline of {@linkcode knnMonitor}: the same weighted kNN (cosine similarity, k
 * neighbours voting with weights exp(sim / τ)) on the raw pixels, flattened, instead of encoder
 * features, on the same bank and queries. A pretrained encoder is only useful where it beats this
 * figure (a practitioner compares with raw pixels, not only with a random network).
 *
 * @param heldOut labeled bank and query images (`[N,H,W,C]` / `[M,H,W,C]` in [0, 1])
 * @param options k and temperature, as the monitor's
 * @returns the kNN top-1 accuracy of raw pixels, in [0, 1]
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { knnRawPixels } from "./knn_raw_pixels.ts";
 * import assert from "node:assert/strict";
 * const bank = tf.tensor4d([1, 0, 0, 1], [2, 1, 2, 1]);
 * const queries = tf.tensor4d([0.9, 0.1], [1, 1, 2, 1]);
 * const acc = knnRawPixels(
 *   { trainImages: bank, trainLabels: [0, 1], testImages: queries, testLabels: [0] },
 *   { k: 1 },
 * );
 * assert.equal(acc, 1);
 * tf.dispose([bank, queries]);
 * ```
 */
export function knnRawPixels(
  heldOut: KnnHeldOut,
  options: Omit<KnnMonitorOptions, "batchSize"> = {},
): number {
  rejectUnknownKeys(options, ["k", "temperature"], "compute the raw-pixel kNN");
  const { k = 200, temperature = 0.1 } = options;
  for (const name of ["trainImages", "testImages"] as const) {
    const images = heldOut[name];
    if (!(images instanceof tf.Tensor) || images.rank !== 4) {
      throw new TypeError(
        `Cannot compute the raw-pixel kNN: ${name} must be a rank-4 tensor, received ${
          images instanceof tf.Tensor ? `shape [${images.shape}]` : typeof images
        }`,
      );
    }
  }
  const bank = tf.reshape(heldOut.trainImages, [heldOut.trainImages.shape[0], -1]);
  const queries = tf.reshape(heldOut.testImages, [heldOut.testImages.shape[0], -1]);
  try {
    return knnAccuracy(bank, heldOut.trainLabels, queries, heldOut.testLabels, {
      k,
      temperature,
    });
  } finally {
    tf.dispose([bank, queries]);
  }
}
