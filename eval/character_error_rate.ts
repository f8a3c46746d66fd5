import { editDistance } from "./edit_distance.ts";

/**
 * Character error rate: total edit distance between predictions and references divided by the
 * total reference length (corpus-level, as OCR and ASR toolkits report it).
 *
 * @param predictions predicted strings or symbol sequences
 * @param truths reference strings or symbol sequences, same count
 * @returns the CER, >= 0 (can exceed 1 when predictions are longer than references); 0 when
 *   every reference is empty and every prediction too
 *
 * @example
 * ```ts
 * import { characterErrorRate } from "./character_error_rate.ts";
 * import assert from "node:assert/strict";
 * assert.equal(characterErrorRate(["abc", "xy"], ["abd", "xy"]), 1 / 5);
 * ```
 */
export function characterErrorRate(
  predictions: readonly (string | ArrayLike<unknown>)[],
  truths: readonly (string | ArrayLike<unknown>)[],
): number {
  if (predictions.length !== truths.length) {
    throw new TypeError(
      `Cannot compute CER: expected as many predictions as references (${truths.length}), received ${predictions.length}`,
    );
  }
  let edits = 0, total = 0;
  for (let i = 0; i < truths.length; i++) {
    edits += editDistance(predictions[i], truths[i]);
    total += Array.from(truths[i] as ArrayLike<unknown>).length;
  }
  if (total === 0) return edits === 0 ? 0 : Infinity;
  return edits / total;
}
