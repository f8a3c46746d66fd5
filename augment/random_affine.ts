import {
  type Augmentation,
  checkImages,
  checkNumber,
  checkRange,
  rngFor,
  uniform,
} from "./_common.ts";
import { transformBatch } from "./_transform.ts";

/** Options for {@linkcode randomAffine}. */
export interface RandomAffineOptions {
  /**
   * Largest rotation in degrees; each sample rotates by a uniform angle in `[-degrees, degrees]`.
   * [0] SeqCLR, Aberdam et al. 2021, arXiv:2012.10873 (small affine and perspective warps of
   * text lines).
   * @default 2
   */
  degrees?: number;
  /**
   * Largest horizontal shear in degrees, uniform in `[-shear, shear]`.
   * @default 5
   */
  shear?: number;
  /**
   * Range of the zoom factor (same on both axes).
   * @default [0.95, 1.05]
   */
  scale?: number | [number, number];
  /**
   * Largest translation as a fraction of `[height, width]`, uniform in `[-t, t]`.
   * @default [0.05, 0.02]
   */
  translate?: [number, number];
  /**
   * How pixels mapped from outside the image are filled.
   * @default "nearest"
   */
  fill?: "constant" | "nearest" | "reflect";
  /**
   * The constant for `fill: "constant"`, in [0, 1].
   * @default 0
   */
  fillValue?: number;
}

/**
 * Small random affine warp about the image center (rotation, shear, zoom, translation), one per
 * sample, in one batched `tf.image.transform` with bilinear resampling. Shape is kept and values
 * stay in [0, 1].
 *
 * @param options the largest rotation, shear, zoom and shift
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, H, W, C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { randomAffine } from "./random_affine.ts";
 * import assert from "node:assert/strict";
 * const x = tf.randomUniform([2, 32, 64, 1]) as tf.Tensor4D;
 * assert.deepEqual(randomAffine()(x, 3).shape, [2, 32, 64, 1]);
 * ```
 */
export function randomAffine(options: RandomAffineOptions = {}): Augmentation {
  const where = "randomAffine";
  const {
    degrees = 2,
    shear = 5,
    scale = [0.95, 1.05],
    translate = [0.05, 0.02],
    fill = "nearest",
    fillValue = 0,
  } = options;
  checkNumber(degrees, "degrees", where, 0, 180);
  checkNumber(shear, "shear", where, 0, 60);
  const [slo, shi] = checkRange(scale, "scale", where, 1e-3, 1e3);
  if (!Array.isArray(translate) || translate.length !== 2) {
    throw new TypeError(
      `Cannot create ${where}: translate must be [dy, dx], received ${JSON.stringify(translate)}`,
    );
  }
  checkNumber(translate[0], "translate[0]", where, 0, 1);
  checkNumber(translate[1], "translate[1]", where, 0, 1);
  checkNumber(fillValue, "fillValue", where, 0, 1);
  if (!["constant", "nearest", "reflect"].includes(fill)) {
    throw new TypeError(
      `Cannot create ${where}: fill must be "constant", "nearest" or "reflect", received ${fill}`,
    );
  }
  return (images, seed) => {
    const [b, h, w] = checkImages(images, where);
    const prng = rngFor(seed, where);
    const cx = (w - 1) / 2, cy = (h - 1) / 2;
    const t = new Float32Array(b * 8);
    for (let i = 0; i < b; i++) {
      const angle = uniform(prng, -degrees, degrees) * Math.PI / 180;
      const sh = Math.tan(uniform(prng, -shear, shear) * Math.PI / 180);
      const s = uniform(prng, slo, shi);
      const dy = uniform(prng, -translate[0], translate[0]) * h;
      const dx = uniform(prng, -translate[1], translate[1]) * w;
      // forward map (input -> output) about the center: M = s * R(angle) * [[1, sh], [0, 1]]
      const cos = Math.cos(angle), sin = Math.sin(angle);
      const m00 = s * cos, m01 = s * (cos * sh - sin), m10 = s * sin, m11 = s * (sin * sh + cos);
      // tf.image.transform wants the inverse map (output -> input)
      const det = m00 * m11 - m01 * m10;
      const i00 = m11 / det, i01 = -m01 / det, i10 = -m10 / det, i11 = m00 / det;
      const ox = cx + dx, oy = cy + dy; // where the center lands
      t.set([
        i00,
        i01,
        cx - i00 * ox - i01 * oy,
        i10,
        i11,
        cy - i10 * ox - i11 * oy,
        0,
        0,
      ], i * 8);
    }
    return transformBatch(images, t, fill, fillValue, [h, w]);
  };
}
