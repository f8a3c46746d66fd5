import { tf } from "../backend/tf.ts";
import { type Augmentation, checkImages, checkNumber, rngFor } from "./_common.ts";

/** Options for {@linkcode cutout}. */
export interface CutoutOptions {
  /**
   * Side of the erased rectangle as a fraction of the image side: a number for a square
   * (relative to each side), `[height, width]` fractions for a rectangle.
   * [0] Cutout, DeVries and Taylor 2017, arXiv:1708.04552 (16x16 on 32x32 CIFAR-10 = 0.5).
   * @default 0.5
   */
  size?: number | [number, number];
  /**
   * The value written into the rectangle, in [0, 1].
   * @default 0
   */
  fill?: number;
  /**
   * Keep the whole rectangle inside the image. Cutout's original places the center anywhere,
   * so the rectangle may be clipped at the border.
   * @default false
   */
  inside?: boolean;
}

/**
 * Cutout: each sample gets one rectangle of `round(size * side)` pixels set to `fill` (all
 * channels), at a random position. Shape and range are kept.
 *
 * @param options rectangle size, fill value and placement
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, H, W, C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { cutout } from "./cutout.ts";
 * import assert from "node:assert/strict";
 * const x = tf.ones([1, 8, 8, 1]) as tf.Tensor4D;
 * const y = cutout({ size: 0.5, inside: true })(x, 0);
 * assert.equal(tf.sum(y).dataSync()[0], 64 - 16);
 * ```
 */
export function cutout(options: CutoutOptions = {}): Augmentation {
  const where = "cutout";
  const { size = 0.5, fill = 0, inside = false } = options;
  if (typeof size !== "number" && !(Array.isArray(size) && size.length === 2)) {
    throw new TypeError(
      `Cannot create ${where}: size must be a number or [height, width], received ${
        JSON.stringify(size)
      }`,
    );
  }
  const [fh, fw] = typeof size === "number" ? [size, size] : size;
  checkNumber(fh, "size", where, 0, 1);
  checkNumber(fw, "size", where, 0, 1);
  checkNumber(fill, "fill", where, 0, 1);
  return (images, seed) => {
    const [b, h, w, c] = checkImages(images, where);
    const prng = rngFor(seed, where);
    const rh = Math.round(fh * h), rw = Math.round(fw * w);
    const rows = new Float32Array(b * h), cols = new Float32Array(b * w);
    for (let s = 0; s < b; s++) {
      let top: number, left: number;
      if (inside) {
        top = Math.floor(prng() * (h - rh + 1));
        left = Math.floor(prng() * (w - rw + 1));
      } else { // center uniform over the image, rectangle clipped at the border
        top = Math.floor(prng() * h) - Math.floor(rh / 2);
        left = Math.floor(prng() * w) - Math.floor(rw / 2);
      }
      for (let y = Math.max(0, top); y < Math.min(h, top + rh); y++) rows[s * h + y] = 1;
      for (let x = Math.max(0, left); x < Math.min(w, left + rw); x++) cols[s * w + x] = 1;
    }
    // the full-size keep mask and fill, built here: no broadcasting ops (slow on the cpu backend)
    const keep = new Float32Array(b * h * w * c).fill(1);
    const add = new Float32Array(fill === 0 ? 0 : b * h * w * c);
    for (let s = 0; s < b; s++) {
      for (let y = 0; y < h; y++) {
        if (!rows[s * h + y]) continue;
        for (let x = 0; x < w; x++) {
          if (!cols[s * w + x]) continue;
          const o = ((s * h + y) * w + x) * c;
          keep.fill(0, o, o + c);
          if (fill !== 0) add.fill(fill, o, o + c);
        }
      }
    }
    return tf.tidy(() => {
      const kept = tf.mul(images, tf.tensor4d(keep, [b, h, w, c]));
      return (fill === 0 ? kept : tf.add(kept, tf.tensor4d(add, [b, h, w, c]))) as tf.Tensor4D;
    });
  };
}
