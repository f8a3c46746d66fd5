import { tf } from "../backend/tf.ts";
import { type Augmentation, checkImages, checkRange, rngFor, uniform } from "./_common.ts";
import { cornerBox } from "./_crop.ts";
import { brightness } from "./brightness.ts";
import { channelShuffle } from "./channel_shuffle.ts";
import { compose } from "./compose.ts";
import { contrast } from "./contrast.ts";
import { gaussianBlur } from "./gaussian_blur.ts";
import { gaussianNoise } from "./gaussian_noise.ts";
import { randomAffine } from "./random_affine.ts";
import { randomGrayscale } from "./random_grayscale.ts";

/** Options for {@linkcode textAugment}. */
export interface TextAugmentOptions {
  /**
   * Range of the kept width fraction of the horizontal crop. Kept close to 1 so the frames of
   * the two views stay aligned for a per-frame loss.
   * [0] SeqCLR, Aberdam et al. 2021, arXiv:2012.10873 (horizontal crop keeps >= 96%).
   * @default [0.96, 1]
   */
  width?: [number, number];
  /**
   * Range of the kept height fraction of the vertical crop.
   * [0] SeqCLR (vertical crop 60% to 100%).
   * @default [0.6, 1]
   */
  height?: [number, number];
  /**
   * Probability of each photometric and geometric step after the crop (small affine, blur,
   * contrast, brightness, noise; channel shuffle and grayscale at half of it on RGB).
   * @default 0.5
   */
  p?: number;
}

/** Crops a random `[height * H, width * W]` window of each line and resizes it back to `H x W`. */
function lineCrop(width: [number, number], height: [number, number]): Augmentation {
  return (images, seed) => {
    const [b, h, w] = checkImages(images, "textAugment");
    const prng = rngFor(seed, "textAugment");
    const boxes = new Float32Array(b * 4);
    for (let s = 0; s < b; s++) {
      const cw = Math.max(1, Math.round(uniform(prng, width[0], width[1]) * w));
      const ch = Math.max(1, Math.round(uniform(prng, height[0], height[1]) * h));
      const left = Math.floor(prng() * (w - cw + 1));
      const top = Math.floor(prng() * (h - ch + 1));
      boxes.set(cornerBox(top, left, ch, cw, h, w), s * 4);
    }
    return tf.tidy(() =>
      tf.image.cropAndResize(
        images,
        tf.tensor2d(boxes, [b, 4]),
        tf.range(0, b, 1, "int32") as tf.Tensor1D,
        [h, w],
        "bilinear",
      )
    );
  };
}

/**
 * Augmentation for text-line images, after SeqCLR: no flips (reading order matters), a
 * horizontal crop that keeps at least 96% of the width and a vertical crop of 60-100% of the
 * height (resized back to the input size), then, each with probability `p`: a small affine warp
 * (±2° rotation, ±5° shear, ±5% zoom), Gaussian blur, linear contrast, brightness and Gaussian
 * noise; on RGB lines also channel shuffle and grayscale. It covers the text pipeline of our
 * source document (noise, blur, jitter, channel conversion, grayscale, contrast, brightness,
 * proportional scaling). The output keeps the input's `[H, W]`, so two views of a line have the
 * same width and their frames stay aligned.
 *
 * @param options crop ranges and step probability
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, H, W, C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { textAugment } from "./text_augment.ts";
 * import assert from "node:assert/strict";
 * const x = tf.randomUniform([2, 32, 128, 1]) as tf.Tensor4D;
 * assert.deepEqual(textAugment()(x, 0).shape, [2, 32, 128, 1]);
 * ```
 */
export function textAugment(options: TextAugmentOptions = {}): Augmentation {
  const where = "textAugment";
  const { width = [0.96, 1], height = [0.6, 1], p = 0.5 } = options;
  const wr = checkRange(width, "width", where, 1e-3, 1);
  const hr = checkRange(height, "height", where, 1e-3, 1);
  checkRange(p, "p", where, 0, 1);
  return compose(
    lineCrop(wr, hr),
    [randomAffine({ degrees: 2, shear: 5, scale: [0.95, 1.05], translate: [0.05, 0.01] }), p],
    [gaussianBlur({ sigma: [0.1, 1.5] }), p],
    [contrast({ factor: 0.5 }), p],
    [brightness({ delta: 0.2 }), p],
    [channelShuffle(), p / 2],
    [randomGrayscale({ p: 1 }), p / 2],
    [gaussianNoise({ std: [0, 0.05] }), p],
  );
}
