import * as tfl from "@tensorflow/tfjs-layers";
import {
  apply,
  BN_MOMENTUM,
  checkInputShape,
  checkWidths,
  convBn,
  type KernelInit,
} from "./_layers.ts";

export type { KernelInit } from "./_layers.ts";

/** Options for {@linkcode convNet}. */
export interface ConvNetOptions {
  /** Input `[height, width, channels]`. @default {[28, 28, 1]} (MNIST) */
  inputShape?: [number | null, number | null, number];
  /**
   * Channels of each stage (conv 3x3 stride 1, then conv 3x3 stride 2, each with BatchNorm and
   * ReLU).
   * @default {[32, 64, 128]}
   */
  widths?: number[];
  /** BatchNorm momentum (Keras convention). @default {0.9} */
  batchNormMomentum?: number;
  /**
   * How the convolution kernels are drawn: `"pytorch"`, PyTorch's `nn.Conv2d` default
   * (U(±1/sqrt(fan_in)), std 0.577/sqrt(fan_in)), or `"he-normal"`, tfjs' `heNormal` (std
   * 1.24/sqrt(fan_in), 2.15x larger). Before a BatchNorm the kernel's scale sets the effective
   * learning rate (scale-invariant weights move by lr / |w|^2 in angle), so he-normal kernels
   * learn ~4.6x slower at the same lr (bench/RESULTS.md, "Learning gap").
   * @default {"pytorch"}
   */
  init?: KernelInit;
  /** Model name. @default {"convnet"} */
  name?: string;
}

/**
 * A small ConvNet for 28x28 images (MNIST, Fashion-MNIST): per stage a 3x3 conv and a 3x3
 * stride-2 conv, each followed by BatchNorm and ReLU, then global average pooling.
 * Output: features `[B, widths.at(-1)]`.
 *
 * @param options input shape and widths
 * @returns a functional `tf.LayersModel`
 *
 * @example
 * ```ts
 * import { convNet } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const net = convNet({ widths: [4, 8] });
 * assert.deepEqual((net.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor).shape, [2, 8]);
 * ```
 */
export function convNet(options: ConvNetOptions = {}): tfl.LayersModel {
  const {
    inputShape = [28, 28, 1],
    widths = [32, 64, 128],
    batchNormMomentum: momentum = BN_MOMENTUM,
    init = "pytorch",
    name = "convnet",
  } = options;
  checkInputShape("convNet", inputShape);
  checkWidths("convNet", widths);
  const input = tfl.input({ shape: inputShape });
  let x = input;
  for (const w of widths) {
    x = convBn(x, w, { momentum, init });
    x = convBn(x, w, { strides: 2, momentum, init });
  }
  const out = apply(tfl.layers.globalAveragePooling2d({}), x);
  return tfl.model({ inputs: input, outputs: out, name });
}
