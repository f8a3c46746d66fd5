import * as tfl from "@tensorflow/tfjs-layers";
import { apply, BN_MOMENTUM, checkInputShape, checkWidths } from "../models/_layers.ts";
import { dcganInit } from "./_gan_init.ts";

/** Options for {@linkcode dcganDiscriminator}. */
export interface DcganDiscriminatorOptions {
  /** Input `[height, width, channels]`. */
  inputShape: [number, number, number];
  /**
   * Channels of each strided convolution (stride 2).
   * @default {[64, 128]} (the paper's 128-256-512-1024 for 64x64 LSUN, scaled to 28x28 MNIST)
   */
  widths?: number[];
  /** Kernel size. @default {5} (Radford et al. 2015, Fig. 1's kernels) */
  kernelSize?: number;
  /** Slope of the LeakyReLU. @default {0.2} (Radford et al. 2015, Sec. 4) */
  slope?: number;
  /** Model name. @default {"dcgan_discriminator"} */
  name?: string;
}

/**
 * DCGAN's discriminator trunk as the paper (Radford et al. 2015, Sec. 3-4): strided convolutions
 * (no pooling), LeakyReLU 0.2 after each, BatchNorm after every one but the first (the paper
 * leaves D's input layer without it), weights N(0, 0.02) ({@linkcode dcganInit}); the last map is
 * flattened, so a linear critic on the output is the paper's "flattened and fed into a single
 * sigmoid output". Output: `[B, (H / 2^n) (W / 2^n) widths.at(-1)]`.
 *
 * @param options input shape, widths, kernel size, slope, name
 * @returns the trunk, a functional `tf.LayersModel`
 * @throws {TypeError} for bad shapes, widths or slope
 *
 * @example
 * ```ts
 * import { dcganDiscriminator } from "./_gan_discriminator.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const d = dcganDiscriminator({ inputShape: [28, 28, 1], widths: [4, 8] });
 * assert.deepEqual((d.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor).shape, [2, 7 * 7 * 8]);
 * ```
 */
export function dcganDiscriminator(options: DcganDiscriminatorOptions): tfl.LayersModel {
  const {
    inputShape,
    widths = [64, 128],
    kernelSize = 5,
    slope = 0.2,
    name = "dcgan_discriminator",
  } = options;
  checkInputShape("a discriminator", inputShape);
  checkWidths("a discriminator", widths);
  checkWidths("a discriminator (kernelSize)", [kernelSize]);
  if (widths.length === 0) {
    throw new TypeError(`Cannot build a discriminator: expected at least one width, received []`);
  }
  if (!(slope >= 0 && slope < 1)) {
    throw new TypeError(
      `Cannot build a discriminator: expected slope in [0, 1), received ${slope}`,
    );
  }
  const init = dcganInit();
  const input = tfl.input({ shape: inputShape });
  let x = input;
  widths.forEach((filters, i) => {
    x = apply(
      tfl.layers.conv2d({
        filters,
        kernelSize,
        strides: 2,
        padding: "same",
        useBias: i === 0,
        kernelInitializer: init.kernel,
      }),
      x,
    );
    if (i > 0) {
      x = apply(
        tfl.layers.batchNormalization({
          momentum: BN_MOMENTUM,
          epsilon: 1e-5,
          gammaInitializer: init.gamma,
        }),
        x,
      );
    }
    x = apply(tfl.layers.leakyReLU({ alpha: slope }), x);
  });
  return tfl.model({ inputs: input, outputs: apply(tfl.layers.flatten(), x), name });
}
