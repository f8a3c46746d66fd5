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
  /** Seed of the first permutation (the rest follow greedily). @default {0} */
  seed?: number;
}

/** What {@linkcode hammingPermutations} returns. */
export interface PermutationSet {
  /** The permutations, one per class: `permutations[k][p]` is the tile shown at position p. */
  permutations: number[][];
  /** The smallest Hamming distance between two permutations of the set. */
  minDistance: number;
}

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
 * A set of `count` permutations chosen for maximal Hamming distance, greedily as Noroozi & Favaro
 * 2016: start from a seeded random permutation of all `tiles!`, then repeatedly add the
 * permutation whose minimum Hamming distance to those already chosen is largest (ties: the first
 * in lexicographic-by-generation order). 100 by default in the jigsaw method; 1000 are available.
 * Deterministic for a seed.
 *
 * @param count how many permutations (classes)
 * @param options tiles, seed
 * @returns the permutations and their minimum pairwise Hamming distance
 * @throws {RangeError} unless 2 <= tiles <= 10 and 1 <= count <= tiles!
 *
 * @example
 * ```ts
 * import { hammingPermutations } from "./hamming_permutations.ts";
 * import assert from "node:assert/strict";
 * const { permutations, minDistance } = hammingPermutations(10, { tiles: 4 });
 * assert.equal(permutations.length, 10);
 * assert.ok(minDistance >= 2);
 * ```
 */
export function hammingPermutations(
  count: number,
  options: HammingPermutationsOptions = {},
): PermutationSet {
  const { tiles = 9, seed = 0 } = options;
  if (!Number.isInteger(tiles) || tiles < 2 || tiles > 10) {
    throw new RangeError(
      `Cannot choose permutations: tiles must be an integer in [2, 10], received ${tiles}`,
    );
  }
  let total = 1;
  for (let i = 2; i <= tiles; i++) total *= i;
  if (!Number.isInteger(count) || count < 1 || count > total) {
    throw new RangeError(
      `Cannot choose permutations: count must be an integer in [1, ${total}], received ${count}`,
    );
  }
  const all = allPermutations(tiles);
  const minDist = new Uint8Array(total).fill(255);
  const chosen: number[] = [];
  let next = Math.floor(pcg32(seed)() * total);
  let minDistance = tiles;
  for (let k = 0; k < count; k++) {
    chosen.push(next);
    if (k > 0) minDistance = Math.min(minDistance, minDist[next]);
    minDist[next] = 0;
    const base = next * tiles;
    let best = -1;
    let bestIndex = -1;
    for (let j = 0; j < total; j++) {
      const m = minDist[j];
      if (m === 0) continue;
      const o = j * tiles;
      let d = 0;
      // only distances below the current minimum matter: stop counting there
      for (let t = 0; t < tiles && d < m; t++) if (all[o + t] !== all[base + t]) d++;
      const nm = d < m ? d : m;
      minDist[j] = nm;
      if (nm > best) {
        best = nm;
        bestIndex = j;
      }
    }
    next = bestIndex;
  }
  const permutations = chosen.map((i) => Array.from(all.subarray(i * tiles, (i + 1) * tiles)));
  return { permutations, minDistance: count > 1 ? minDistance : 0 };
}
