import * as tfl from "@tensorflow/tfjs-layers";
import { apply, BN_MOMENTUM, checkInputShape, checkWidths, convBn } from "./_layers.ts";

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
    name = "convnet",
  } = options;
  checkInputShape("convNet", inputShape);
  checkWidths("convNet", widths);
  const input = tfl.input({ shape: inputShape });
  let x = input;
  for (const w of widths) {
    x = convBn(x, w, { momentum });
    x = convBn(x, w, { strides: 2, momentum });
  }
  const out = apply(tfl.layers.globalAveragePooling2d({}), x);
  return tfl.model({ inputs: input, outputs: out, name });
}
