import * as tfl from "@tensorflow/tfjs-layers";
import { apply, BN_MOMENTUM, checkInputShape, checkWidths } from "../models/_layers.ts";
import { dcganInit } from "./_gan_init.ts";

/** Options for {@linkcode dcganPaperGenerator}. */
export interface DcganPaperGeneratorOptions {
  /** Output `[height, width, channels]`; height and width divisible by `2^widths.length`. */
  outputShape: [number, number, number];
  /**
   * Channels of the projected map and of each fractionally-strided stage before the output: the
   * first is the projection's (`Dense` to `[H / 2^n, W / 2^n, widths[0]]`), each next one a
   * transposed conv of stride 2; the output layer is one more transposed conv of stride 2.
   * @default {[128, 64]} (the paper's 1024-512-256-128 for 64x64 LSUN, scaled to 28x28 MNIST)
   */
  widths?: number[];
  /** Kernel size of the transposed convolutions. @default {5} (Radford et al. 2015, Fig. 1) */
  kernelSize?: number;
  /**
   * Where the projection's BatchNorm normalizes: `"channel"`, per channel of the reshaped
   * `[H / 2^n, W / 2^n, widths[0]]` map (`widths[0]` statistics, as dcgan.torch's
   * `SpatialBatchNormalization` after its first full convolution), or `"unit"`, per unit of the flat `Dense` output before the
   * reshape (`H W widths[0] / 4^n` statistics; this library's generator before 2026-12-02, kept
   * to read its checkpoints and compare).
   * @default {"channel"}
   */
  projectionNorm?: "channel" | "unit";
  /**
   * Units of a fully connected layer between z and the projection (`Dense` without bias,
   * BatchNorm per unit, ReLU), as the DCGAN authors' MNIST generator (Newmu/dcgan_code,
   * `mnist/train_cond_dcgan.py`: `ngfc = 1024`); 0 for none. The paper removes such layers
   * (Radford et al. 2015, Sec. 3), hence the default.
   * @default {0}
   */
  hidden?: number;
  /** Model name. @default {"generator"} */
  name?: string;
}

/**
 * DCGAN's generator as the paper (Radford et al. 2015, Sec. 3-4 and Fig. 1): z `[B, zDim]` ->
 * (with `hidden`, a fully connected layer as the authors' MNIST code) -> Dense projection -> reshape -> BatchNorm (per channel) and ReLU -> fractionally-strided
 * convolutions (stride 2) that double the size, BatchNorm and ReLU after every layer but the output, a tanh output (images in [-1, 1]),
 * every weight drawn from N(0, 0.02) ({@linkcode dcganInit}). Unlike `models/dcgan.ts`'s
 * generator, the last upsampling is the output layer itself (no extra stride-1 conv).
 *
 * @param zDim size of the noise vector
 * @param options output shape, widths, kernel size, projection norm, hidden units, name
 * @returns the generator, a functional `tf.LayersModel`
 * @throws {TypeError} for bad shapes or widths
 * @throws {RangeError} when the output size is not divisible by `2^widths.length`
 *
 * @example
 * ```ts
 * import { dcganPaperGenerator } from "./_gan_generator.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const g = dcganPaperGenerator(4, { outputShape: [28, 28, 1], widths: [4, 2] });
 * assert.deepEqual((g.predict(tf.ones([2, 4])) as tf.Tensor).shape, [2, 28, 28, 1]);
 * ```
 */
export function dcganPaperGenerator(
  zDim: number,
  options: DcganPaperGeneratorOptions,
): tfl.LayersModel {
  const {
    outputShape,
    widths = [128, 64],
    kernelSize = 5,
    projectionNorm = "channel",
    hidden = 0,
    name = "generator",
  } = options;
  if (projectionNorm !== "channel" && projectionNorm !== "unit") {
    throw new TypeError(
      `Cannot build a generator: expected projectionNorm "channel" or "unit", received ${
        String(projectionNorm)
      }`,
    );
  }
  checkWidths("a generator (zDim)", [zDim]);
  checkWidths("a generator (kernelSize)", [kernelSize]);
  checkInputShape("a generator", outputShape);
  checkWidths("a generator", widths);
  if (hidden !== 0) checkWidths("a generator (hidden)", [hidden]);
  if (widths.length === 0) {
    throw new TypeError(`Cannot build a generator: expected at least one width, received []`);
  }
  const [h, w, c] = outputShape;
  const f = 2 ** widths.length;
  if (h % f !== 0 || w % f !== 0) {
    throw new RangeError(
      `Cannot build a generator: expected output height and width divisible by ${f}, received ${h}x${w}`,
    );
  }
  const init = dcganInit();
  const bnRelu = (x: tfl.SymbolicTensor) =>
    apply(
      tfl.layers.reLU(),
      apply(
        tfl.layers.batchNormalization({
          momentum: BN_MOMENTUM,
          epsilon: 1e-5,
          gammaInitializer: init.gamma,
        }),
        x,
      ),
    );
  const input = tfl.input({ shape: [zDim] });
  const dense = (units: number, t: tfl.SymbolicTensor) =>
    apply(tfl.layers.dense({ units, useBias: false, kernelInitializer: init.kernel }), t);
  // dcgan_code's MNIST generator: z -> FC hidden, BatchNorm, ReLU -> the projection
  const z = hidden > 0 ? bnRelu(dense(hidden, input)) : input;
  let x = dense((h / f) * (w / f) * widths[0], z);
  const reshape = (t: tfl.SymbolicTensor) =>
    apply(tfl.layers.reshape({ targetShape: [h / f, w / f, widths[0]] }), t);
  // BatchNorm's axis is the last: per channel after the reshape, per unit before it
  x = projectionNorm === "channel" ? bnRelu(reshape(x)) : reshape(bnRelu(x));
  const up = (filters: number, last: boolean) =>
    tfl.layers.conv2dTranspose({
      filters,
      kernelSize,
      strides: 2,
      padding: "same",
      useBias: last,
      kernelInitializer: init.kernel,
      activation: last ? "tanh" : "linear",
    });
  for (const width of widths.slice(1)) x = bnRelu(apply(up(width, false), x));
  x = apply(up(c, true), x);
  return tfl.model({ inputs: input, outputs: x, name });
}
