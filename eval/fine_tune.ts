import type { tf } from "../backend/tf.ts";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { EvalMetrics, FitOptions, LabeledImages } from "./_supervised.ts";
import { fitModel } from "./_fit_model.ts";

export type { LabeledImages } from "./_supervised.ts";

/** Options for {@linkcode fineTune}. */
export interface FineTuneOptions extends FitOptions {
  /**
   * Learning rate. `[0]` our source: AdamW 3e-5 for full fine-tuning.
   * @default 3e-5
   */
  lr?: number;
  /**
   * Epochs over the labeled set. `[0]` our source.
   * @default 40
   */
  epochs?: number;
  /**
   * Samples per step. `[0]` our source.
   * @default 8
   */
  batchSize?: number;
  /**
   * Turns uint8 dataset images `[B, H, W, C]` into the encoder's input (tensor inputs are used
   * as they are).
   * @default x => x / 255
   */
  preprocess?: (x: tf.Tensor4D) => tf.Tensor4D;
  /** A labeled set to score after training (top-1 accuracy, or sequence accuracy and CER). */
  test?: LabeledImages;
  /**
   * Train the encoder too (`false`: only the head, with the encoder in inference mode, so
   * BatchNorm statistics stay frozen).
   * @default true
   */
  trainEncoder?: boolean;
}

/** What {@linkcode fineTune} returns. */
export interface FineTuneResult {
  /** Mean training loss per epoch. */
  losses: number[];
  /** Metrics on `options.test`, when given. */
  metrics?: EvalMetrics;
}

/**
 * Full fine-tuning: trains encoder and head together on labeled images, encoder in training
 * mode (BatchNorm uses batch statistics and updates its moving averages), then scores the test
 * set in inference mode. The head maps `[N, D]` to class logits, or is applied per frame to a
 * sequence encoder's `[B, L, D]` output for CTC (labels are then sequences, or the dataset's
 * `text` mapped through its `charset`, blank last). Updates the models in place.
 *
 * @param encoder the (pretrained) backbone, `[B, H, W, C] -> [B, D]` or `[B, L, D]`
 * @param head the head, `[N, D] -> [N, C]` (classification) or `[N, C + 1]` (CTC)
 * @param data the labeled training set: images `[N, H, W, C]` with labels, or a dataset
 * @param options optimizer, lr, epochs, batch size, test set
 * @returns per-epoch losses and, with `test`, its metrics
 *
 * @example
 * ```ts
 * import { fineTune } from "./fine_tune.ts";
 * import { tf } from "../backend/tf.ts";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import assert from "node:assert/strict";
 * const encoder = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [1, 2, 1] })] });
 * const head = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 2 })] });
 * const data = { images: tf.tensor4d([1, 0, 0, 1], [2, 1, 2, 1]), labels: [0, 1] };
 * const r = await fineTune(encoder, head, data, { lr: 0.1, epochs: 30, batchSize: 2, test: data });
 * assert.equal(r.metrics?.accuracy, 1);
 * ```
 */
export async function fineTune(
  encoder: tfl.LayersModel,
  head: tfl.LayersModel,
  data: LabeledImages,
  options: FineTuneOptions = {},
): Promise<FineTuneResult> {
  return await fitModel(encoder, head, data, options, { lr: 3e-5, epochs: 40 }, "fine-tune");
}
