import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { tfjsSeed } from "../data/prng.ts";
import { convDecoder } from "../models/decoder.ts";
import { buildEncoder, checkRange, tidyStep, variablesOf, zStd } from "./_common.ts";
import type { BaseMethodOptions, Method, MethodSetup } from "./types.ts";

/** The corruptions {@linkcode denoisingAutoencoder} can apply. */
export type NoiseKind = "gaussian" | "salt-and-pepper" | "masking";

/** Options for {@linkcode denoisingAutoencoder}. `augment` is not used: the noise is the view. */
export interface DenoisingAutoencoderOptions extends BaseMethodOptions {
  /** The corruption. @default {"gaussian"} */
  noise?: NoiseKind;
  /**
   * Its strength: the std of gaussian noise, or the fraction of pixels set to 0/1
   * (salt-and-pepper) or to 0 (masking, Vincent et al. 2010).
   * @default {0.3}
   */
  noiseLevel?: number;
  /** Reconstruction loss against the clean image. @default {"mse"} */
  loss?: "mse" | "l1";
  /** Widths of the decoder's upsampling stages. @default {[32, 16]} */
  decoderWidths?: number[];
}

/** The denoising autoencoder's networks. */
export interface DenoisingAutoencoderNets {
  /** Noisy image to code Z; used downstream. */
  encoder: tfl.LayersModel;
  /** Z to the reconstruction. */
  decoder: tfl.LayersModel;
}

/**
 * Corrupts images with seeded noise: gaussian (`x + N(0, level^2)`), salt-and-pepper (a `level`
 * fraction of pixels set to 0 or 1, evenly), or masking (a `level` fraction set to 0).
 *
 * @param images images, shape `[B, H, W, C]`, in [0, 1]
 * @param kind the corruption
 * @param level its strength
 * @param seed seed of the noise
 * @returns corrupted images, same shape
 * @throws {RangeError} for an unknown kind or a level outside [0, 1]
 *
 * @example
 * ```ts
 * import { corrupt } from "./denoising_autoencoder.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const y = corrupt(tf.fill([1, 10, 10, 1], 0.5) as tf.Tensor4D, "masking", 0.3, 1);
 * const zeros = y.dataSync().filter((v) => v === 0).length;
 * assert.ok(zeros > 10 && zeros < 60);
 * ```
 */
export function corrupt(
  images: tf.Tensor4D,
  kind: NoiseKind,
  level: number,
  seed: number,
): tf.Tensor4D {
  checkRange("a corruption", "level", level, 0, 1);
  return tf.tidy(() => {
    const u = () => tf.randomUniform(images.shape, 0, 1, "float32", seed);
    switch (kind) {
      case "gaussian":
        // tfjs draws seed 0 of randomNormal from Math.random: tfjsSeed keeps it a seed
        return tf.add(images, tf.randomNormal(images.shape, 0, level, "float32", tfjsSeed(seed)));
      case "masking":
        return tf.mul(images, tf.cast(tf.greaterEqual(u(), level), "float32"));
      case "salt-and-pepper": {
        const r = u();
        const salt = tf.cast(tf.less(r, level / 2), "float32");
        const hit = tf.cast(tf.less(r, level), "float32");
        return tf.add(tf.mul(images, tf.sub(1, hit)), salt);
      }
      default:
        throw new RangeError(
          `Cannot corrupt: noise must be gaussian, salt-and-pepper or masking, received ${kind}`,
        );
    }
  }) as tf.Tensor4D;
}

/**
 * Denoising autoencoder (Vincent et al. 2008/2010): noisy input (gaussian, salt-and-pepper or
 * masking) -> encoder -> Z -> decoder -> reconstruction, MSE or L1 against the clean image.
 * Views: `[noisy, clean]`. Metrics: `mse` of the reconstruction, `noisyMse` of the input (the
 * identity's error, to beat), `zStd`.
 *
 * @param options encoder, input shape, seed, noise, noiseLevel, loss, decoderWidths
 * @returns the method, its nets and (empty) state
 *
 * @example
 * ```ts
 * import { denoisingAutoencoder } from "./denoising_autoencoder.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { method, nets, state } = denoisingAutoencoder({
 *   encoder: "convnet", inputShape: [8, 8, 1], seed: 0, widths: [4], decoderWidths: [4],
 * });
 * const views = method.views(tf.randomUniform([2, 8, 8, 1]) as tf.Tensor4D, 0);
 * const { loss } = method.step(nets, views, state, { progress: 0, step: 0, epoch: 0 });
 * assert.ok(loss.dataSync()[0] > 0);
 * ```
 */
export function denoisingAutoencoder(
  options: DenoisingAutoencoderOptions,
): MethodSetup<DenoisingAutoencoderNets, Record<string, never>> {
  const built = buildEncoder(options);
  if (built.sequence) {
    throw new TypeError(
      "Cannot build denoising-autoencoder: expected an encoder with [B, D] output, received [B, L, D]",
    );
  }
  const { noise = "gaussian", noiseLevel = 0.3, loss = "mse", decoderWidths = [32, 16] } = options;
  if (!["gaussian", "salt-and-pepper", "masking"].includes(noise)) {
    throw new RangeError(
      `Cannot build denoising-autoencoder: noise must be gaussian, salt-and-pepper or masking, received ${noise}`,
    );
  }
  if (loss !== "mse" && loss !== "l1") {
    throw new RangeError(
      `Cannot build denoising-autoencoder: loss must be mse or l1, received ${loss}`,
    );
  }
  checkRange("denoising-autoencoder", "noiseLevel", noiseLevel, 0, 1);
  const decoder = convDecoder(built.dim, {
    outputShape: options.inputShape,
    widths: decoderWidths,
  });
  const nets: DenoisingAutoencoderNets = { encoder: built.encoder, decoder };
  const method: Method<DenoisingAutoencoderNets, Record<string, never>> = {
    name: "denoising-autoencoder",
    views(images, seed) {
      return [corrupt(images, noise, noiseLevel, seed), tf.clone(images)];
    },
    step(nets, views, state) {
      return tidyStep(() => {
        const [noisy, clean] = views;
        const z = nets.encoder.apply(noisy, { training: true }) as tf.Tensor2D;
        const recon = nets.decoder.apply(z, { training: true }) as tf.Tensor4D;
        const diff = tf.sub(recon, clean);
        const mse = tf.mean(tf.square(diff)) as tf.Scalar;
        const value = loss === "mse" ? mse : tf.mean(tf.abs(diff)) as tf.Scalar;
        return {
          loss: value,
          metrics: { mse, noisyMse: tf.mean(tf.square(tf.sub(noisy, clean))), zStd: zStd(z) },
          state,
        };
      });
    },
    trainable: (nets) => variablesOf([nets.encoder, nets.decoder]),
  };
  return { method, nets, state: {}, encoder: built.encoder };
}
