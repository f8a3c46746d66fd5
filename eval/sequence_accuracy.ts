/**
 * Sequence (line) accuracy: the fraction of predictions exactly equal to their reference.
 *
 * @param predictions predicted strings or symbol sequences
 * @param truths reference strings or symbol sequences, same count
 * @returns a fraction in [0, 1] (0 for empty inputs)
 *
 * @example
 * ```ts
 * import { sequenceAccuracy } from "./sequence_accuracy.ts";
 * import assert from "node:assert/strict";
 * assert.equal(sequenceAccuracy([[1, 2], [3]], [[1, 2], [4]]), 0.5);
 * ```
 */
export function sequenceAccuracy(
  predictions: readonly (string | ArrayLike<unknown>)[],
  truths: readonly (string | ArrayLike<unknown>)[],
): number {
  if (predictions.length !== truths.length) {
    throw new TypeError(
      `Cannot compute sequence accuracy: expected as many predictions as references (${truths.length}), received ${predictions.length}`,
    );
  }
  let correct = 0;
  for (let i = 0; i < truths.length; i++) {
    const p = Array.from(predictions[i] as ArrayLike<unknown>);
    const t = Array.from(truths[i] as ArrayLike<unknown>);
    if (p.length === t.length && p.every((v, j) => v === t[j])) correct++;
  }
  return truths.length === 0 ? 0 : correct / truths.length;
}
