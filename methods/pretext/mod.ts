/**
 * Pure helpers of the pretext tasks: quarter-turn rotations and jittered tile grids, Hamming
 * permutation sets, exact sRGB <-> CIE Lab, and Zhang et al.'s quantized ab space.
 *
 * @example
 * ```ts
 * import { hammingPermutations } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(hammingPermutations(3, { tiles: 3 }).permutations.length, 3);
 * ```
 *
 * @module
 */
export * from "./ab_bins.ts";
export * from "./_ab_bins_313.ts";
export * from "./classify.ts";
export * from "./hamming_permutations.ts";
export * from "./lab.ts";
export * from "./patch_pairs.ts";
export * from "./tiles.ts";
