/**
 * The jigsaw puzzle's permutation set (Noroozi & Favaro 2016, arXiv:1603.09246, Sec. 3.3).
 *
 * @module
 */
import { pcg32 } from "../../data/prng.ts";

/** Options for {@linkcode hammingPermutations}. */
export interface HammingPermutationsOptions {
  /** Tiles per puzzle (permutations of `0..tiles-1`); at most 10. @default {9} (3x3) */
  tiles?: number;
  /** Seed of the first permutation (the rest follow greedily), or of the `average` draws. @default {0} */
  seed?: number;
  /**
   * How each next permutation is chosen among those not yet chosen (Noroozi & Favaro 2016, Sec.
   * 3.3 and Table 3):
   * - `maximal`: the largest *average* Hamming distance to those already chosen (their
   *   Algorithm 1: `D̄ = 1ᵀD`, `j = argmax D̄`), the set the paper trains with;
   * - `minimal`: the smallest average distance (Algorithm 1 with argmin), the ablation with
   *   similar permutations;
   * - `average`: uniformly at random, so that pairs sit at the average distance of random
   *   permutations (the ablation between the two);
   * - `maxmin`: the largest *minimum* distance to those chosen (a max-min code, not the paper's).
   * Ties go to the first in generation (Heap's algorithm) order.
   * @default {"maximal"} (Noroozi & Favaro 2016, Algorithm 1)
   */
  selection?: "maximal" | "minimal" | "average" | "maxmin";
}

/** What {@linkcode hammingPermutations} returns. */
export interface PermutationSet {
  /** The permutations, one per class: `permutations[k][p]` is the tile shown at position p. */
  permutations: number[][];
  /** The smallest Hamming distance between two permutations of the set. */
  minDistance: number;
  /** The average Hamming distance over the set's pairs (the paper's Table 3 column). */
  meanDistance: number;
}

const cache = new Map<string, PermutationSet>();

function allPermutations(n: number): Uint8Array {
  let count = 1;
  for (let i = 2; i <= n; i++) count *= i;
  const out = new Uint8Array(count * n);
  const p = Array.from({ length: n }, (_, i) => i);
  const c = new Array(n).fill(0);
  let k = 0;
  out.set(p, k++ * n);
  // Heap's algorithm
  let i = 1;
  while (i < n) {
    if (c[i] < i) {
      const j = i % 2 === 0 ? 0 : c[i];
      [p[j], p[i]] = [p[i], p[j]];
      out.set(p, k++ * n);
      c[i]++;
      i = 1;
    } else {
      c[i] = 0;
      i++;
    }
  }
  return out;
}

/**
 * A set of `count` permutations of `tiles` tiles chosen for a large Hamming distance, greedily
 * as Noroozi & Favaro 2016's Algorithm 1: start from a seeded random permutation of all
 * `tiles!`, then repeatedly add the permutation whose average Hamming distance to those already
 * chosen is largest (`selection: "maximal"`; see {@linkcode HammingPermutationsOptions} for the
 * paper's `minimal` and `average` ablations and a `maxmin` rule). 100 by default in the jigsaw
 * method; 1000 are available. Deterministic for a seed.
 *
 * @param count how many permutations (classes)
 * @param options tiles, seed, selection
 * @returns the permutations and their minimum and mean pairwise Hamming distances
 * @throws {RangeError} unless 2 <= tiles <= 10, 1 <= count <= tiles! and selection is known
 *
 * @example
 * ```ts
 * import { hammingPermutations } from "./hamming_permutations.ts";
 * import assert from "node:assert/strict";
 * const { permutations, meanDistance } = hammingPermutations(10, { tiles: 4 });
 * assert.equal(permutations.length, 10);
 * assert.ok(meanDistance > 3);
 * ```
 */
export function hammingPermutations(
  count: number,
  options: HammingPermutationsOptions = {},
): PermutationSet {
  const { tiles = 9, seed = 0, selection = "maximal" } = options;
  if (!Number.isInteger(tiles) || tiles < 2 || tiles > 10) {
    throw new RangeError(
      `Cannot choose permutations: tiles must be an integer in [2, 10], received ${tiles}`,
    );
  }
  if (!["maximal", "minimal", "average", "maxmin"].includes(selection)) {
    throw new RangeError(
      `Cannot choose permutations: selection must be maximal, minimal, average or maxmin, received ${selection}`,
    );
  }
  let total = 1;
  for (let i = 2; i <= tiles; i++) total *= i;
  if (!Number.isInteger(count) || count < 1 || count > total) {
    throw new RangeError(
      `Cannot choose permutations: count must be an integer in [1, ${total}], received ${count}`,
    );
  }
  const key = `${count}/${tiles}/${seed}/${selection}`;
  const hit = cache.get(key);
  if (hit) return { ...hit, permutations: hit.permutations.map((p) => p.slice()) };
  const all = allPermutations(tiles);
  const random = pcg32(seed);
  const taken = new Uint8Array(total);
  // maxmin: each candidate's minimum distance to the chosen; else the sum of its distances
  const score = selection === "maxmin" ? new Uint8Array(total).fill(255) : new Float64Array(total);
  const chosen: number[] = [];
  let next = Math.floor(random() * total);
  for (let k = 0; k < count; k++) {
    chosen.push(next);
    taken[next] = 1;
    if (k === count - 1) break;
    if (selection === "average") {
      // uniformly among the permutations not yet taken
      let r = Math.floor(random() * (total - k - 1));
      for (let j = 0; j < total; j++) {
        if (taken[j]) continue;
        if (r-- === 0) {
          next = j;
          break;
        }
      }
      continue;
    }
    const base = next * tiles;
    let best = selection === "minimal" ? Infinity : -1;
    let bestIndex = -1;
    for (let j = 0; j < total; j++) {
      if (taken[j]) continue;
      const o = j * tiles;
      let d = 0;
      for (let t = 0; t < tiles; t++) if (all[o + t] !== all[base + t]) d++;
      const v = selection === "maxmin" ? Math.min(score[j], d) : score[j] + d;
      score[j] = v;
      if (selection === "minimal" ? v < best : v > best) {
        best = v;
        bestIndex = j;
      }
    }
    next = bestIndex;
  }
  const permutations = chosen.map((i) => Array.from(all.subarray(i * tiles, (i + 1) * tiles)));
  let minDistance = count > 1 ? tiles : 0;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < i; j++) {
      let d = 0;
      for (let t = 0; t < tiles; t++) if (permutations[i][t] !== permutations[j][t]) d++;
      minDistance = Math.min(minDistance, d);
      sum += d;
    }
  }
  const pairs = count * (count - 1) / 2;
  const out = { permutations, minDistance, meanDistance: pairs ? sum / pairs : 0 };
  cache.set(key, { ...out, permutations: permutations.map((p) => p.slice()) });
  return out;
}
