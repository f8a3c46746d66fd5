import { tf } from "../backend/tf.ts";
import { type Augmentation, checkImages, checkNumber, checkSize } from "./_common.ts";
import { colorJitter } from "./color_jitter.ts";
import { compose } from "./compose.ts";
import { gaussianBlur } from "./gaussian_blur.ts";
import { horizontalFlip } from "./horizontal_flip.ts";
import { randomGrayscale } from "./random_grayscale.ts";
import { randomResizedCrop } from "./random_resized_crop.ts";

/** Options for {@linkcode simclrAugment}. */
export interface SimclrAugmentOptions {
  /**
   * Output side or `[height, width]` of the random resized crop.
   * @default the input's size
   */
  size?: number | [number, number];
  /**
   * Color distortion strength s: jitter 0.8 s brightness, contrast and saturation, 0.2 s hue.
   * [0] SimCLR, Chen et al. 2020, arXiv:2002.05709 (s = 1 on ImageNet, 0.5 on CIFAR-10).
   * @default 1
   */
  strength?: number;
  /**
   * Gaussian blur with probability 0.5 (sigma 0.1-2, kernel 10% of the side). SimCLR blurs on
   * ImageNet and not on CIFAR-10, so by default only outputs of side >= 96 are blurred.
   * @default min(output side) >= 96
   */
  blur?: boolean;
  /**
   * Area range of the random resized crop.
   * @default [0.08, 1]
   */
  scale?: [number, number];
}

/**
 * SimCLR's augmentation: random resized crop, horizontal flip (p 0.5), color jitter with
 * strength s (p 0.8), grayscale (p 0.2), and for ImageNet-size images Gaussian blur (p 0.5).
 * On 1-channel images the jitter reduces to brightness and contrast and grayscale is a no-op.
 *
 * @param options output size, color strength, blur
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, size[0], size[1], C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { simclrAugment } from "./simclr_augment.ts";
 * import assert from "node:assert/strict";
 * const x = tf.randomUniform([4, 32, 32, 3]) as tf.Tensor4D;
 * assert.deepEqual(simclrAugment({ strength: 0.5 })(x, 0).shape, [4, 32, 32, 3]);
 * ```
 */
export function simclrAugment(options: SimclrAugmentOptions = {}): Augmentation {
  const where = "simclrAugment";
  const { strength = 1, blur, scale = [0.08, 1] } = options;
  checkNumber(strength, "strength", where, 0, 1e3);
  const size = checkSize(options.size, "size", where);
  const s = strength;
  const head = [
    randomResizedCrop({ size, scale }),
    horizontalFlip({ p: 0.5 }),
    [
      colorJitter({
        brightness: 0.8 * s,
        contrast: 0.8 * s,
        saturation: 0.8 * s,
        hue: Math.min(0.2 * s, 0.5),
      }),
      0.8,
    ] as [Augmentation, number],
    randomGrayscale({ p: 0.2 }),
  ];
  const plain = compose(...head);
  const blurred = compose(...head, [gaussianBlur(), 0.5]);
  // The colour ops assume values in [0, 1]: 0-255 input would saturate every jitter. Checked on
  // the first batch only, so the read-back (a sync on WebGPU) happens once, not every step.
  let rangeChecked = false;
  return (images, seed) => {
    const [, h, w] = checkImages(images, where);
    if (!rangeChecked) {
      const [lo, hi] = tf.tidy(() => [tf.min(images), tf.max(images)]).map((t) => {
        const v = t.dataSync()[0];
        t.dispose();
        return v;
      });
      if (lo < -1e-3 || hi > 1 + 1e-3) {
        throw new RangeError(
          `Cannot apply ${where}: images must hold values in [0, 1], received values in [${lo}, ${hi}] (divide 0-255 pixels by 255)`,
        );
      }
      rangeChecked = true;
    }
    const [oh, ow] = size ?? [h, w];
    const useBlur = blur ?? Math.min(oh, ow) >= 96;
    return (useBlur ? blurred : plain)(images, seed);
  };
}
