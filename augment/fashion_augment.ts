import {
  type Augmentation,
  checkNumber,
  checkProbability,
  checkRange,
  checkSize,
} from "./_common.ts";
import { colorJitter } from "./color_jitter.ts";
import { compose, type ComposeStep } from "./compose.ts";
import { horizontalFlip } from "./horizontal_flip.ts";
import { randomResizedCrop } from "./random_resized_crop.ts";

/** Options for {@linkcode fashionAugment}. */
export interface FashionAugmentOptions {
  /**
   * Output side or `[height, width]`.
   * @default the input's size (28 for Fashion-MNIST)
   */
  size?: number | [number, number];
  /** Area fraction range of the random resized crop. @default [0.35, 1] */
  scale?: [number, number];
  /** Probability of a left-right mirror. @default 0.5 */
  flip?: number;
  /** Brightness and contrast jitter strength in [0, 1] (0 turns the jitter off). @default 0.4 */
  jitter?: number;
  /** Probability of the jitter. @default 0.8 */
  jitterP?: number;
}

/**
 * Augmentation for Fashion-MNIST-like garments (dark background, 1 channel): a random resized
 * crop keeping 35-100% of the area (aspect 3/4-4/3), a left-right mirror with probability 0.5
 * (garments are, unlike digits, left-right symmetric as classes: a mirrored shoe is a shoe) and
 * brightness / contrast jitter 0.4 with probability 0.8. No rotation, shear, blur or noise:
 * `mnistAugment`'s affine warp and blur, tuned for digits' strokes, blur away the textures and
 * outlines that tell a shirt from a T-shirt or a pullover (bench/RESULTS.md, "Fashion-MNIST
 * views and encoder").
 *
 * @param options output size, crop scale, flip probability, jitter strength
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, size[0], size[1], C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { fashionAugment } from "./fashion_augment.ts";
 * import assert from "node:assert/strict";
 * const x = tf.randomUniform([2, 28, 28, 1]) as tf.Tensor4D;
 * assert.deepEqual(fashionAugment()(x, 0).shape, [2, 28, 28, 1]);
 * ```
 */
export function fashionAugment(options: FashionAugmentOptions = {}): Augmentation {
  const where = "fashionAugment";
  const size = checkSize(options.size, "size", where);
  const scale = checkRange(options.scale ?? [0.35, 1], "scale", where, 0, 1);
  const flip = checkProbability(options.flip ?? 0.5, "flip", where);
  const jitterP = checkProbability(options.jitterP ?? 0.8, "jitterP", where);
  const jitter = checkNumber(options.jitter ?? 0.4, "jitter", where, 0, 1);
  const steps: ComposeStep[] = [
    randomResizedCrop({ size, scale: scale as [number, number], ratio: [3 / 4, 4 / 3] }),
  ];
  if (flip > 0) steps.push(horizontalFlip({ p: flip }));
  if (jitter > 0 && jitterP > 0) {
    steps.push([colorJitter({ brightness: jitter, contrast: jitter }), jitterP]);
  }
  return compose(...steps);
}
