/**
 * Private: a batched `tf.image.transform` that is correct on every backend.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";

/**
 * `tf.image.transform` with one projective transform per sample (`transforms` is `[B, 8]`).
 *
 * tfjs-backend-cpu 4.22's `Transform` kernel returns from inside its batch loop, so only the
 * first sample is transformed and the others come back filled. On the cpu backend the batch is
 * therefore transformed one sample at a time; elsewhere (wasm, webgpu) in one call.
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
    if (tf.getBackend() !== "cpu" || b === 1) {
      const t = tf.tensor2d(transforms, [b, 8]);
      return tf.image.transform(images, t, "bilinear", fill, fillValue, outputShape);
    }
    const samples = tf.split(images, b, 0) as tf.Tensor4D[];
    const out = samples.map((x, i) =>
      tf.image.transform(
        x,
        tf.tensor2d(transforms.subarray(i * 8, i * 8 + 8), [1, 8]),
        "bilinear",
        fill,
        fillValue,
        outputShape,
      )
    );
    return tf.concat(out, 0) as tf.Tensor4D;
  });
}
