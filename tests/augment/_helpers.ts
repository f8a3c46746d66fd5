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

/**
 * The line crop: per sample a width fraction, a height fraction, then left and top, drawn from
 * `pcg32(seed)`; the window, in pixel centres, resized back to the line's size.
 */
export function lineCrop(width: [number, number], height: [number, number]): Augmentation {
  return (x, seed) => {
    const [b, h, w] = x.shape;
    const prng = pcg32(seed);
    const boxes: number[][] = [];
    for (let s = 0; s < b; s++) {
      const cw = Math.max(1, Math.round((width[0] + (width[1] - width[0]) * prng()) * w));
      const ch = Math.max(1, Math.round((height[0] + (height[1] - height[0]) * prng()) * h));
      const left = Math.floor(prng() * (w - cw + 1));
      const top = Math.floor(prng() * (h - ch + 1));
      boxes.push([
        top / (h - 1),
        left / (w - 1),
        (top + ch - 1) / (h - 1),
        (left + cw - 1) / (w - 1),
      ]);
    }
    return tf.tidy(() =>
      tf.image.cropAndResize(
        x,
        tf.tensor2d(boxes),
        tf.range(0, b, 1, "int32") as tf.Tensor1D,
        [h, w],
      )
    );
  };
}
