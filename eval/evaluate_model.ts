import { tf } from "../backend/tf.ts";
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  type EvalMetrics,
  headLogits,
  type LabeledImages,
  scoreOutputs,
  toImageSet,
} from "./_supervised.ts";

/** Options for {@linkcode evaluateModel}. */
export interface EvaluateModelOptions {
  /**
   * Images per forward pass.
   * @default 64
   */
  batchSize?: number;
  /**
   * Turns uint8 dataset images into the encoder's input.
   * @default x => x / 255
   */
  preprocess?: (x: tf.Tensor4D) => tf.Tensor4D;
  /**
   * Index of the CTC blank.
   * @default the head's last output
   */
  blank?: number;
}

/**
 * Scores an encoder + head on a labeled set in inference mode: top-1 accuracy for class labels;
 * sequence accuracy and character error rate (greedy CTC decoding) for label sequences or a
 * dataset with `text` and `charset`.
 *
 * @param model the encoder and the head
 * @param data labeled images `[N, H, W, C]` with labels, or a dataset
 * @returns the metrics
 *
 * @example
 * ```ts
 * import { evaluateModel } from "./evaluate_model.ts";
 * import { tf } from "../backend/tf.ts";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import assert from "node:assert/strict";
 * const encoder = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [1, 2, 1] })] });
 * const head = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [2], units: 2, useBias: false, kernelInitializer: "identity" })] });
 * const data = { images: tf.tensor4d([1, 0, 0, 1, 0, 2], [3, 1, 2, 1]), labels: [0, 1, 0] };
 * assert.equal((await evaluateModel({ encoder, head }, data)).accuracy, 2 / 3);
 * ```
 */
export async function evaluateModel(
  model: { encoder: tfl.LayersModel; head: tfl.LayersModel },
  data: LabeledImages,
  options: EvaluateModelOptions = {},
): Promise<EvalMetrics> {
  const {
    batchSize = 64,
    preprocess = (x: tf.Tensor4D) => tf.div(tf.cast(x, "float32"), 255) as tf.Tensor4D,
    blank,
  } = options;
  const set = await toImageSet(data, preprocess, "evaluate a model");
  return scoreOutputs(
    set.n,
    set.targets,
    (order, start, end) =>
      tf.tidy(() => {
        const features = model.encoder.apply(set.batch(order, start, end), { training: false });
        return headLogits(model.head, features as tf.Tensor, false);
      }),
    batchSize,
    blank,
  );
}
