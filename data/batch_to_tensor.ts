/**
 * Batch to tensor: uint8 pixels to float32 in [0, 1].
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import type { Batch } from "./loader.ts";

/**
 * The images of a batch as a float32 tensor in `[0, 1]` (pixel / 255), shape `[B, H, W, C]`.
 * The caller owns (and disposes) the tensor.
 *
 * @param batch a batch from {@linkcode Loader}, or anything with `images` and `shape`
 * @returns images, shape `[B, H, W, C]`, float32 in `[0, 1]`
 *
 * @example
 * ```ts
 * import { batchToTensor } from "./batch_to_tensor.ts";
 * import assert from "node:assert/strict";
 * const x = batchToTensor({ images: Uint8Array.of(0, 255, 51, 102), shape: [1, 2, 2, 1] });
 * assert.deepEqual(x.shape, [1, 2, 2, 1]);
 * const v = x.dataSync();
 * assert.ok(v[0] === 0 && v[1] === 1 && Math.abs(v[2] - 0.2) < 1e-7);
 * x.dispose();
 * ```
 */
export function batchToTensor(batch: Pick<Batch, "images" | "shape">): tf.Tensor4D {
  const { images, shape } = batch;
  if (!(images instanceof Uint8Array)) {
    throw new TypeError(
      `Cannot convert batch: images must be a Uint8Array, received ${typeof images}`,
    );
  }
  if (
    !Array.isArray(shape) || shape.length !== 4 ||
    !shape.every((d) => Number.isInteger(d) && d >= 0)
  ) {
    throw new TypeError(
      `Cannot convert batch: shape must be [B, H, W, C] of non-negative integers, received ${
        JSON.stringify(shape)
      }`,
    );
  }
  const n = shape[0] * shape[1] * shape[2] * shape[3];
  if (images.length !== n) {
    throw new TypeError(
      `Cannot convert batch: shape [${shape}] needs ${n} values, received ${images.length}`,
    );
  }
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = images[i] / 255;
  return tf.tensor4d(values, shape, "float32");
}
