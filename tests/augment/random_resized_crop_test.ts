import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { randomResizedCrop } from "../../augment/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { checkContract, images, values } from "./_helpers.ts";

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

Deno.test("randomResizedCrop at native resolution returns a window of the image", () => {
  // area 1/4 and ratio 1 on 16x16: an 8x8 window; output 8x8 samples its pixels exactly
  const [b, h, w] = [6, 16, 16];
  const x = images([b, h, w, 1], 6);
  const y = randomResizedCrop({ size: 8, scale: [0.25, 0.25], ratio: [1, 1] })(x, 2);
  const xv = values(x), yv = values(y);
  const offsets = new Set<string>();
  for (let s = 0; s < b; s++) {
    let found = "";
    for (let top = 0; top <= h - 8 && !found; top++) {
      for (let left = 0; left <= w - 8 && !found; left++) {
        let ok = true;
        for (let i = 0; i < 8 && ok; i++) {
          for (let j = 0; j < 8 && ok; j++) {
            ok = Math.abs(yv[(s * 8 + i) * 8 + j] - xv[(s * h + top + i) * w + left + j]) < 1e-5;
          }
        }
        if (ok) found = `${top},${left}`;
      }
    }
    assert.ok(found, `sample ${s} is no 8x8 window of its image`);
    offsets.add(found);
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
