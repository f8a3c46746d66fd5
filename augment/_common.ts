/**
 * Private helpers shared by the augmentations: argument checks, per-sample parameters drawn from
 * a seeded PCG32 on the JS side (so every backend sees the same numbers), and masking by
 * arithmetic.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { pcg32, type Prng } from "../data/prng.ts";

/**
 * A batched, seeded image augmentation: float32 images `[B, H, W, C]` with values in [0, 1] in,
 * a new tensor out (same shape and range unless the op documents an output size). Pure: the
 * same seed gives the same output, and nothing leaks.
 */
export type Augmentation = (images: tf.Tensor4D, seed: number) => tf.Tensor4D;

/** ITU-R BT.601 luma weights (R, G, B), as in `tf.image.rgbToGrayscale` and torchvision. */
export const LUMA: readonly [number, number, number] = [0.299, 0.587, 0.114];

/** Checks that `images` is a float32 `[B, H, W, C]` tensor and returns its shape. */
export function checkImages(
  images: unknown,
  where: string,
): [number, number, number, number] {
  if (!(images instanceof tf.Tensor)) {
    throw new TypeError(
      `Cannot apply ${where}: images must be a tf.Tensor4D, received ${typeName(images)}`,
    );
  }
  if (images.rank !== 4) {
    throw new TypeError(
      `Cannot apply ${where}: images must have shape [B, H, W, C], received [${images.shape}]`,
    );
  }
  if (images.dtype !== "float32") {
    throw new TypeError(
      `Cannot apply ${where}: images must be float32 in [0, 1], received ${images.dtype}`,
    );
  }
  return images.shape as [number, number, number, number];
}

/** A PCG32 stream for one call, after checking the seed. */
export function rngFor(seed: unknown, where: string): Prng {
  if (typeof seed !== "number" || !Number.isFinite(seed)) {
    throw new TypeError(
      `Cannot apply ${where}: seed must be a finite number, received ${typeName(seed)}`,
    );
  }
  return pcg32(Math.trunc(seed));
}

/** A fresh integer seed for a sub-step, drawn from `prng`. */
export function childSeed(prng: () => number): number {
  return Math.floor(prng() * 0x100000000);
}

/** Uniform draw in [lo, hi). */
export function uniform(prng: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * prng();
}

/** Standard normal draw (Box-Muller). */
export function normal(prng: () => number): number {
  const u = Math.max(prng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * prng());
}

/** Checks a finite number inside [min, max]. */
export function checkNumber(
  value: unknown,
  name: string,
  where: string,
  min = -Infinity,
  max = Infinity,
): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`Cannot create ${where}: ${name} must be a number, received ${value}`);
  }
  if (!(value >= min && value <= max)) {
    throw new RangeError(
      `Cannot create ${where}: ${name} must be in [${min}, ${max}], received ${value}`,
    );
  }
  // reached by +/-Infinity only when a bound is left at its default
  if (!Number.isFinite(value)) {
    throw new RangeError(`Cannot create ${where}: ${name} must be finite, received ${value}`);
  }
  return value;
}

/** Checks a probability in [0, 1]. */
export function checkProbability(p: unknown, name: string, where: string): number {
  return checkNumber(p, name, where, 0, 1);
}

/**
 * Checks a `[lo, hi]` range with `min <= lo <= hi <= max`. A single number `v` becomes
 * `around(v)` when given (e.g. `[1 - v, 1 + v]`), else `[v, v]`.
 */
export function checkRange(
  value: unknown,
  name: string,
  where: string,
  min: number,
  max: number,
  around?: (v: number) => [number, number],
): [number, number] {
  let pair: [number, number];
  if (typeof value === "number") {
    checkNumber(value, name, where);
    pair = around ? around(value) : [value, value];
  } else if (
    Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "number")
  ) {
    pair = [value[0], value[1]];
  } else {
    throw new TypeError(
      `Cannot create ${where}: ${name} must be a number or [min, max], received ${
        JSON.stringify(value)
      }`,
    );
  }
  if (!(pair[0] >= min && pair[1] <= max && pair[0] <= pair[1])) {
    throw new RangeError(
      `Cannot create ${where}: ${name} must satisfy ${min} <= min <= max <= ${max}, received [${pair}]`,
    );
  }
  return pair;
}

/** Checks an output size: a positive integer or `[height, width]`. */
export function checkSize(
  value: unknown,
  name: string,
  where: string,
): [number, number] | undefined {
  if (value === undefined) return undefined;
  const pair = typeof value === "number" ? [value, value] : value;
  if (
    !Array.isArray(pair) || pair.length !== 2 ||
    !pair.every((v) => typeof v === "number" && Number.isInteger(v))
  ) {
    throw new TypeError(
      `Cannot create ${where}: ${name} must be an integer or [height, width], received ${
        JSON.stringify(value)
      }`,
    );
  }
  if (!(pair[0] >= 1 && pair[1] >= 1)) {
    throw new RangeError(
      `Cannot create ${where}: ${name} must be at least 1, received [${pair}]`,
    );
  }
  return [pair[0], pair[1]];
}

