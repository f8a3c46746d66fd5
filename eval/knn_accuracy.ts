import type { tf } from "../backend/tf.ts";
import { type ClassLabels, toLabelArray } from "./_labels.ts";
import { knnClassify, type KnnOptions } from "./knn_classify.ts";

/**
 * Top-1 accuracy of the weighted kNN classifier ({@linkcode knnClassify}, Wu et al. 2018) on
 * frozen features: the SSL monitor of SimCLR, MoCo and solo-learn.
 *
 * @param trainFeatures training features, shape `[nTrain, d]`
 * @param trainLabels training class labels, shape `[nTrain]`
 * @param testFeatures test features, shape `[nTest, d]`
 * @param testLabels test class labels, shape `[nTest]`
 * @returns the fraction of test rows classified correctly, in [0, 1]
 *
 * @example
 * ```ts
 * import { knnAccuracy } from "./knn_accuracy.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const train = tf.tensor2d([[1, 0], [0, 1]]);
 * const test = tf.tensor2d([[2, 0.1], [0.1, 3], [1, 0.5]]);
 * assert.equal(knnAccuracy(train, [0, 1], test, [0, 1, 1], { k: 1 }), 2 / 3);
 * ```
 */
export function knnAccuracy(
  trainFeatures: tf.Tensor,
  trainLabels: ClassLabels,
  testFeatures: tf.Tensor,
  testLabels: ClassLabels,
  options: KnnOptions = {},
): number {
  const truth = toLabelArray(testLabels, "compute kNN accuracy");
  if (truth.length !== testFeatures.shape[0]) {
    throw new TypeError(
      `Cannot compute kNN accuracy: expected ${
        testFeatures.shape[0]
      } test labels, received ${truth.length}`,
    );
  }
  const { predictions } = knnClassify(trainFeatures, trainLabels, testFeatures, options);
  let correct = 0;
  for (let i = 0; i < truth.length; i++) if (predictions[i] === truth[i]) correct++;
  return truth.length === 0 ? 0 : correct / truth.length;
}
