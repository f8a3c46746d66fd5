import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { randomResizedCrop } from "../../augment/mod.ts";
import { assertTensorClose, pcg32, setupBackend } from "../_utils.ts";
import { checkContract, images, values } from "./_helpers.ts";
import { resizeWindow, torchvisionWindow } from "./_reference.ts";

await setupBackend();

Deno.test("randomResizedCrop keeps the contract and resizes to the asked size", async () => {
  const x = images([6, 16, 20, 3]);
  await checkContract(randomResizedCrop(), x);
  await checkContract(randomResizedCrop({ size: [8, 12] }), x, [6, 8, 12, 3]);
  x.dispose();
});

Deno.test("randomResizedCrop with scale [1, 1] and ratio [1, 1] is the identity", () => {
  const x = images([4, 12, 12, 3], 5);
  const y = randomResizedCrop({ scale: [1, 1], ratio: [1, 1] })(x, 3);
  assertTensorClose(y, x, { rtol: 1e-6, atol: 1e-6 });
  tf.dispose([x, y]);
});

// The crop is torchvision's: from the op's seeded stream (PCG32 of the seed), area fraction,
// log-uniform ratio, top, left, per sample in order. The reference redraws those windows and
// resizes them in float64, so a window off by one pixel, swapped axes, a linear ratio draw or a
// shared window fails, on any backend (SELFSUP_TEST_BACKEND=wasm caught a wasm kernel bug).
Deno.test("randomResizedCrop cuts torchvision's window from the same seeded draws", () => {
  const [b, h, w, c] = [4, 14, 22, 2];
  const cases: [Parameters<typeof randomResizedCrop>[0], [number, number]][] = [
    [{ size: [10, 12] }, [10, 12]],
    [{ scale: [0.2, 0.6], ratio: [0.5, 2] }, [h, w]],
    [{ size: 9, method: "nearest" }, [9, 9]],
    [{ scale: [0.9, 1], ratio: [3, 4] }, [h, w]], // mostly the fallback center crop
  ];
  let windows = 0;
  for (const [options, out] of cases) {
    for (let seed = 1; seed <= 40; seed++) {
      const x = images([b, h, w, c], seed);
      const y = randomResizedCrop(options)(x, seed);
      const xv = x.dataSync(), yv = y.dataSync();
      const prng = pcg32(seed);
      for (let s = 0; s < b; s++) {
        const win = torchvisionWindow(
          prng,
          h,
          w,
          options?.scale ?? [0.08, 1],
          options?.ratio ?? [3 / 4, 4 / 3],
        );
        const want = resizeWindow(xv, [b, h, w, c], s, win, out, options?.method);
        const n = out[0] * out[1] * c;
        assertTensorClose(
          yv.subarray(s * n, (s + 1) * n),
          want,
          { rtol: 1e-5, atol: 1e-5 },
          `seed ${seed} sample ${s} window ${JSON.stringify(win)}:`,
        );
        windows++;
      }
      tf.dispose([x, y]);
    }
  }
  assert.equal(windows, 4 * 40 * b);
});

Deno.test("randomResizedCrop at native resolution returns the exact window", () => {
  // area 1/4 and ratio 1 on 16x16: an 8x8 window, copied pixel for pixel (up to the float32
  // rounding of the normalized box: a lerp weight of ~1e-7)
  const [b, h, w] = [6, 16, 16];
  const x = images([b, h, w, 1], 6);
  const y = randomResizedCrop({ size: 8, scale: [0.25, 0.25], ratio: [1, 1] })(x, 2);
  const xv = values(x), yv = values(y);
  const prng = pcg32(2);
  const offsets = new Set<string>();
  for (let s = 0; s < b; s++) {
    const win = torchvisionWindow(prng, h, w, [0.25, 0.25], [1, 1]);
    assert.deepEqual([win.height, win.width], [8, 8]);
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        const [got, want] = [yv[(s * 8 + i) * 8 + j], xv[(s * h + win.top + i) * w + win.left + j]];
        assert.ok(
          Math.abs(got - want) <= 1e-6,
          `sample ${s} pixel ${i},${j} of window at ${win.top},${win.left}: ${got} vs ${want}`,
        );
      }
    }
    offsets.add(`${win.top},${win.left}`);
  }
  assert.ok(offsets.size > 1, "crop positions vary between samples");
  tf.dispose([x, y]);
});

Deno.test("randomResizedCrop validates its options", () => {
  assert.throws(() => randomResizedCrop({ scale: [0.5, 2] }), RangeError);
  assert.throws(() => randomResizedCrop({ ratio: [2, 1] }), RangeError);
  assert.throws(() => randomResizedCrop({ size: 0 }), RangeError);
  assert.throws(() => randomResizedCrop({ size: 2.5 }), TypeError);
});
