/**
 * The first images of a labeled in-memory set as one tensor, for probes and monitors.
 *
 * @module
 */
import type { tf } from "../backend/tf.ts";
import { batchToTensor } from "./batch_to_tensor.ts";
import type { InMemoryDataset } from "./in_memory.ts";

/**
 * The first `n` images of a labeled set (all of them if it holds fewer) as a `[n, H, W, C]`
 * float32 tensor in `[0, 1]`, with a copy of their labels. The caller owns (and disposes) the
 * tensor.
 *
 * @param ds a labeled set (`mnist`, `fashionMnist`, `inMemoryDataset`)
 * @param n how many images
 * @returns the images, shape `[n, H, W, C]`, and their labels
 *
 * @example
 * ```ts
 * import { imagesOf, inMemoryDataset } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const ds = inMemoryDataset("tiny", Uint8Array.of(0, 255, 51, 102), Uint8Array.of(3, 7), [1, 2, 1], 10);
 * const { images, labels } = imagesOf(ds, 1);
 * assert.deepEqual(images.shape, [1, 1, 2, 1]);
 * assert.deepEqual([...images.dataSync()], [0, 1]);
 * assert.deepEqual([...labels], [3]);
 * images.dispose();
 * ```
 */
export function imagesOf(
  ds: InMemoryDataset,
  n: number,
): { images: tf.Tensor4D; labels: Uint8Array } {
  const count = Math.min(n, ds.length);
  const [h, w, c] = ds.shape;
  return {
    images: batchToTensor({
      images: ds.images.subarray(0, count * h * w * c),
      shape: [count, h, w, c],
    }),
    labels: ds.labels.slice(0, count),
  };
}
