/**
 * The crop-box sampler behind randomResizedCrop, multiCrop and the presets, against torchvision's
 * window drawn from the same stream (`_reference.ts`) and the corner-aligned normalization
 * `tf.image.cropAndResize` reads: every fallback branch (image narrower than the ratio range,
 * wider, inside it), one-pixel sides, and a window clamped to one pixel. The op-level tests reach
 * only the "narrower" fallback; these were added from a mutation run (issue 17).
 *
 * @module
 */
import assert from "node:assert/strict";
import { cornerBox, sampleCropBoxes } from "../../augment/_crop.ts";
import { pcg32 } from "../_utils.ts";
import { torchvisionWindow, type Window } from "./_reference.ts";

/** The normalized corners of a pixel window, rounded to float32 as the sampler stores them. */
function corners(win: Window, h: number, w: number): number[] {
  const ny = h > 1 ? h - 1 : 1, nx = w > 1 ? w - 1 : 1;
  return [
    win.top / ny,
    win.left / nx,
    (win.top + win.height - 1) / ny,
    (win.left + win.width - 1) / nx,
  ].map(Math.fround);
}

function check(
  h: number,
  w: number,
  scale: [number, number],
  ratio: [number, number],
  expectFallback?: Window,
): void {
  const b = 6;
  for (const seed of [1, 2, 3, 4, 5]) {
    const got = sampleCropBoxes(pcg32(seed), b, h, w, scale, ratio);
    const prng = pcg32(seed);
    for (let s = 0; s < b; s++) {
      const win = torchvisionWindow(prng, h, w, scale, ratio);
      if (expectFallback) assert.deepEqual(win, expectFallback, "the case reaches the fallback");
      assert.deepEqual(
        Array.from(got.subarray(4 * s, 4 * s + 4)),
        corners(win, h, w),
        `${h}x${w} scale [${scale}] ratio [${ratio}] seed ${seed} sample ${s}`,
      );
    }
  }
}

Deno.test("sampleCropBoxes: torchvision's windows, normalized corner to corner", () => {
  check(14, 22, [0.08, 1], [3 / 4, 4 / 3]);
  check(9, 5, [0.3, 0.7], [0.5, 2]);
  // most of the area at a ratio in [0.5, 2] fits only near ratio 1: some samples miss all ten
  // tries (an eleventh try would change the window or the stream of the samples after it), and
  // the fits include full-side windows
  check(10, 10, [0.8, 1], [0.5, 2]);
  // an area near 0 rounds to an empty window, which is refused: the fallback
  check(6, 6, [0, 0.002], [0.5, 2], { top: 0, left: 0, height: 6, width: 6 });
});

Deno.test("sampleCropBoxes: each fallback centre crop after ten misses", () => {
  // narrower than the ratio range: full width, height = round(w / ratio[0])
  check(20, 6, [0.9, 1], [3, 4], { top: 9, left: 0, height: 2, width: 6 });
  // wider than the ratio range: full height, width = round(h * ratio[1])
  check(4, 30, [0.9, 1], [0.2, 0.5], { top: 0, left: 14, height: 4, width: 2 });
  // just wider, and odd margins (the centre rounds down)
  check(10, 12, [1.5, 2], [0.5, 1.1], { top: 0, left: 0, height: 10, width: 11 });
  check(13, 6, [0.9, 1], [3, 4], { top: 5, left: 0, height: 2, width: 6 });
  // inside the ratio range, but no draw fits (an area above the image's, which only a direct
  // caller can ask for): the whole image
  check(10, 12, [1.5, 2], [0.5, 2], { top: 0, left: 0, height: 10, width: 12 });
});

Deno.test("sampleCropBoxes: one-pixel sides and a window clamped to one pixel", () => {
  check(1, 9, [0.1, 1], [0.5, 9]);
  check(7, 1, [0.1, 1], [0.1, 1]);
  // 1 wide, ratio at least 10: torchvision would ask for round(1 / 10) = 0 rows; the sampler
  // keeps one row, at the centre
  const got = sampleCropBoxes(pcg32(3), 2, 5, 1, [0.5, 1], [10, 20]);
  assert.deepEqual(Array.from(got), [0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0]);
  // cornerBox on a 1x1 image is the single pixel
  assert.deepEqual(cornerBox(0, 0, 1, 1, 1, 1), [0, 0, 0, 0]);
  assert.deepEqual(cornerBox(2, 1, 3, 4, 5, 6), [0.5, 0.2, 1, 0.8]);
});
