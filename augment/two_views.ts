import type { tf } from "../backend/tf.ts";
import { type Augmentation, checkImages, childSeed, rngFor } from "./_common.ts";

/**
 * Two independently augmented views of the same batch, the positive pairs of SimCLR, MoCo,
 * SimSiam and BYOL: `pipeline` runs twice with two seeds drawn from `seed`.
 *
 * @param images float32 images, shape `[B, H, W, C]`, values in [0, 1]
 * @param pipeline the augmentation (e.g. `simclrAugment()`)
 * @param seed the seed of this pair; the same seed gives the same two views
 * @returns the two views, each shaped as `pipeline` makes it
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { simclrAugment, twoViews } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const x = tf.randomUniform([2, 16, 16, 3]) as tf.Tensor4D;
 * const [a, b] = twoViews(x, simclrAugment(), 5);
 * assert.deepEqual(a.shape, b.shape);
 * ```
 */
export function twoViews(
  images: tf.Tensor4D,
  pipeline: Augmentation,
  seed: number,
): [tf.Tensor4D, tf.Tensor4D] {
  checkImages(images, "twoViews");
  if (typeof pipeline !== "function") {
    throw new TypeError(
      `Cannot apply twoViews: pipeline must be an augmentation, received ${typeof pipeline}`,
    );
  }
  const prng = rngFor(seed, "twoViews");
  const s1 = childSeed(prng), s2 = childSeed(prng);
  return [pipeline(images, s1), pipeline(images, s2)];
}
