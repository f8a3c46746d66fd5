import type * as tfl from "@tensorflow/tfjs-layers";
import type { FineTuneOptions, FineTuneResult } from "./fine_tune.ts";
import { fitModel } from "./_fit_model.ts";
import type { LabeledImages } from "./_supervised.ts";

/** Options for {@linkcode trainSupervised}: those of `fineTune` with the baseline's defaults. */
export interface TrainSupervisedOptions extends FineTuneOptions {
  /**
   * Learning rate. `[0]` our source: AdamW 3e-4 for the supervised baseline.
   * @default 3e-4
   */
  lr?: number;
  /**
   * Epochs over the labeled set. `[0]` our source.
   * @default 50
   */
  epochs?: number;
}

/**
 * The supervised baseline: trains a freshly initialized encoder and head (the same architecture
 * as the self-supervised arm) on the labeled set only, then scores the test set. Same loop as
 * {@linkcode fineTune}, with the source's baseline defaults (AdamW, lr 3e-4, batch 8, 50
 * epochs). Updates the models in place.
 *
 * @param encoder a randomly initialized backbone
 * @param head a randomly initialized head
 * @param data the labeled training set: images with labels, or a dataset
 * @param options optimizer, lr, epochs, batch size, test set
 * @returns per-epoch losses and, with `test`, its metrics
 *
 * @example
 * ```ts
 * import { trainSupervised } from "./train_supervised.ts";
 * import { tf } from "../backend/tf.ts";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import assert from "node:assert/strict";
 * const encoder = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [1, 2, 1] })] });
 * const head = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 2 })] });
 * const data = { images: tf.tensor4d([3, 0, 0, 3], [2, 1, 2, 1]), labels: [1, 0] };
 * const r = await trainSupervised(encoder, head, data, { epochs: 5, batchSize: 2 });
 * assert.equal(r.losses.length, 5);
 * ```
 */
export async function trainSupervised(
  encoder: tfl.LayersModel,
  head: tfl.LayersModel,
  data: LabeledImages,
  options: TrainSupervisedOptions = {},
): Promise<FineTuneResult> {
  return await fitModel(encoder, head, data, options, { lr: 3e-4, epochs: 50 }, "train supervised");
}
