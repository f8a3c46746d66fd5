import { tf } from "../backend/tf.ts";
import {
  type Augmentation,
  channelMatmul,
  checkImages,
  checkProbability,
  LUMA,
  rngFor,
} from "./_common.ts";

/** Options for {@linkcode randomGrayscale}. */
export interface RandomGrayscaleOptions {
  /**
   * Probability that a sample is turned gray, independently per sample.
   * [0] SimCLR, Chen et al. 2020, arXiv:2002.05709 (random grayscale with probability 0.2).
   * @default 0.2
   */
  p?: number;
}

/**
 * Random grayscale (灰度化): with probability `p` a sample's three channels are all replaced by
 * the ITU-R BT.601 luma `0.299 R + 0.587 G + 0.114 B`. Shape and range are kept; 1-channel
 * images are returned unchanged (they are gray already).
 *
 * @param options the probability
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, H, W, C]`, C = 3 or 1
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { randomGrayscale } from "./random_grayscale.ts";
 * import assert from "node:assert/strict";
 * const x = tf.tensor4d([1, 0, 0], [1, 1, 1, 3]);
 * const y = randomGrayscale({ p: 1 })(x, 0).dataSync();
 * assert.ok(Math.abs(y[0] - 0.299) < 1e-6 && y[0] === y[1] && y[1] === y[2]);
 * ```
 */
export function randomGrayscale(options: RandomGrayscaleOptions = {}): Augmentation {
  const { p = 0.2 } = options;
  checkProbability(p, "p", "randomGrayscale");
  return (images, seed) => {
    const [b, , , c] = checkImages(images, "randomGrayscale");
    if (c !== 1 && c !== 3) {
      throw new TypeError(
        `Cannot apply randomGrayscale: images must have 1 or 3 channels, received ${c}`,
      );
    }
    const prng = rngFor(seed, "randomGrayscale");
    if (c === 1) return tf.clone(images);
    const m = new Float32Array(b * 9);
    for (let i = 0; i < b; i++) {
      const gray = prng() < p;
      for (let j = 0; j < 3; j++) {
        for (let k = 0; k < 3; k++) m[i * 9 + j * 3 + k] = gray ? LUMA[j] : j === k ? 1 : 0;
      }
    }
    return tf.tidy(() => channelMatmul(images, m));
  };
}
