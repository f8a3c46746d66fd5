/**
 * Shared checks for the augmentation tests: seeded test images and the contract every op keeps
 * (shape, value range, same seed repeats, another seed differs, no leaked tensors).
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import type { Augmentation } from "../../augment/mod.ts";
import { assertNoLeak, pcg32 } from "../_utils.ts";

/** Seeded uniform images in [lo, hi), float32 `[b, h, w, c]`. */
export function images(
  shape: [number, number, number, number],
  seed = 1,
  lo = 0,
  hi = 1,
): tf.Tensor4D {
  const prng = pcg32(seed);
  const n = shape.reduce((a, v) => a * v, 1);
  return tf.tensor4d(Float32Array.from({ length: n }, () => lo + (hi - lo) * prng()), shape);
}

/** The values of a tensor as a plain array. */
export function values(x: tf.Tensor): number[] {
  return Array.from(x.dataSync());
}

/**
 * Checks the contract of an augmentation on `x`: output shape (the input's unless given),
 * values in [0, 1], identical output under the same seed, different output under another seed,
 * and no leaked tensors.
 */
export async function checkContract(
  aug: Augmentation,
  x: tf.Tensor4D,
  expectShape: number[] = x.shape,
): Promise<void> {
  const a = aug(x, 11);
  const b = aug(x, 11);
  const c = aug(x, 12);
  try {
    assert.deepEqual(a.shape, expectShape, "shape");
    assert.equal(a.dtype, "float32");
    const va = a.dataSync();
    let min = Infinity, max = -Infinity;
    for (const v of va) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    assert.ok(min >= 0 && max <= 1, `values in [0, 1], received [${min}, ${max}]`);
    assert.deepEqual(values(b), Array.from(va), "same seed repeats exactly");
    assert.notDeepEqual(values(c), Array.from(va), "another seed differs");
  } finally {
    tf.dispose([a, b, c]);
  }
  await assertNoLeak(() => aug(x, 13), "augmentation");
}
