/**
 * Exact sRGB <-> CIE Lab (D65 white, 2 degree observer) as tensor ops, plus float64 references.
 * sRGB transfer curve and matrix from IEC 61966-2-1, white point Xn = 0.95047, Yn = 1,
 * Zn = 1.08883 (the values of scikit-image, which Zhang et al. 2016 used).
 *
 * @module
 */
import { tf } from "../../backend/tf.ts";

/** Linear sRGB -> XYZ matrix (IEC 61966-2-1). */
export const SRGB_TO_XYZ: readonly number[][] = [
  [0.4124564, 0.3575761, 0.1804375],
  [0.2126729, 0.7151522, 0.072175],
  [0.0193339, 0.119192, 0.9503041],
];
/** The D65 white point. */
export const D65_WHITE: readonly [number, number, number] = [0.95047, 1, 1.08883];

function invert3(m: readonly number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}
const XYZ_TO_SRGB = invert3(SRGB_TO_XYZ);
/** CIE epsilon (6/29)^3. */
export const LAB_EPSILON = (6 / 29) ** 3;
/** 3 (6/29)^2, the slope of the linear part of f. */
export const LAB_KAPPA = 3 * (6 / 29) ** 2;

function checkLast3(where: string, x: tf.Tensor): void {
  if (!(x instanceof tf.Tensor) || x.rank < 1 || x.shape[x.rank - 1] !== 3) {
    throw new TypeError(
      `Cannot convert ${where}: expected a tensor whose last axis has 3 channels, received ${
        x instanceof tf.Tensor ? `[${x.shape}]` : String(x)
      }`,
    );
  }
}

/** `x @ m^T` over the last axis: `[..., 3] -> [..., 3]`. */
function mix(x: tf.Tensor, m: readonly number[][]): tf.Tensor {
  const shape = x.shape;
  const flat = tf.reshape(x, [-1, 3]);
  const mt = tf.tensor2d([
    [m[0][0], m[1][0], m[2][0]],
    [m[0][1], m[1][1], m[2][1]],
    [m[0][2], m[1][2], m[2][2]],
  ]);
  return tf.reshape(tf.matMul(flat, mt), shape);
}

/**
 * sRGB in [0, 1] to CIE Lab (D65): L in [0, 100], a and b roughly in [-110, 110].
 *
 * @param rgb sRGB values, shape `[..., 3]` (e.g. `[B, H, W, 3]`), in [0, 1]
 * @returns Lab values, same shape
 * @throws {TypeError} unless the last axis has 3 channels
 *
 * @example
 * ```ts
 * import { rgbToLab } from "./lab.ts";
 * import { tf } from "../../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const [L, a, b] = rgbToLab(tf.tensor2d([[1, 0, 0]])).dataSync();
 * assert.ok(Math.abs(L - 53.24) < 0.01 && Math.abs(a - 80.09) < 0.01 && Math.abs(b - 67.2) < 0.01);
 * ```
 */
export function rgbToLab<T extends tf.Tensor>(rgb: T): T {
  checkLast3("RGB to Lab", rgb);
  return tf.tidy(() => {
    const c = tf.cast(rgb, "float32");
    const lin = tf.where(
      tf.lessEqual(c, 0.04045),
      tf.div(c, 12.92),
      tf.pow(tf.div(tf.add(tf.maximum(c, 0.04045), 0.055), 1.055), 2.4),
    );
    const xyz = tf.div(mix(lin, SRGB_TO_XYZ), tf.tensor1d([...D65_WHITE]));
    const f = tf.where(
      tf.greater(xyz, LAB_EPSILON),
      tf.pow(tf.maximum(xyz, LAB_EPSILON), 1 / 3),
      tf.add(tf.div(xyz, LAB_KAPPA), 4 / 29),
    );
    const [fx, fy, fz] = tf.split(f, 3, -1);
    return tf.concat([
      tf.sub(tf.mul(fy, 116), 16),
      tf.mul(tf.sub(fx, fy), 500),
      tf.mul(tf.sub(fy, fz), 200),
    ], -1) as T;
  });
}

/**
 * CIE Lab (D65) to sRGB. Colours outside the sRGB gamut come out outside [0, 1]; clip them with
 * `tf.clipByValue` to display.
 *
 * @param lab Lab values, shape `[..., 3]`
 * @returns sRGB values, same shape (unclipped)
 * @throws {TypeError} unless the last axis has 3 channels
 *
 * @example
 * ```ts
 * import { labToRgb } from "./lab.ts";
 * import { tf } from "../../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const rgb = labToRgb(tf.tensor2d([[100, 0, 0]])).dataSync();
 * assert.ok(rgb.every((v) => Math.abs(v - 1) < 1e-4)); // white
 * ```
 */
