import { tf } from "../backend/tf.ts";
import { type ClassLabels, toLabelArray } from "./_labels.ts";

/**
 * Top-1 classification accuracy.
 *
 * @param predictions class scores `[N, C]` as a tensor (argmax is taken), or predicted class
 *   indices `[N]` as a 1-D tensor or array
 * @param labels true classes, shape `[N]`
 * @returns a fraction in [0, 1] (0 for empty inputs)
 *
 * @example
 * ```ts
 * import { top1Accuracy } from "./top1_accuracy.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const logits = tf.tensor2d([[2, 1], [0, 3], [5, 4]]);
 * assert.equal(top1Accuracy(logits, [0, 1, 1]), 2 / 3);
 * assert.equal(top1Accuracy([0, 1], [0, 0]), 0.5);
 * ```
 */
export function top1Accuracy(
  predictions: tf.Tensor | ArrayLike<number>,
  labels: ClassLabels,
): number {
  let predicted: ArrayLike<number>;
  if (predictions instanceof tf.Tensor) {
    if (predictions.rank === 2) {
      const am = tf.argMax(predictions, 1);
      predicted = am.dataSync() as ArrayLike<number>;
      am.dispose();
    } else if (predictions.rank === 1) {
      predicted = predictions.dataSync() as ArrayLike<number>;
    } else {
      throw new TypeError(
        `Cannot compute top-1 accuracy: predictions must be [N, C] scores or [N] classes, received shape [${predictions.shape}]`,
      );
    }
  } else {
    predicted = predictions;
  }
  const truth = toLabelArray(labels, "compute top-1 accuracy");
  if (truth.length !== predicted.length) {
    throw new TypeError(
      `Cannot compute top-1 accuracy: expected ${predicted.length} labels, received ${truth.length}`,
    );
  }
  let correct = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) correct++;
  return truth.length === 0 ? 0 : correct / truth.length;
}