/**
 * One value per sample, shaped to combine elementwise with a `[B, H, W, C]` batch: full size on
 * the cpu backend (built by a matMul), `[B, 1, 1, 1]` for a broadcast elsewhere.
 */
export function perSampleFull(
  values: ArrayLike<number>,
  shape: [number, number, number, number],
): tf.Tensor4D {
  const [b, h, w, c] = shape;
  if (!matmulBroadcast()) {
    return tf.tensor4d(Float32Array.from(values), [b, 1, 1, 1]);
  }
  const v = tf.tensor3d(Float32Array.from(values), [b, 1, 1]);
  return tf.reshape(tf.matMul(tf.ones([b, h * w * c, 1]) as tf.Tensor3D, v), shape) as tf.Tensor4D;
}

/** A per-sample 0/1 mask: 1 with probability `p` for each of `b` samples. */
export function bernoulli(prng: () => number, b: number, p: number): Float32Array {
  const mask = new Float32Array(b);
  for (let i = 0; i < b; i++) mask[i] = prng() < p ? 1 : 0;
  return mask;
}

/**
 * Whether to replace broadcasting ops by batched matMuls: tfjs-backend-cpu's broadcasting binary
 * ops and inner-axis means are 5-20x slower than its matMul for per-sample scalars, while wasm
 * (XNNPACK) is the other way round. Both paths give the same values up to float rounding.
 */
function matmulBroadcast(): boolean {
  return tf.getBackend() === "cpu";
}

/** Multiplies each sample by its own scalar, `x[b] * s[b]`. */
export function scalePerSample(x: tf.Tensor4D, s: tf.Tensor | ArrayLike<number>): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (!matmulBroadcast()) {
    const scale = s instanceof tf.Tensor
      ? tf.reshape(s, [b, 1, 1, 1])
      : tf.tensor4d(Float32Array.from(s), [b, 1, 1, 1]);
    return tf.mul(x, scale) as tf.Tensor4D;
  }
  const scale = s instanceof tf.Tensor
    ? tf.reshape(s, [b, 1, 1])
    : tf.tensor3d(Float32Array.from(s), [b, 1, 1]);
  const flat = tf.reshape(x, [b, h * w * c, 1]) as tf.Tensor3D;
  return tf.reshape(tf.matMul(flat, scale as tf.Tensor3D), [b, h, w, c]) as tf.Tensor4D;
}

/**
 * `mask * a + (1 - mask) * b` per sample for a 0/1 mask (one value per sample): exact for finite
 * values, by arithmetic rather than boolean gathers, so it runs on every backend.
 */
export function mix(mask: ArrayLike<number>, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  const inverse = Float32Array.from(mask, (m) => 1 - m);
  return tf.add(scalePerSample(a, mask), scalePerSample(b, inverse)) as tf.Tensor4D;
}

/** Clips to the image range [0, 1]. */
export function clip01(x: tf.Tensor): tf.Tensor4D {
  return tf.clipByValue(x, 0, 1) as tf.Tensor4D;
}

/**
 * Applies a per-sample `C x C` matrix to the channels: `out[b, h, w, :] = x[b, h, w, :] @ m[b]`,
 * one batched matMul (`m` is `[B, C, C]`, row-vector convention).
 */
export function channelMatmul(x: tf.Tensor4D, m: Float32Array): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const flat = tf.reshape(x, [b, h * w, c]) as tf.Tensor3D; // [B, HW, C]
  const mats = tf.tensor3d(m, [b, c, c]);
  return tf.reshape(tf.matMul(flat, mats), [b, h, w, c]) as tf.Tensor4D;
}

function typeName(x: unknown): string {
  if (x === null) return "null";
  if (x instanceof tf.Tensor) return `a ${x.dtype} tensor of shape [${x.shape}]`;
  return typeof x;
}

/**
 * `tf.image.adjust_contrast` per sample: `clip(c * (x - mean) + mean)` with the mean taken per
 * image and channel; `factors` is one contrast factor per sample.
 */
export function adjustContrast(x: tf.Tensor4D, factors: ArrayLike<number>): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (!matmulBroadcast()) {
    const m = tf.mean(x, [1, 2], true); // [B, 1, 1, C]
    return clip01(tf.add(scalePerSample(tf.sub(x, m) as tf.Tensor4D, factors), m));
  }
  const n = h * w;
  // on cpu: the per-image, per-channel mean and its broadcast over the pixels as batched matMuls
  const flat = tf.reshape(x, [b, n, c]) as tf.Tensor3D;
  const mean = tf.matMul(tf.fill([b, 1, n], 1 / n) as tf.Tensor3D, flat); // [B, 1, C]
  const meanFull = tf.reshape(tf.matMul(tf.ones([b, n, 1]) as tf.Tensor3D, mean), [b, h, w, c]);
  const centered = tf.sub(x, meanFull) as tf.Tensor4D;
  return clip01(tf.add(scalePerSample(centered, factors), meanFull));
}
