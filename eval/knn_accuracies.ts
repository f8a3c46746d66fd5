import { tf } from "../backend/tf.ts";
import { type ClassLabels, shape2d, toLabelArray } from "./_labels.ts";

/** Options for {@linkcode knnAccuracies}. */
export interface KnnAccuraciesOptions {
  /** Temperature τ of the vote weights exp(sim / τ). `[0]` Wu et al. 2018. @default 0.1 */
  temperature?: number;
  /** Test rows per similarity block `[chunkSize, nTrain]`. @default 256 */
  chunkSize?: number;
}

/** Swaps the k largest of `a[0..n)` into `a[0..k)` (quickselect, Hoare partition). */
function selectLargest(a: Float32Array, idx: Int32Array, n: number, k: number): void {
  let lo = 0, hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        const u = idx[i];
        idx[i] = idx[j];
        idx[j] = u;
        i++;
        j--;
      }
    }
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else return;
  }
}

/**
 * Weighted kNN top-1 accuracy (cosine similarity, votes exp(sim / τ), Wu et al. 2018,
 * arXiv:1805.01978) at several k from one pass over the similarities: the same figures as
 * `knnAccuracy` at each k, but the neighbours are found by a linear-time selection in JavaScript
 * instead of `tf.topk`, which sorts whole rows (about 20x slower for a 60k bank here).
 *
 * @param trainFeatures bank features, shape `[nTrain, d]`
 * @param trainLabels one class per bank row
 * @param testFeatures query features, shape `[nTest, d]`
 * @param testLabels one class per query
 * @param ks the numbers of neighbours
 * @param options temperature, chunk size
 * @returns the accuracy at each k, in the order of `ks`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { knnAccuracies } from "./knn_accuracies.ts";
 * import assert from "node:assert/strict";
 * const bank = tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]);
 * const queries = tf.tensor2d([[1, 0.05], [0.05, 1]]);
 * assert.deepEqual(knnAccuracies(bank, [0, 0, 1, 1], queries, [0, 1], [1, 2]), [1, 1]);
 * ```
 */
export function knnAccuracies(
  trainFeatures: tf.Tensor,
  trainLabels: ClassLabels,
  testFeatures: tf.Tensor,
  testLabels: ClassLabels,
  ks: readonly number[],
  options: KnnAccuraciesOptions = {},
): number[] {
  const what = "compute kNN accuracies";
  const [nTrain, d] = shape2d(trainFeatures, "trainFeatures", what);
  const [nTest, dTest] = shape2d(testFeatures, "testFeatures", what);
  if (d !== dTest) {
    throw new TypeError(
      `Cannot ${what}: train and test features must have the same width, received ${d} and ${dTest}`,
    );
  }
  const labels = toLabelArray(trainLabels, what);
  const truth = toLabelArray(testLabels, what);
  if (labels.length !== nTrain || truth.length !== nTest) {
    throw new TypeError(
      `Cannot ${what}: expected ${nTrain} train and ${nTest} test labels, received ${labels.length} and ${truth.length}`,
    );
  }
  const { temperature = 0.1, chunkSize = 256 } = options;
  if (!(temperature > 0)) {
    throw new RangeError(`Cannot ${what}: temperature must be positive, received ${temperature}`);
  }
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) {
      throw new RangeError(`Cannot ${what}: every k must be a positive integer, received ${k}`);
    }
  }
  const numClasses = Math.max(-1, ...labels, ...truth) + 1;
  const sorted = [...new Set(ks.map((k) => Math.min(k, nTrain)))].sort((a, b) => a - b);
  const kMax = sorted.at(-1) ?? 1;
  const correct = new Map<number, number>(sorted.map((k) => [k, 0]));
  const norm = (x: tf.Tensor) =>
    tf.div(x, tf.maximum(tf.sqrt(tf.sum(tf.square(x), 1, true)), 1e-12)) as tf.Tensor2D;
  const bankT = tf.tidy(() => tf.transpose(norm(trainFeatures))); // [d, nTrain]
  const row = new Float32Array(nTrain);
  const idx = new Int32Array(nTrain);
  const votes = new Float64Array(numClasses);
  try {
    for (let start = 0; start < nTest; start += chunkSize) {
      const size = Math.min(chunkSize, nTest - start);
      const sim = tf.tidy(() =>
        tf.matMul(norm(tf.slice(testFeatures, [start, 0], [size, d])), bankT)
      ); // [size, nTrain]
      const values = sim.dataSync() as Float32Array;
      sim.dispose();
      for (let r = 0; r < size; r++) {
        row.set(values.subarray(r * nTrain, (r + 1) * nTrain));
        for (let i = 0; i < nTrain; i++) idx[i] = i;
        selectLargest(row, idx, nTrain, kMax);
        // the kMax nearest, nearest first
        const order = Array.from({ length: kMax }, (_, i) => i).sort((a, b) => row[b] - row[a]);
        let next = 0;
        votes.fill(0);
        for (const k of sorted) {
          for (; next < k; next++) {
            const i = order[next];
            votes[labels[idx[i]]] += Math.exp(row[i] / temperature);
          }
          let best = 0;
          for (let c = 1; c < numClasses; c++) if (votes[c] > votes[best]) best = c;
          if (best === truth[start + r]) correct.set(k, correct.get(k)! + 1);
        }
      }
    }
  } finally {
    bankT.dispose();
  }
  return ks.map((k) => nTest === 0 ? 0 : correct.get(Math.min(k, nTrain))! / nTest);
}
