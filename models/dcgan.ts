import * as tfl from "@tensorflow/tfjs-layers";
import { apply, BN_MOMENTUM, checkInputShape, checkWidths } from "./_layers.ts";

/** Options for {@linkcode dcganGenerator}. */
export interface DcganGeneratorOptions {
  /** Output `[height, width, channels]`; height and width divisible by `2^widths.length`. */
  outputShape: [number, number, number];
  /**
   * Channels of each fractionally-strided stage (transposed conv 4x4 stride 2, BatchNorm, ReLU).
   * @default {[64, 32]}
   */
  widths?: number[];
  /**
   * Activation of the output layer: `sigmoid` for images in [0, 1], `tanh` for [-1, 1] (DCGAN).
   * @default {"sigmoid"}
   */
  activation?: "sigmoid" | "tanh";
  /** Model name. @default {"generator"} */
  name?: string;
}

/**
 * The DCGAN generator (Radford et al. 2015, arXiv:1511.06434): noise `[B, zDim]` -> Dense ->
 * BatchNorm -> ReLU -> reshape, then transposed convolutions with BatchNorm and ReLU doubling the
 * size (BatchNorm everywhere but the output, as the paper), and a last transposed conv with a
 * sigmoid (images in [0, 1]) or, as the paper, a tanh (`activation: "tanh"`, images in [-1, 1]).
 *
 * @param zDim size of the noise vector
 * @param options output shape, widths, activation, name
 * @returns the generator, a functional `tf.LayersModel`
 * @throws {TypeError} for bad shapes
 * @throws {RangeError} when the output size is not divisible by `2^widths.length`
 *
 * @example
 * ```ts
 * import { dcganGenerator } from "./dcgan.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const g = dcganGenerator(4, { outputShape: [28, 28, 1], widths: [4, 2] });
 * assert.deepEqual((g.predict(tf.ones([2, 4])) as tf.Tensor).shape, [2, 28, 28, 1]);
 * ```
 */
export function dcganGenerator(zDim: number, options: DcganGeneratorOptions): tfl.LayersModel {
  const { outputShape, widths = [64, 32], activation = "sigmoid", name = "generator" } = options;
  if (activation !== "sigmoid" && activation !== "tanh") {
    throw new RangeError(
      `Cannot build a generator: activation must be sigmoid or tanh, received ${activation}`,
    );
  }
  checkWidths("a generator (zDim)", [zDim]);
  checkInputShape("a generator", outputShape);
  checkWidths("a generator", widths);
  const [h, w, c] = outputShape;
  const f = 2 ** widths.length;
  if (h % f !== 0 || w % f !== 0) {
    throw new RangeError(
      `Cannot build a generator: output height and width must be divisible by ${f}, received ${h}x${w}`,
    );
  }
  const c0 = widths[0] ?? 64;
  const input = tfl.input({ shape: [zDim] });
  let x = apply(tfl.layers.dense({ units: (h / f) * (w / f) * c0, useBias: false }), input);
  x = apply(tfl.layers.batchNormalization({ momentum: BN_MOMENTUM, epsilon: 1e-5 }), x);
  x = apply(tfl.layers.reLU(), x);
  x = apply(tfl.layers.reshape({ targetShape: [h / f, w / f, c0] }), x);
  for (const width of widths) {
    x = apply(
      tfl.layers.conv2dTranspose({
        filters: width,
        kernelSize: 4,
        strides: 2,
        padding: "same",
        useBias: false,
      }),
      x,
    );
    x = apply(tfl.layers.batchNormalization({ momentum: BN_MOMENTUM, epsilon: 1e-5 }), x);
    x = apply(tfl.layers.reLU(), x);
  }
  x = apply(
    tfl.layers.conv2dTranspose({
      filters: c,
      kernelSize: 3,
      padding: "same",
      activation,
    }),
    x,
  );
  return tfl.model({ inputs: input, outputs: x, name });
}