export function labToRgb<T extends tf.Tensor>(lab: T): T {
  checkLast3("Lab to RGB", lab);
  return tf.tidy(() => {
    const [L, a, b] = tf.split(tf.cast(lab, "float32"), 3, -1);
    const fy = tf.div(tf.add(L, 16), 116);
    const f = tf.concat([tf.add(fy, tf.div(a, 500)), fy, tf.sub(fy, tf.div(b, 200))], -1);
    const t = tf.where(
      tf.greater(f, 6 / 29),
      tf.pow(tf.maximum(f, 6 / 29), 3),
      tf.mul(tf.sub(f, 4 / 29), LAB_KAPPA),
    );
    const lin = mix(tf.mul(t, tf.tensor1d([...D65_WHITE])), XYZ_TO_SRGB);
    return tf.where(
      tf.lessEqual(lin, 0.0031308),
      tf.mul(lin, 12.92),
      tf.sub(tf.mul(tf.pow(tf.maximum(lin, 0.0031308), 1 / 2.4), 1.055), 0.055),
    ) as T;
  });
}

/**
 * Float64 reference of {@linkcode rgbToLab} for one colour (plain arithmetic, for tests and the
 * gamut computation).
 *
 * @param r red in [0, 1]
 * @param g green in [0, 1]
 * @param b blue in [0, 1]
 * @returns `[L, a, b]`
 *
 * @example
 * ```ts
 * import { rgbToLabReference } from "./lab.ts";
 * import assert from "node:assert/strict";
 * const [L, a, b] = rgbToLabReference(1, 1, 1);
 * assert.ok(Math.abs(L - 100) < 1e-4 && Math.abs(a) < 1e-4 && Math.abs(b) < 1e-4);
 * ```
 */
export function rgbToLabReference(r: number, g: number, b: number): [number, number, number] {
  const lin = [r, g, b].map((c) => c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return linearToLab(lin[0], lin[1], lin[2]);
}

/** Linear sRGB to Lab in float64 (shared by the reference and the gamut enumeration). */
export function linearToLab(r: number, g: number, b: number): [number, number, number] {
  const f = (t: number) => t > LAB_EPSILON ? Math.cbrt(t) : t / LAB_KAPPA + 4 / 29;
  const fx = f(
    (SRGB_TO_XYZ[0][0] * r + SRGB_TO_XYZ[0][1] * g + SRGB_TO_XYZ[0][2] * b) / D65_WHITE[0],
  );
  const fy = f(
    (SRGB_TO_XYZ[1][0] * r + SRGB_TO_XYZ[1][1] * g + SRGB_TO_XYZ[1][2] * b) / D65_WHITE[1],
  );
  const fz = f(
    (SRGB_TO_XYZ[2][0] * r + SRGB_TO_XYZ[2][1] * g + SRGB_TO_XYZ[2][2] * b) / D65_WHITE[2],
  );
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/**
 * Float64 reference of {@linkcode labToRgb} for one colour.
 *
 * @param L lightness in [0, 100]
 * @param a green-red axis
 * @param b blue-yellow axis
 * @returns `[r, g, b]` sRGB, unclipped
 *
 * @example
 * ```ts
 * import { labToRgbReference } from "./lab.ts";
 * import assert from "node:assert/strict";
 * const [r, g, b] = labToRgbReference(53.2408, 80.0925, 67.2032);
 * assert.ok(Math.abs(r - 1) < 1e-4 && Math.abs(g) < 1e-3 && Math.abs(b) < 1e-3);
 * ```
 */
export function labToRgbReference(L: number, a: number, b: number): [number, number, number] {
  const fy = (L + 16) / 116;
  const inv = (f: number) => f > 6 / 29 ? f ** 3 : LAB_KAPPA * (f - 4 / 29);
  const xyz = [
    inv(fy + a / 500) * D65_WHITE[0],
    inv(fy) * D65_WHITE[1],
    inv(fy - b / 200) * D65_WHITE[2],
  ];
  const out = XYZ_TO_SRGB.map((row) => row[0] * xyz[0] + row[1] * xyz[1] + row[2] * xyz[2]).map((
    c,
  ) => c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
  return [out[0], out[1], out[2]];
}
