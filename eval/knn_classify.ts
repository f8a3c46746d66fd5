import { tf } from "../backend/tf.ts";
import { type ClassLabels, shape2d, toLabelArray } from "./_labels.ts";

export type { ClassLabels } from "./_labels.ts";

/** Options for {@linkcode knnClassify}. */
export interface KnnOptions {
  /**
   * Neighbours per query. `[0]` Wu et al. 2018, arXiv:1805.01978 (InstDisc).
   * @default 200
   */
  k?: number;
  /**
   * Temperature τ of the vote weights exp(sim / τ). `[0]` Wu et al. 2018.
   * @default 0.1
   */
  temperature?: number;
  /**
   * Number of classes.
   * @default max(trainLabels) + 1
   */
  numClasses?: number;
  /**
   * Test rows per similarity block; the block `[chunkSize, nTrain]` bounds memory.
   * @default 256
   */
  chunkSize?: number;
}

/** Predictions and class scores from {@linkcode knnClassify}. */
export interface KnnResult {
  /** Predicted class per test row, shape `[nTest]`. */
  predictions: Int32Array;
  /** Summed vote weights, row-major `[nTest, numClasses]`. */
  scores: Float32Array;
  /** Number of classes the scores cover. */
  numClasses: number;
}

/**
 * Weighted k-nearest-neighbour classifier on frozen features (Wu et al. 2018, the monitor of
 * SimCLR, MoCo and solo-learn): features are L2-normalized, each test row takes its `k` most
 * cosine-similar training rows, each neighbour votes for its class with weight exp(sim / τ), and
 * the class with the largest summed weight wins. The test set is processed in chunks so memory
 * stays `O(chunkSize * nTrain)`.
 *
 * @param trainFeatures training features, shape `[nTrain, d]`
 * @param trainLabels training class labels, shape `[nTrain]`
 * @param testFeatures test features, shape `[nTest, d]`
 * @returns predictions and per-class scores
 *
 * @example
 * ```ts
 * import { knnClassify } from "./knn_classify.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const train = tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]);
 * const test = tf.tensor2d([[1, 0.2], [0.2, 1]]);
 * const { predictions } = knnClassify(train, [0, 0, 1, 1], test, { k: 2 });
 * assert.deepEqual([...predictions], [0, 1]);
 * ```
 */
export function knnClassify(
  trainFeatures: tf.Tensor,
  trainLabels: ClassLabels,
  testFeatures: tf.Tensor,
  options: KnnOptions = {},
): KnnResult {
  const what = "run kNN";
  const [nTrain, d] = shape2d(trainFeatures, "trainFeatures", what);
  const [nTest, dTest] = shape2d(testFeatures, "testFeatures", what);
  if (d !== dTest) {
    throw new TypeError(
      `Cannot run kNN: train and test features must have the same width, received ${d} and ${dTest}`,
    );
  }
  const labels = toLabelArray(trainLabels, what);
  if (labels.length !== nTrain) {
    throw new TypeError(
      `Cannot run kNN: expected ${nTrain} train labels, received ${labels.length}`,
    );
  }
  const maxLabel = labels.reduce((m, v) => Math.max(m, v), -1);
  const { k = 200, temperature = 0.1, numClasses = maxLabel + 1, chunkSize = 256 } = options;
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`Cannot run kNN: k must be a positive integer, received ${k}`);
  }
  if (!(temperature > 0)) {
    throw new RangeError(`Cannot run kNN: temperature must be positive, received ${temperature}`);
  }
  if (!Number.isInteger(numClasses) || numClasses <= maxLabel) {
    throw new RangeError(
      `Cannot run kNN: numClasses must be an integer above the largest label ${maxLabel}, received ${numClasses}`,
    );
  }
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(
      `Cannot run kNN: chunkSize must be a positive integer, received ${chunkSize}`,
    );
  }
  const kk = Math.min(k, nTrain);
  const predictions = new Int32Array(nTest);
  const scores = new Float32Array(nTest * numClasses);
  const trainNorm = tf.tidy(() => tf.transpose(normalize(trainFeatures))); // [d, nTrain]
  const labelT = tf.tensor1d(labels, "int32");
  try {
    for (let start = 0; start < nTest; start += chunkSize) {
      const size = Math.min(chunkSize, nTest - start);
      const [chunkScores, chunkPred] = tf.tidy(() => {
        const q = normalize(tf.slice(testFeatures, [start, 0], [size, d])); // [m, d]
        const sim = tf.matMul(q, trainNorm); // [m, nTrain]
        const { values, indices } = tf.topk(sim, kk); // [m, k]
        const weights = tf.exp(tf.div(values, temperature)); // [m, k]
        const neighbourLabels = tf.gather(labelT, indices); // [m, k]
        const votes = tf.mul(tf.oneHot(neighbourLabels, numClasses), tf.expandDims(weights, 2));
        const s = tf.sum(votes, 1); // [m, C]
        return [s, tf.argMax(s, 1)];
      });
      scores.set(chunkScores.dataSync() as Float32Array, start * numClasses);
      predictions.set(chunkPred.dataSync() as Int32Array, start);
      tf.dispose([chunkScores, chunkPred]);
    }
  } finally {
    tf.dispose([trainNorm, labelT]);
  }
  return { predictions, scores, numClasses };
}

function normalize(x: tf.Tensor): tf.Tensor2D {
  // x / max(||x||, 1e-12), as torch.nn.functional.normalize
  const norm = tf.maximum(tf.sqrt(tf.sum(tf.square(x), 1, true)), 1e-12);
  return tf.div(x, norm) as tf.Tensor2D;
}
