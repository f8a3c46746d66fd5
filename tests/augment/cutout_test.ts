import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { cutout } from "../../augment/mod.ts";
import { setupBackend } from "../_utils.ts";
import { checkContract, images, values } from "./_helpers.ts";

await setupBackend();

Deno.test("cutout keeps the contract", async () => {
  const x = images([8, 8, 8, 3]);
  await checkContract(cutout(), x);
  x.dispose();
});

Deno.test("cutout zeroes one rectangle of the asked size in every sample", () => {
  const [b, h, w, c] = [10, 12, 16, 3];
  const x = images([b, h, w, c], 2, 0.1, 1);
  const y = cutout({ size: [0.25, 0.5], inside: true })(x, 3);
  const xv = values(x), yv = values(y);
  const [rh, rw] = [3, 8];
  for (let s = 0; s < b; s++) {
    let top = h, left = w, bottom = -1, right = -1, zeros = 0;
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        for (let k = 0; k < c; k++) {
          const idx = ((s * h + i) * w + j) * c + k;
          if (yv[idx] === 0) {
            zeros++;
            top = Math.min(top, i), bottom = Math.max(bottom, i);
            left = Math.min(left, j), right = Math.max(right, j);
          } else {
            assert.equal(yv[idx], xv[idx], "pixels outside the rectangle are unchanged");
          }
        }
      }
    }
    assert.equal(zeros, rh * rw * c, `sample ${s}: zeroed values`);
    assert.equal(bottom - top + 1, rh);
    assert.equal(right - left + 1, rw);
  }
  tf.dispose([x, y]);
});

Deno.test("cutout without inside clips the rectangle at the border, never larger", () => {
  const x = images([32, 8, 8, 1], 4, 0.1, 1);
  const y = cutout({ size: 0.5, fill: 0 })(x, 1);
  const counts = tf.tidy(() =>
    Array.from(tf.sum(tf.cast(tf.equal(y, 0), "float32"), [1, 2, 3]).dataSync())
  );
  assert.ok(counts.every((n) => n >= 4 && n <= 16), `${counts}`);
  assert.ok(counts.some((n) => n < 16), "some rectangles are clipped");
  assert.throws(() => cutout({ size: 1.5 }), RangeError);
  assert.throws(() => cutout({ fill: -1 }), RangeError);
  tf.dispose([x, y]);
});
