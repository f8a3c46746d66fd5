/**
 * Not a test: the tiny 28 x 28 datasets the method-table tests train on, shared so that each test
 * file does not carry its own copy.
 *
 * @module
 */
import { inMemoryDataset } from "../../data/in_memory.ts";
import { pcg32 } from "../../data/prng.ts";

/** `n` images of uniform noise (PCG32 from `seed`), labels 0-9 in turn: nothing to learn. */
export function tinyNoiseSet(n: number, seed: number) {
  const prng = pcg32(seed);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const images = Uint8Array.from({ length: n * 784 }, () => Math.floor(prng() * 256));
  return inMemoryDataset("tiny", images, labels, [28, 28, 1], 10);
}

/**
 * `n` images whose pixels `p` with `p % 10 == label` are bright (160 plus noise 0-89), the rest
 * noise (0-89): a class signal a probe can find in a few steps.
 */
export function tinyPatternSet(n: number, seed: number) {
  const prng = pcg32(seed);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const images = new Uint8Array(n * 784);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < 784; p++) {
      images[i * 784 + p] = (p % 10 === labels[i] ? 160 : 0) + Math.floor(prng() * 90);
    }
  }
  return inMemoryDataset("tiny", images, labels, [28, 28, 1], 10);
}
