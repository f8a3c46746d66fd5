import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { multiCrop, type MultiCropOptions } from "../../augment/mod.ts";
import { assertTensorClose, pcg32, setupBackend, thrown } from "../_utils.ts";
import { images } from "./_helpers.ts";
import { resizeWindow, torchvisionWindow } from "./_reference.ts";

await setupBackend();

/**
 * The views multiCrop documents, in float64: from PCG32 of the seed, each view draws its crop
 * seed then its pipeline seed (`floor(u 2^32)`), globals first; a view is torchvision's window
 * from PCG32 of the crop seed (ratio [3/4, 4/3]), one per sample, resized corner to corner.
 */
function referenceViews(
  x: tf.Tensor4D,
  groups: { count: number; size: [number, number]; scale: [number, number] }[],
  seed: number,
): Float64Array[] {
  const shape = x.shape;
  const [b, h, w, c] = shape;
  const xv = x.dataSync();
  const prng = pcg32(seed);
  const next = () => Math.floor(prng() * 2 ** 32);
  const out: Float64Array[] = [];
  for (const { count, size, scale } of groups) {
    for (let i = 0; i < count; i++) {
      const crop = pcg32(next());
      next(); // the pipeline's seed
      const view = new Float64Array(b * size[0] * size[1] * c);
      for (let s = 0; s < b; s++) {
        const win = torchvisionWindow(crop, h, w, scale, [3 / 4, 4 / 3]);
        view.set(resizeWindow(xv, shape, s, win, size), s * size[0] * size[1] * c);
      }
      out.push(view);
    }
  }
  return out;
}

function checkViews(views: tf.Tensor4D[], want: Float64Array[], shapes: number[][]): void {
  assert.deepEqual(views.map((v) => v.shape), shapes);
  views.forEach((v, i) => assertTensorClose(v, want[i], { rtol: 1e-5, atol: 1e-5 }, `view ${i}:`));
}

Deno.test("multiCrop's defaults: 2 global crops of the input's size, scale [0.14, 1], 6 local of 3/7 of it, scale [0.05, 0.14]", () => {
  // 56 x 84: local side round(3/7 of each side) = [24, 36]
  const x = images([4, 56, 84, 1], 3);
  const want = referenceViews(x, [
    { count: 2, size: [56, 84], scale: [0.14, 1] },
    { count: 6, size: [24, 36], scale: [0.05, 0.14] },
  ], 5);
  const shapes = [...new Array(2).fill([4, 56, 84, 1]), ...new Array(6).fill([4, 24, 36, 1])];
  for (const options of [{}, { global: {}, local: {} }, undefined]) {
    const views = multiCrop(x, options as MultiCropOptions, 5);
    checkViews(views, want, shapes);
    tf.dispose(views);
  }
  x.dispose();
});

Deno.test("multiCrop's local side is at least one pixel", () => {
  // 1 x 1: round(3/7) = 0 on both sides, so local crops are 1 x 1
  const x = images([3, 1, 1, 2], 4);
  const views = multiCrop(x, { global: { count: 1 }, local: { count: 2 } }, 9);
  const want = referenceViews(x, [
    { count: 1, size: [1, 1], scale: [0.14, 1] },
    { count: 2, size: [1, 1], scale: [0.05, 0.14] },
  ], 9);
  checkViews(views, want, [[3, 1, 1, 2], [3, 1, 1, 2], [3, 1, 1, 2]]);
  tf.dispose([x, ...views]);
});

Deno.test("multiCrop names itself when it refuses a seed", () => {
  const x = images([1, 4, 4, 1], 5);
  for (const [seed, kind] of [["1", "string"], [NaN, "number"], [null, "null"]]) {
    const e = thrown(() => multiCrop(x, {}, seed as number), `multiCrop(x, {}, ${seed})`);
    assert.ok(e instanceof TypeError);
    assert.equal(
      e.message,
      `Cannot apply multiCrop: seed must be a finite number, received ${kind}`,
    );
  }
  x.dispose();
});
