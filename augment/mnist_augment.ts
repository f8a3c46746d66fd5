import { type Augmentation, checkSize } from "./_common.ts";
import { colorJitter } from "./color_jitter.ts";
import { compose } from "./compose.ts";
import { gaussianBlur } from "./gaussian_blur.ts";
import { gaussianNoise } from "./gaussian_noise.ts";
import { randomAffine } from "./random_affine.ts";
import { randomResizedCrop } from "./random_resized_crop.ts";

/** Options for {@linkcode mnistAugment}. */
export interface MnistAugmentOptions {
  /**
   * Output side or `[height, width]`.
   * @default the input's size (28 for MNIST)
   */
  size?: number | [number, number];
}

/**
 * Augmentation for MNIST-like digits (dark background, 1 channel): no flips (digits are not
 * mirror-symmetric), a random affine warp (p 0.8: ±15° rotation, ±10° shear, zoom 0.85-1.1,
 * shift up to 10%, zero fill), a random resized crop keeping 50-100% of the area, brightness
 * and contrast jitter 0.4 (p 0.8), blur (p 0.5) and Gaussian noise (p 0.5). Crops below half the
 * area often cut the digit's identity away, so the SimCLR range (8%) is too aggressive here.
 *
 * @param options output size
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, size[0], size[1], C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { mnistAugment } from "./mnist_augment.ts";
 * import assert from "node:assert/strict";
 * const x = tf.randomUniform([2, 28, 28, 1]) as tf.Tensor4D;
 * assert.deepEqual(mnistAugment()(x, 0).shape, [2, 28, 28, 1]);
 * ```
 */
export function mnistAugment(options: MnistAugmentOptions = {}): Augmentation {
  const size = checkSize(options.size, "size", "mnistAugment");
  return compose(
    [
      randomAffine({
        degrees: 15,
        shear: 10,
        scale: [0.85, 1.1],
        translate: [0.1, 0.1],
        fill: "constant",
        fillValue: 0,
      }),
      0.8,
    ],
    randomResizedCrop({ size, scale: [0.5, 1], ratio: [3 / 4, 4 / 3] }),
    [colorJitter({ brightness: 0.4, contrast: 0.4 }), 0.8],
    [gaussianBlur({ sigma: [0.1, 1] }), 0.5],
    [gaussianNoise({ std: [0, 0.1] }), 0.5],
  );
}
