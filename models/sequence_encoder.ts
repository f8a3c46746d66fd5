import * as tfl from "@tensorflow/tfjs-layers";
import { apply, BN_MOMENTUM, checkInputShape, checkWidths, convBn } from "./_layers.ts";

/** Options for {@linkcode sequenceEncoder}. */
export interface SequenceEncoderOptions {
  /** Input `[height, width, channels]`; the height must be known, the width may be `null`. */
  inputShape: [number, number | null, number];
  /**
   * Channels of the conv stages. Stages 1 and 2 pool 2x2 (width / 4 in all), later stages pool
   * the height only, while it is above 1.
   * @default {[32, 64, 128, 128]}
   */
  widths?: number[];
  /** Frame feature size D. @default {widths.at(-1)} */
  featureDim?: number;
  /** BatchNorm momentum (Keras convention). @default {0.9} */
  batchNormMomentum?: number;
  /** Model name. @default {"sequence_encoder"} */
  name?: string;
}

/**
 * A CRNN-style encoder for text lines: a conv stack that pools the width by 4 and the height as
 * far as the stages allow, then collapses what is left of the height into the channels
 * (map-to-sequence) and projects each column to `featureDim`. Output: frame features
 * `[B, L, D]` with `L = ceil(W / 4)`, one frame per 4 pixel columns.
 *
 * @param options input shape, widths and frame size
 * @returns a functional `tf.LayersModel`
 *
 * @example
 * ```ts
 * import { sequenceEncoder } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const net = sequenceEncoder({ inputShape: [16, 32, 1], widths: [4, 8, 8], featureDim: 6 });
 * assert.deepEqual((net.predict(tf.zeros([2, 16, 32, 1])) as tf.Tensor).shape, [2, 8, 6]);
 * ```
 */
export function sequenceEncoder(options: SequenceEncoderOptions): tfl.LayersModel {
  const {
    inputShape,
    widths = [32, 64, 128, 128],
    batchNormMomentum: momentum = BN_MOMENTUM,
    name = "sequence_encoder",
  } = options;
  checkInputShape("sequenceEncoder", inputShape, true);
  checkWidths("sequenceEncoder", widths);
  const { featureDim = widths[widths.length - 1] } = options;
  checkWidths("sequenceEncoder (featureDim)", [featureDim]);
  const input = tfl.input({ shape: inputShape });
  let x = input;
  let height = inputShape[0];
  widths.forEach((w, i) => {
    x = convBn(x, w, { momentum });
    const poolW = i < 2 ? 2 : 1;
    const poolH = height > 1 ? 2 : 1;
    if (poolW > 1 || poolH > 1) {
      x = apply(
        tfl.layers.maxPooling2d({
          poolSize: [poolH, poolW],
          strides: [poolH, poolW],
          padding: "same",
        }),
        x,
      );
      height = Math.ceil(height / poolH);
    }
  });
  const channels = widths[widths.length - 1];
  x = apply(tfl.layers.permute({ dims: [2, 1, 3] }), x); // [B, L, h, C]
  x = apply(tfl.layers.reshape({ targetShape: [-1, height * channels] }), x); // [B, L, h*C]
  x = apply(tfl.layers.dense({ units: featureDim }), x); // [B, L, D]
  return tfl.model({ inputs: input, outputs: x, name });
}
