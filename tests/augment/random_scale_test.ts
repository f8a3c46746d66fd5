import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { randomScale } from "../../augment/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { checkContract, images, values } from "./_helpers.ts";

await setupBackend();

Deno.test("randomScale keeps the contract and the asked output size", async () => {
  const x = images([6, 12, 20, 1]);
  await checkContract(randomScale(), x);
  await checkContract(randomScale({ size: [16, 16], fill: "nearest" }), x, [6, 16, 16, 1]);
  x.dispose();
});

Deno.test("randomScale with factor 1 at the center is the identity", () => {
  const x = images([3, 10, 14, 3], 2);
  const y = randomScale({ scale: 1, position: "center" })(x, 5);
  assertTensorClose(y, x, { rtol: 0, atol: 1e-6 });
  tf.dispose([x, y]);
});

Deno.test("randomScale keeps the aspect ratio: a shrunk image covers factor^2 of the canvas", () => {
  const x = tf.ones([8, 16, 32, 1]) as tf.Tensor4D;
  const y = randomScale({ scale: [0.5, 0.5] })(x, 3);
  const yv = values(y);
  for (let s = 0; s < 8; s++) {
    let top = 16, bottom = -1, left = 32, right = -1, sum = 0;
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 32; j++) {
        const v = yv[(s * 16 + i) * 32 + j];
        sum += v;
        if (v > 0.5) {
          top = Math.min(top, i), bottom = Math.max(bottom, i);
          left = Math.min(left, j), right = Math.max(right, j);
        }
      }
    }
    assert.ok(Math.abs(sum - 8 * 16) < 1e-3, `sample ${s}: area ${sum}`);
    assert.equal(bottom - top + 1, 8);
    assert.equal(right - left + 1, 16);
  }
  tf.dispose([x, y]);
});

Deno.test("randomScale enlarges a pattern by the factor", () => {
  // a horizontal ramp zoomed by 2 about the center has half the slope
  const ramp = tf.tidy(() =>
    tf.tile(tf.reshape(tf.div(tf.range(0, 16), 16), [1, 1, 16, 1]), [1, 4, 1, 1])
  ) as tf.Tensor4D;
  const y = randomScale({ scale: 2, position: "center" })(ramp, 0);
  const row = values(y).slice(0, 16);
  for (let j = 1; j < 15; j++) {
    assertTensorClose(row[j + 1] - row[j], 1 / 32, { rtol: 0, atol: 1e-5 });
  }
  assert.throws(() => randomScale({ scale: [2, 1] }), RangeError);
  assert.throws(() => randomScale({ fillValue: 2 }), RangeError);
  tf.dispose([ramp, y]);
});
