// Helpers shared by the data sources: per-(seed, index) PRNG streams without storage, checks.
import { pcg32, type Prng } from "./prng.ts";

/** MurmurHash3's 32-bit finalizer: a bijection on uint32 with good avalanche. */
export function fmix32(h: number): number {
  h = h >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A PRNG for item `index` under `seed`: distinct indices give distinct streams (the low 32 bits
 * of the PCG seed are a bijection of the index), and the same pair always gives the same stream.
 */
export function itemPrng(seed: number, index: number, salt = 0): Prng {
  const s = fmix32((Math.trunc(seed) >>> 0) ^ fmix32(salt + 0x9e3779b9));
  const hi = fmix32(s + (Math.floor(seed / 0x100000000) >>> 0)) & 0x1fffff; // 21 bits keeps it exact
  const lo = fmix32((index >>> 0) ^ s);
  return pcg32(hi * 0x100000000 + lo);
}

/** An integer uniform in `[lo, hi]`. */
export function randInt(prng: () => number, lo: number, hi: number): number {
  return lo + Math.floor(prng() * (hi - lo + 1));
}

/** A float uniform in `[lo, hi)`. */
export function randUniform(prng: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * prng();
}

/** A standard normal draw (Box-Muller). */
export function randNormal(prng: () => number): number {
  const u = Math.max(prng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * prng());
}

/** Throws a RangeError unless `index` is an integer in `[0, length)`. */
export function checkIndex(name: string, index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new RangeError(
      `Cannot get sample from ${name}: index must be an integer in [0, ${length}), received ${index}`,
    );
  }
}
