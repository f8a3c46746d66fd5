import { tf } from "../backend/tf.ts";
import {
  type Augmentation,
  checkImages,
  checkRange,
  clip01,
  perSampleFull,
  rngFor,
  uniform,
} from "./_common.ts";

/** Options for {@linkcode brightness}. */
export interface BrightnessOptions {
  /**
   * The additive shift: a number `d` draws a shift per sample uniformly in `[-d, d]`; `[min, max]`
   * draws in that range (`[0.1, 0.1]` always adds 0.1).
   * [0] SimCLR v1, Chen et al. 2020, arXiv:2002.05709 (`tf.image.random_brightness` with
   * max_delta 0.8 s; s = 0.5 for CIFAR-10).
   * @default 0.4
   */
  delta?: number | [number, number];
}

/**
 * Brightness (亮度调节): adds one random shift per sample to every pixel, then clips to [0, 1].
 * Shape is kept.
 *
 * @param options the range of the shift
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, H, W, C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { brightness } from "./brightness.ts";
 * import assert from "node:assert/strict";
 * const x = tf.fill([1, 2, 2, 1], 0.5) as tf.Tensor4D;
 * const y = brightness({ delta: [0.25, 0.25] })(x, 0);
 * assert.deepEqual(Array.from(y.dataSync()), [0.75, 0.75, 0.75, 0.75]);
 * ```
 */
export function brightness(options: BrightnessOptions = {}): Augmentation {
  const { delta = 0.4 } = options;
  const [lo, hi] = checkRange(delta, "delta", "brightness", -1, 1, (d) => [-d, d]);
  return (images, seed) => {
    const [b] = checkImages(images, "brightness");
    const prng = rngFor(seed, "brightness");
    const shift = Float32Array.from({ length: b }, () => uniform(prng, lo, hi));
    return tf.tidy(() => clip01(tf.add(images, perSampleFull(shift, images.shape))));
  };
}
