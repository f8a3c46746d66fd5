/**
 * Levenshtein distance: the fewest insertions, deletions and substitutions turning `a` into `b`
 * (Levenshtein 1966), in `O(|a| |b|)` time and `O(|b|)` memory.
 *
 * @param a a string or a sequence of symbols
 * @param b a string or a sequence of symbols
 * @returns the edit distance, an integer >= 0
 *
 * @example
 * ```ts
 * import { editDistance } from "./edit_distance.ts";
 * import assert from "node:assert/strict";
 * assert.equal(editDistance("kitten", "sitting"), 3);
 * assert.equal(editDistance([1, 2, 3], [1, 3]), 1);
 * ```
 */
export function editDistance(
  a: string | ArrayLike<unknown>,
  b: string | ArrayLike<unknown>,
): number {
  const x = typeof a === "string" ? Array.from(a) : Array.from(a);
  const y = typeof b === "string" ? Array.from(b) : Array.from(b);
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      row.push(
        Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1)),
      );
    }
    prev = row;
  }
  return prev[y.length];
}
