import { tf } from "../backend/tf.ts";
import { type Augmentation, checkImages, checkRange, checkSize, rngFor } from "./_common.ts";
import { sampleCropBoxes } from "./_crop.ts";

/** Options for {@linkcode randomResizedCrop}. */
export interface RandomResizedCropOptions {
  /**
   * Output size, a side or `[height, width]`.
   * @default the input's `[H, W]`
   */
  size?: number | [number, number];
  /**
   * Range of the crop's area as a fraction of the image's area.
   * [0] SimCLR, Chen et al. 2020, arXiv:2002.05709, and torchvision `RandomResizedCrop`
   * (Szegedy et al. 2015, "Going deeper with convolutions").
   * @default [0.08, 1]
   */
  scale?: [number, number];
  /**
   * Range of the crop's aspect ratio (width / height), sampled log-uniformly.
   * @default [3 / 4, 4 / 3]
   */
  ratio?: [number, number];
  /**
   * Resampling of the crop to the output size.
   * @default "bilinear"
   */
  method?: "bilinear" | "nearest";
}

/**
 * Random resized crop: each sample gets its own crop (area fraction in `scale`, aspect ratio in
 * `ratio`), resized to `size` with one batched `tf.image.cropAndResize` call. Values stay in
 * [0, 1]; the output is `[B, size[0], size[1], C]`.
 *
 * @param options output size, scale and ratio ranges
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, size[0], size[1], C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { randomResizedCrop } from "./random_resized_crop.ts";
 * import assert from "node:assert/strict";
 * const x = tf.randomUniform([2, 32, 32, 3]) as tf.Tensor4D;
 * assert.deepEqual(randomResizedCrop({ size: 24 })(x, 1).shape, [2, 24, 24, 3]);
 * ```
 */
export function randomResizedCrop(options: RandomResizedCropOptions = {}): Augmentation {
  const where = "randomResizedCrop";
  const { scale = [0.08, 1], ratio = [3 / 4, 4 / 3], method = "bilinear" } = options;
  const size = checkSize(options.size, "size", where);
  const sc = checkRange(scale, "scale", where, 0, 1);
  if (sc[1] <= 0) {
    throw new RangeError(
      `Cannot create ${where}: scale must allow a positive area, received [${sc}]`,
    );
  }
  const ra = checkRange(ratio, "ratio", where, 1e-6, 1e6);
  return (images, seed) => {
    const [b, h, w] = checkImages(images, where);
    const prng = rngFor(seed, where);
    const boxes = sampleCropBoxes(prng, b, h, w, sc, ra);
    const out = size ?? [h, w];
    return tf.tidy(() =>
      tf.image.cropAndResize(
        images,
        tf.tensor2d(boxes, [b, 4]),
        tf.range(0, b, 1, "int32") as tf.Tensor1D,
        out,
        method,
      )
    );
  };
}
