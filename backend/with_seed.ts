import { pcg32 } from "../data/prng.ts";

/**
 * Runs `fn` with `Math.random` replaced by a PCG32 stream seeded with `seed`, then restores it.
 *
 * tfjs-layers initializers without an explicit seed (glorotUniform, heNormal...) and tfjs random
 * ops without a seed draw their seeds from `Math.random`. Building models inside `withSeed` makes
 * initial weights a function of the seed, so two runs with the same seed start from the same
 * network. `fn` must be synchronous: anything random scheduled after it returns is not covered.
 *
 * @param seed any integer
 * @param fn the synchronous work to run
 * @returns what `fn` returns
 *
 * @example
 * ```ts
 * import { withSeed } from "./with_seed.ts";
 * import assert from "node:assert/strict";
 * const a = withSeed(7, () => [Math.random(), Math.random()]);
 * const b = withSeed(7, () => [Math.random(), Math.random()]);
 * assert.deepEqual(a, b);
 * ```
 */
export function withSeed<T>(seed: number, fn: () => T): T {
  if (!Number.isFinite(seed)) {
    throw new RangeError(`Cannot seed: expected a finite number, received ${seed}`);
  }
  const original = Math.random;
  Math.random = pcg32(seed);
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new TypeError(
        "Cannot seed: withSeed takes a synchronous function, received an async one",
      );
    }
    return result;
  } finally {
    Math.random = original;
  }
}
