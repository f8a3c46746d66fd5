/** A seeded pseudo-random generator: uniform floats in [0, 1), with a state that can be saved. */
export interface Prng {
  /** The next uniform float in [0, 1). */
  (): number;
  /** The generator's state, for checkpoints: `pcg32(0, prng.state())` continues the stream. */
  state(): [number, number];
}

const MUL_HI = 0x5851f42d;
const MUL_LO = 0x4c957f2d;

/**
 * PCG32 (O'Neill 2014, XSH-RR variant): a small, fast, seeded generator with good statistics.
 * Every random choice in selfsup takes a `prng` like this one, so a run with the same seed
 * repeats exactly.
 *
 * @param seed any integer
 * @param state a state saved by `prng.state()`; overrides `seed`
 * @returns a function giving uniform floats in [0, 1)
 *
 * @example
 * ```ts
 * import { pcg32 } from "./prng.ts";
 * import assert from "node:assert/strict";
 * const a = pcg32(42), b = pcg32(42);
 * assert.equal(a(), b());
 * const saved = a.state();
 * const next = a();
 * assert.equal(pcg32(0, saved)(), next);
 * ```
 */
export function pcg32(seed: number, state?: [number, number]): Prng {
  // 64-bit state held as two uint32 halves (hi, lo); increment fixed to the PCG default.
  let hi: number;
  let lo: number;
  const incHi = 0x14057b7e;
  const incLo = 0xf767814f;
  const advance = () => {
    // state = state * MUL + INC (mod 2^64), by 16-bit limbs to stay exact in float64.
    const a0 = lo & 0xffff, a1 = lo >>> 16, a2 = hi & 0xffff, a3 = hi >>> 16;
    const b0 = MUL_LO & 0xffff, b1 = MUL_LO >>> 16, b2 = MUL_HI & 0xffff, b3 = MUL_HI >>> 16;
    const c0 = a0 * b0;
    let c1 = (c0 >>> 16) + a0 * b1;
    let c2 = c1 >>> 16;
    c1 = (c1 & 0xffff) + a1 * b0;
    c2 += c1 >>> 16;
    c2 += a0 * b2;
    let c3 = c2 >>> 16;
    c2 = (c2 & 0xffff) + a1 * b1;
    c3 += c2 >>> 16;
    c2 = (c2 & 0xffff) + a2 * b0;
    c3 += c2 >>> 16;
    c3 += a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
    const mlo = ((c1 & 0xffff) << 16 | (c0 & 0xffff)) >>> 0;
    const mhi = ((c3 & 0xffff) << 16 | (c2 & 0xffff)) >>> 0;
    const sumLo = mlo + incLo;
    lo = sumLo >>> 0;
    hi = (mhi + incHi + (sumLo > 0xffffffff ? 1 : 0)) >>> 0;
  };
  const output = () => {
    const oldHi = hi, oldLo = lo;
    advance();
    // xorshifted = ((old >> 18) ^ old) >> 27, truncated to 32 bits
    const sHi = oldHi >>> 18;
    const sLo = ((oldLo >>> 18) | (oldHi << 14)) >>> 0;
    const xHi = (sHi ^ oldHi) >>> 0;
    const xLo = (sLo ^ oldLo) >>> 0;
    const xorshifted = ((xLo >>> 27) | (xHi << 5)) >>> 0;
    const rot = oldHi >>> 27;
    return ((xorshifted >>> rot) | (xorshifted << ((32 - rot) & 31))) >>> 0;
  };
  if (state) {
    [hi, lo] = [state[0] >>> 0, state[1] >>> 0];
  } else {
    hi = 0;
    lo = 0;
    advance();
    const s = Math.trunc(seed);
    lo = (lo + (s >>> 0)) >>> 0;
    hi = (hi + (Math.floor(s / 0x100000000) >>> 0)) >>> 0;
    advance();
  }
  const prng = (() => output() / 0x100000000) as Prng;
  prng.state = () => [hi, lo];
  return prng;
}

/**
 * A seed for tfjs random ops (`tf.randomUniform(..., seed)`) drawn from a PRNG, so tensor
 * randomness follows the run's seed too.
 *
 * @param prng the generator to draw from
 * @returns an integer in [0, 2^31)
 */
export function tensorSeed(prng: () => number): number {
  return Math.floor(prng() * 0x7fffffff);
}

/**
 * The seed to hand tfjs's `randomNormal` / `truncatedNormal` / `randomGamma`. Those ops read seed
 * 0 as "no seed" (`seed ? seed : Math.random()`), so seed 0 gave different noise on every call;
 * 0 becomes `Number.MIN_VALUE` (a seed of its own: their generator is keyed by the number's
 * string, and no integer seed prints as `5e-324`). Other seeds pass through unchanged.
 * (`randomUniform` checks `seed == null` and needs no help.)
 *
 * @param seed an integer seed
 * @returns the same seed, or `Number.MIN_VALUE` for 0
 *
 * @example
 * ```ts
 * import { tfjsSeed } from "./prng.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const a = tf.randomNormal([4], 0, 1, "float32", tfjsSeed(0)).dataSync();
 * const b = tf.randomNormal([4], 0, 1, "float32", tfjsSeed(0)).dataSync();
 * assert.deepEqual(a, b);
 * assert.equal(tfjsSeed(7), 7);
 * ```
 */
export function tfjsSeed(seed: number): number {
  return seed === 0 ? Number.MIN_VALUE : seed;
}
