import { tf } from "../backend/tf.ts";
import {
  adjustContrast,
  type Augmentation,
  channelMatmul,
  checkImages,
  checkNumber,
  clip01,
  LUMA,
  rngFor,
  uniform,
} from "./_common.ts";

/** Options for {@linkcode colorJitter}; SimCLR's strength `s` sets 0.8 s, 0.8 s, 0.8 s, 0.2 s. */
export interface ColorJitterOptions {
  /**
   * Brightness: a factor per sample uniform in `[max(0, 1 - b), 1 + b]` multiplies the image
   * (SimCLR v2 and torchvision). 0 turns it off.
   * [0] SimCLR, Chen et al. 2020, arXiv:2002.05709 (Appendix A, strength s = 1 for ImageNet).
   * @default 0.8
   */
  brightness?: number;
  /**
   * Contrast: a factor per sample uniform in `[max(0, 1 - c), 1 + c]` scales each channel about
   * its per-image mean (`tf.image.adjust_contrast`). 0 turns it off.
   * @default 0.8
   */
  contrast?: number;
  /**
   * Saturation: a factor per sample uniform in `[max(0, 1 - s), 1 + s]` blends each pixel with
   * its luma (0 is gray, 1 is unchanged). RGB only. 0 turns it off.
   * @default 0.8
   */
  saturation?: number;
  /**
   * Hue: a rotation per sample uniform in `[-h, h]` of a full turn (h <= 0.5) of the chroma
   * plane of YIQ, which keeps the luma. RGB only. 0 turns it off.
   * @default 0.2
   */
  hue?: number;
}

// RGB -> YIQ (FCC NTSC), rows Y, I, Q
const YIQ = [
  [0.299, 0.587, 0.114],
  [0.595716, -0.274453, -0.321263],
  [0.211456, -0.522591, 0.311135],
];

function inverse3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

const YIQ_INV = inverse3(YIQ);

/** Row-vector matrix `rgb @ M` rotating hue by `turns` of a full turn in the YIQ chroma plane. */
function hueMatrix(turns: number): number[] {
  const t = 2 * Math.PI * turns, cos = Math.cos(t), sin = Math.sin(t);
  // column form: out = YIQ_INV * R * YIQ * rgb; R rotates (I, Q)
  const r = [[1, 0, 0], [0, cos, -sin], [0, sin, cos]];
  const m = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let v = 0;
      for (let k = 0; k < 3; k++) {
        for (let l = 0; l < 3; l++) v += YIQ_INV[i][k] * r[k][l] * YIQ[l][j];
      }
      m[j * 3 + i] = v; // transpose for the row-vector convention
    }
  }
  return m;
}

function saturationMatrix(s: number): number[] {
  const m = new Array<number>(9);
  for (let j = 0; j < 3; j++) {
    for (let k = 0; k < 3; k++) m[j * 3 + k] = (j === k ? s : 0) + (1 - s) * LUMA[j];
  }
  return m;
}

type Op = "brightness" | "contrast" | "saturation" | "hue";

/**
 * SimCLR's color jitter (抖动): brightness, contrast, saturation and hue, each with a random
 * factor per sample, applied in a random order per sample and clipped to [0, 1] after each. On
 * 1-channel images only brightness and contrast apply. Shape is kept.
 *
 * Each of the four slots is one batched channel matmul (brightness, saturation and hue are
 * linear maps of RGB) followed by one contrast step whose factor is 1 for samples that do not
 * take contrast in that slot, so every sample gets its own order at the cost of four passes.
 *
 * @param options the four strengths
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, H, W, C]`, C = 1 or 3
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { colorJitter } from "./color_jitter.ts";
 * import assert from "node:assert/strict";
 * const x = tf.randomUniform([4, 8, 8, 3]) as tf.Tensor4D;
 * const y = colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 })(x, 3);
 * assert.deepEqual(y.shape, x.shape);
 * ```
 */
export function colorJitter(options: ColorJitterOptions = {}): Augmentation {
  const where = "colorJitter";
  const { brightness = 0.8, contrast = 0.8, saturation = 0.8, hue = 0.2 } = options;
  checkNumber(brightness, "brightness", where, 0, 1e3);
  checkNumber(contrast, "contrast", where, 0, 1e3);
  checkNumber(saturation, "saturation", where, 0, 1e3);
  checkNumber(hue, "hue", where, 0, 0.5);
  return (images, seed) => {
    const [b, , , c] = checkImages(images, where);
    if (c !== 1 && c !== 3) {
      throw new TypeError(`Cannot apply ${where}: images must have 1 or 3 channels, received ${c}`);
    }
    const prng = rngFor(seed, where);
    const ops: Op[] = [];
    if (brightness > 0) ops.push("brightness");
    if (contrast > 0) ops.push("contrast");
    if (c === 3 && saturation > 0) ops.push("saturation");
    if (c === 3 && hue > 0) ops.push("hue");
    if (ops.length === 0) return tf.clone(images);
    const factor = (v: number) => uniform(prng, Math.max(0, 1 - v), 1 + v);
    // per slot: a [B, C, C] matrix and a [B] contrast factor (identity / 1 when unused)
    const mats = ops.map(() => new Float32Array(b * c * c));
    const cons = ops.map(() => new Float32Array(b).fill(1));
    const usesMat = ops.map(() => false), usesCon = ops.map(() => false);
    for (let s = 0; s < b; s++) {
      const order = [...ops];
      for (let k = order.length - 1; k > 0; k--) {
        const j = Math.floor(prng() * (k + 1));
        [order[k], order[j]] = [order[j], order[k]];
      }
      order.forEach((op, slot) => {
        let m: number[];
        if (op === "contrast") {
          cons[slot][s] = factor(contrast);
          usesCon[slot] = true;
          m = c === 3 ? [1, 0, 0, 0, 1, 0, 0, 0, 1] : [1];
        } else {
          usesMat[slot] = true;
          if (op === "brightness") {
            const f = factor(brightness);
            m = c === 3 ? [f, 0, 0, 0, f, 0, 0, 0, f] : [f];
          } else if (op === "saturation") {
            m = saturationMatrix(factor(saturation));
          } else {
            m = hueMatrix(uniform(prng, -hue, hue));
          }
        }
        mats[slot].set(m, s * c * c);
      });
    }
    return tf.tidy(() => {
      let x: tf.Tensor4D = images;
      for (let slot = 0; slot < ops.length; slot++) {
        if (usesMat[slot]) x = clip01(channelMatmul(x, mats[slot]));
        if (usesCon[slot]) x = adjustContrast(x, cons[slot]);
      }
      return x === images ? tf.clone(images) : x;
    });
  };
}
