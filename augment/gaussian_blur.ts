import { tf } from "../backend/tf.ts";
import {
  type Augmentation,
  checkImages,
  checkNumber,
  checkRange,
  rngFor,
  uniform,
} from "./_common.ts";

/** Options for {@linkcode gaussianBlur}. */
export interface GaussianBlurOptions {
  /**
   * Range of the blur's standard deviation in pixels, one draw per sample.
   * [0] SimCLR, Chen et al. 2020, arXiv:2002.05709 (Appendix A: sigma in [0.1, 2.0], kernel
   * 10% of the image side, probability 0.5).
   * @default [0.1, 2]
   */
  sigma?: number | [number, number];
  /**
   * Odd kernel side. By default about 10% of the image's shorter side, as SimCLR:
   * `2 * floor(min(H, W) / 20) + 1` (3 for 32x32, 23 for 224x224).
   * @default 2 * floor(min(H, W) / 20) + 1
   */
  kernelSize?: number;
}

/** The normalized 1-D Gaussian taps `exp(-i^2 / (2 sigma^2))`, `i` in `[-r, r]`. */
function taps(sigma: number, r: number): number[] {
  const k = Array.from(
    { length: 2 * r + 1 },
    (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)),
  );
  const sum = k.reduce((a, v) => a + v, 0);
  return k.map((v) => v / sum);
}

/**
 * Gaussian blur (高斯模糊) with a random sigma per sample: a separable convolution (vertical then
 * horizontal) with reflect padding, so a constant image stays constant and the shape is kept.
 * All samples are blurred in one depthwise convolution by stacking the batch along channels.
 *
 * @param options sigma range and kernel size
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, H, W, C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { gaussianBlur } from "./gaussian_blur.ts";
 * import assert from "node:assert/strict";
 * const x = tf.fill([2, 8, 8, 3], 0.25) as tf.Tensor4D;
 * const y = gaussianBlur({ kernelSize: 5 })(x, 1).dataSync();
 * assert.ok(y.every((v) => Math.abs(v - 0.25) < 1e-6));
 * ```
 */
export function gaussianBlur(options: GaussianBlurOptions = {}): Augmentation {
  const where = "gaussianBlur";
  const { sigma = [0.1, 2], kernelSize } = options;
  const [lo, hi] = checkRange(sigma, "sigma", where, 1e-3, 1e3);
  if (kernelSize !== undefined) {
    checkNumber(kernelSize, "kernelSize", where, 1, 1e4);
    if (!Number.isInteger(kernelSize) || kernelSize % 2 !== 1) {
      throw new RangeError(
        `Cannot create ${where}: kernelSize must be an odd integer, received ${kernelSize}`,
      );
    }
  }
  return (images, seed) => {
    const [b, h, w, c] = checkImages(images, where);
    const prng = rngFor(seed, where);
    const sigmas = Array.from({ length: b }, () => uniform(prng, lo, hi));
    const size = kernelSize ?? 2 * Math.floor(Math.min(h, w) / 20) + 1;
    // reflect padding needs r <= side - 1
    const r = Math.min((size - 1) / 2, h - 1, w - 1);
    if (r <= 0) return tf.clone(images);
    const n = b * c;
    const filter = new Float32Array((2 * r + 1) * n); // [2r+1, n]: tap-major, as depthwise wants
    for (let s = 0; s < b; s++) {
      const k = taps(sigmas[s], r);
      for (let t = 0; t <= 2 * r; t++) {
        for (let ch = 0; ch < c; ch++) filter[t * n + s * c + ch] = k[t];
      }
    }
    return tf.tidy(() => {
      // [B, H, W, C] -> [1, H, W, B*C]: every (sample, channel) is a depthwise channel
      const stacked = tf.reshape(tf.transpose(images, [1, 2, 0, 3]), [1, h, w, n]) as tf.Tensor4D;
      const fv = tf.tensor4d(filter, [2 * r + 1, 1, n, 1]);
      const fh = tf.tensor4d(filter, [1, 2 * r + 1, n, 1]);
      const padV = tf.mirrorPad(stacked, [[0, 0], [r, r], [0, 0], [0, 0]], "reflect");
      const v = tf.depthwiseConv2d(padV, fv, 1, "valid");
      const padH = tf.mirrorPad(v, [[0, 0], [0, 0], [r, r], [0, 0]], "reflect");
      const out = tf.depthwiseConv2d(padH, fh, 1, "valid"); // [1, H, W, B*C]
      return tf.transpose(tf.reshape(out, [h, w, b, c]), [2, 0, 1, 3]) as tf.Tensor4D;
    });
  };
}
