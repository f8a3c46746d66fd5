import { tf } from "../backend/tf.ts";
import { type Augmentation, checkImages, checkRange, clip01, rngFor, uniform } from "./_common.ts";

/** Options for {@linkcode gaussianNoise}. */
export interface GaussianNoiseOptions {
  /**
   * Standard deviation of the noise: a number is fixed; `[min, max]` draws one per sample.
   * The "random noise points" (随机噪点) of our source document; denoising autoencoders
   * (Vincent et al. 2008) use the same corruption.
   * @default [0, 0.1]
   */
  std?: number | [number, number];
}

/**
 * Additive Gaussian noise (随机噪点): `clip(x + std * n)` with standard-normal `n` drawn from the
 * seeded PCG32 on the JS side, so the noise is the same on every backend. Shape is kept.
 *
 * @param options the noise level
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, H, W, C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { gaussianNoise } from "./gaussian_noise.ts";
 * import assert from "node:assert/strict";
 * const x = tf.fill([1, 8, 8, 1], 0.5) as tf.Tensor4D;
 * const y = gaussianNoise({ std: 0.05 })(x, 7);
 * assert.ok(Math.abs(tf.mean(y).dataSync()[0] - 0.5) < 0.05);
 * ```
 */
export function gaussianNoise(options: GaussianNoiseOptions = {}): Augmentation {
  const { std = [0, 0.1] } = options;
  const [lo, hi] = checkRange(std, "std", "gaussianNoise", 0, 10);
  return (images, seed) => {
    const [b, h, w, c] = checkImages(images, "gaussianNoise");
    const prng = rngFor(seed, "gaussianNoise");
    const sigma = Float32Array.from({ length: b }, () => uniform(prng, lo, hi));
    const n = b * h * w * c;
    const noise = new Float32Array(n);
    const per = h * w * c;
    for (let i = 0; i < n; i += 2) { // Box-Muller, both outputs, scaled by the sample's sigma
      const r = Math.sqrt(-2 * Math.log(Math.max(prng(), 1e-12)));
      const t = 2 * Math.PI * prng();
      noise[i] = r * Math.cos(t) * sigma[Math.floor(i / per)];
      if (i + 1 < n) noise[i + 1] = r * Math.sin(t) * sigma[Math.floor((i + 1) / per)];
    }
    return tf.tidy(() => clip01(tf.add(images, tf.tensor4d(noise, [b, h, w, c]))));
  };
}
