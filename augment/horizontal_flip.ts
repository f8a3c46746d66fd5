import { tf } from "../backend/tf.ts";
import {
  type Augmentation,
  bernoulli,
  checkImages,
  checkProbability,
  mix,
  rngFor,
} from "./_common.ts";

/** Options for {@linkcode horizontalFlip}. */
export interface HorizontalFlipOptions {
  /**
   * Probability that a sample is mirrored left-right, drawn independently per sample.
   * [0] SimCLR, Chen et al. 2020, arXiv:2002.05709 (Appendix A: flip with probability 0.5).
   * @default 0.5
   */
  p?: number;
}

/**
 * Random horizontal flip: each sample is mirrored left-right with probability `p`. Shape and
 * values are preserved exactly (a flip only moves pixels).
 *
 * @param options the flip probability
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, H, W, C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { horizontalFlip } from "./horizontal_flip.ts";
 * import assert from "node:assert/strict";
 * const x = tf.tensor4d([0, 1], [1, 1, 2, 1]);
 * assert.deepEqual(Array.from(horizontalFlip({ p: 1 })(x, 0).dataSync()), [1, 0]);
 * ```
 */
export function horizontalFlip(options: HorizontalFlipOptions = {}): Augmentation {
  const { p = 0.5 } = options;
  checkProbability(p, "p", "horizontalFlip");
  return (images, seed) => {
    const [b] = checkImages(images, "horizontalFlip");
    const prng = rngFor(seed, "horizontalFlip");
    const mask = bernoulli(prng, b, p);
    return tf.tidy(() => mix(mask, tf.image.flipLeftRight(images), images));
  };
}
