import * as tfl from "@tensorflow/tfjs-layers";
import { apply, BN_MOMENTUM, checkInputShape, checkWidths } from "./_layers.ts";

/** Options for {@linkcode convDecoder}. */
export interface ConvDecoderOptions {
  /** Output `[height, width, channels]`; height and width divisible by `2^widths.length`. */
  outputShape: [number, number, number];
  /**
   * Channels of each upsampling stage (nearest x2, conv 3x3, BatchNorm, ReLU), coarse to fine.
   * @default {[32, 16]}
   */
  widths?: number[];
  /** Activation of the last 1x1 conv: `sigmoid` for images in [0, 1], `linear` for logits. @default {"sigmoid"} */
  activation?: "sigmoid" | "linear" | "tanh";
  /** Model name. @default {"decoder"} */
  name?: string;
}

/**
 * A convolutional decoder from a feature vector `[B, latentDim]` to images `[B, H, W, C]`: a
 * Dense layer to a `H/2^n x W/2^n` map, `n` upsampling stages, and a 1x1 conv (the decoder of the
 * denoising autoencoder and of colorization).
 *
 * @param latentDim size of the input features
 * @param options output shape, widths, activation, name
 * @returns the decoder, a functional `tf.LayersModel`
 * @throws {TypeError} for bad shapes
 * @throws {RangeError} when the output size is not divisible by `2^widths.length`
 *
 * @example
 * ```ts
 * import { convDecoder } from "./decoder.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const dec = convDecoder(8, { outputShape: [28, 28, 1], widths: [4, 4] });
 * assert.deepEqual((dec.predict(tf.ones([2, 8])) as tf.Tensor).shape, [2, 28, 28, 1]);
 * ```
 */
export function convDecoder(latentDim: number, options: ConvDecoderOptions): tfl.LayersModel {
  const { outputShape, widths = [32, 16], activation = "sigmoid", name = "decoder" } = options;
  checkWidths("a decoder (latentDim)", [latentDim]);
  checkInputShape("a decoder", outputShape);
  checkWidths("a decoder", widths);
  const [h, w, c] = outputShape;
  const f = 2 ** widths.length;
  if (h % f !== 0 || w % f !== 0) {
    throw new RangeError(
      `Cannot build a decoder: output height and width must be divisible by ${f}, received ${h}x${w}`,
    );
  }
  const c0 = widths[0] ?? 32;
  const input = tfl.input({ shape: [latentDim] });
  let x = apply(tfl.layers.dense({ units: (h / f) * (w / f) * c0, activation: "relu" }), input);
  x = apply(tfl.layers.reshape({ targetShape: [h / f, w / f, c0] }), x);
  for (const width of widths) {
    x = apply(tfl.layers.upSampling2d({ size: [2, 2] }), x);
    x = apply(tfl.layers.conv2d({ filters: width, kernelSize: 3, padding: "same" }), x);
    x = apply(tfl.layers.batchNormalization({ momentum: BN_MOMENTUM, epsilon: 1e-5 }), x);
    x = apply(tfl.layers.reLU(), x);
  }
  x = apply(tfl.layers.conv2d({ filters: c, kernelSize: 1, activation }), x);
  return tfl.model({ inputs: input, outputs: x, name });
}
