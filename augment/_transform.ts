/**
 * Private: a batched `tf.image.transform`.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";

/**
 * `tf.image.transform` with one projective transform per sample (`transforms` is `[B, 8]`).
 *
 * tfjs-backend-cpu 4.22's `Transform` kernel transforms only the first image of a batch; `useBackend`
 * registers a batch-correct kernel for cpu and native (backend/kernels), so one call serves every
 * backend.
 */
export function transformBatch(
  images: tf.Tensor4D,
  transforms: Float32Array,
  fill: "constant" | "nearest" | "reflect",
  fillValue: number,
  outputShape: [number, number],
): tf.Tensor4D {
  const b = images.shape[0];
  return tf.tidy(() => {
    const t = tf.tensor2d(transforms, [b, 8]);
    return tf.image.transform(images, t, "bilinear", fill, fillValue, outputShape);
  });
}
