import { tf } from "../backend/tf.ts";
import {
  adjustContrast,
  type Augmentation,
  checkImages,
  checkRange,
  rngFor,
  uniform,
} from "./_common.ts";

/** Options for {@linkcode contrast}. */
export interface ContrastOptions {
  /**
   * The contrast factor: a number `c` draws a factor per sample uniformly in
   * `[max(0, 1 - c), 1 + c]`; `[min, max]` draws in that range.
   * [0] SimCLR, Chen et al. 2020, arXiv:2002.05709 (contrast 0.8 s; s = 0.5 for CIFAR-10).
   * @default 0.4
   */
  factor?: number | [number, number];
}

/**
 * Contrast (对比度调节), as `tf.image.adjust_contrast`: each sample's pixels move away from (or
 * toward) their per-image, per-channel mean by a random factor, `clip(c (x - mean) + mean)`. The
 * mean is kept wherever nothing clips. Shape is kept.
 *
 * @param options the range of the factor
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, H, W, C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { contrast } from "./contrast.ts";
 * import assert from "node:assert/strict";
 * const x = tf.tensor4d([0.4, 0.6], [1, 1, 2, 1]);
 * const y = contrast({ factor: [2, 2] })(x, 0).dataSync();
 * assert.ok(Math.abs(y[0] - 0.3) < 1e-6 && Math.abs(y[1] - 0.7) < 1e-6);
 * ```
 */
export function contrast(options: ContrastOptions = {}): Augmentation {
  const { factor = 0.4 } = options;
  const [lo, hi] = checkRange(
    factor,
    "factor",
    "contrast",
    0,
    1e3,
    (c) => [Math.max(0, 1 - c), 1 + c],
  );
  return (images, seed) => {
    const [b] = checkImages(images, "contrast");
    const prng = rngFor(seed, "contrast");
    const c = Float32Array.from({ length: b }, () => uniform(prng, lo, hi));
    return tf.tidy(() => adjustContrast(images, c));
  };
}
