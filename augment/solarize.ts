import { tf } from "../backend/tf.ts";
import {
  type Augmentation,
  checkImages,
  checkRange,
  perSampleFull,
  rngFor,
  uniform,
} from "./_common.ts";

/** Options for {@linkcode solarize}. */
export interface SolarizeOptions {
  /**
   * Pixels at or above the threshold are inverted (`x -> 1 - x`). A number is a fixed
   * threshold; `[min, max]` draws one threshold per sample.
   * [0] BYOL, Grill et al. 2020, arXiv:2006.07733 (Table 6: threshold 0.5, applied with
   * probability 0.2 in one view; wrap it in `compose` as `[solarize(), 0.2]`).
   * @default 0.5
   */
  threshold?: number | [number, number];
}

/**
 * Solarization: inverts every value at or above a threshold, `x >= t ? 1 - x : x`. Keeps shape
 * and the [0, 1] range. Deterministic when `threshold` is a number.
 *
 * @param options the threshold
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, H, W, C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { solarize } from "./solarize.ts";
 * import assert from "node:assert/strict";
 * const x = tf.tensor4d([0.25, 0.75], [1, 1, 2, 1]);
 * assert.deepEqual(Array.from(solarize()(x, 0).dataSync()), [0.25, 0.25]);
 * ```
 */
export function solarize(options: SolarizeOptions = {}): Augmentation {
  const { threshold = 0.5 } = options;
  const [lo, hi] = checkRange(threshold, "threshold", "solarize", 0, 1);
  return (images, seed) => {
    const [b] = checkImages(images, "solarize");
    const prng = rngFor(seed, "solarize");
    const t = Float32Array.from({ length: b }, () => uniform(prng, lo, hi));
    return tf.tidy(() => {
      const above = tf.cast(tf.greaterEqual(images, perSampleFull(t, images.shape)), "float32");
      // x + above * (1 - 2x): 1 - x where above, x elsewhere
      return tf.add(images, tf.mul(above, tf.sub(1, tf.mul(2, images)))) as tf.Tensor4D;
    });
  };
}
