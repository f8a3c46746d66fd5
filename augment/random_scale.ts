import {
  type Augmentation,
  checkImages,
  checkNumber,
  checkRange,
  checkSize,
  rngFor,
  uniform,
} from "./_common.ts";
import { transformBatch } from "./_transform.ts";

/** Options for {@linkcode randomScale}. */
export interface RandomScaleOptions {
  /**
   * Range of the zoom factor, the same for both axes so the aspect ratio is kept: below 1 the
   * image shrinks and is padded, above 1 it grows and is cropped. The "random proportional
   * scaling" (随机等比缩放) of our source document's text-line pipeline.
   * @default [0.8, 1.2]
   */
  scale?: number | [number, number];
  /**
   * Output size, a side or `[height, width]`.
   * @default the input's `[H, W]`
   */
  size?: number | [number, number];
  /**
   * Where the scaled image goes: a random position (the slack is split uniformly) or centered.
   * @default "random"
   */
  position?: "random" | "center";
  /**
   * How the padding is filled: a constant, the nearest edge pixel, or a reflection.
   * @default "constant"
   */
  fill?: "constant" | "nearest" | "reflect";
  /**
   * The constant for `fill: "constant"`, in [0, 1].
   * @default 0
   */
  fillValue?: number;
}

/**
 * Random proportional scaling: each sample is zoomed by its own factor (same on both axes),
 * placed on a fixed-size canvas and padded or cropped to it, with bilinear resampling (one
 * batched `tf.image.transform`). Values stay in [0, 1].
 *
 * @param options zoom range, output size, placement and fill
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, size[0], size[1], C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { randomScale } from "./random_scale.ts";
 * import assert from "node:assert/strict";
 * const x = tf.ones([1, 8, 8, 1]) as tf.Tensor4D;
 * const y = randomScale({ scale: 0.5, position: "center" })(x, 0);
 * assert.equal(tf.sum(y).dataSync()[0], 16); // a 4x4 block of ones, zero padding
 * ```
 */
export function randomScale(options: RandomScaleOptions = {}): Augmentation {
  const where = "randomScale";
  const { scale = [0.8, 1.2], position = "random", fill = "constant", fillValue = 0 } = options;
  const [lo, hi] = checkRange(scale, "scale", where, 1e-3, 1e3);
  const size = checkSize(options.size, "size", where);
  checkNumber(fillValue, "fillValue", where, 0, 1);
  if (position !== "random" && position !== "center") {
    throw new TypeError(
      `Cannot create ${where}: position must be "random" or "center", received ${position}`,
    );
  }
  if (!["constant", "nearest", "reflect"].includes(fill)) {
    throw new TypeError(
      `Cannot create ${where}: fill must be "constant", "nearest" or "reflect", received ${fill}`,
    );
  }
  return (images, seed) => {
    const [b, h, w] = checkImages(images, where);
    const prng = rngFor(seed, where);
    const [oh, ow] = size ?? [h, w];
    const t = new Float32Array(b * 8);
    for (let i = 0; i < b; i++) {
      const s = uniform(prng, lo, hi);
      // top-left corner of the scaled image on the canvas: between 0 and the (signed) slack
      const ux = position === "center" ? 0.5 : prng();
      const uy = position === "center" ? 0.5 : prng();
      const tx = ux * (ow - w * s), ty = uy * (oh - h * s);
      // output pixel center x + 0.5 comes from input position (x + 0.5 - tx) / s
      t.set([1 / s, 0, (0.5 - tx) / s - 0.5, 0, 1 / s, (0.5 - ty) / s - 0.5, 0, 0], i * 8);
    }
    return transformBatch(images, t, fill, fillValue, [oh, ow]);
  };
}
