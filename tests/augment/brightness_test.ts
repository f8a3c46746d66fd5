import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { brightness } from "../../augment/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { checkContract, images, values } from "./_helpers.ts";

await setupBackend();

Deno.test("brightness keeps the contract", async () => {
  const x = images([8, 6, 6, 3]);
  await checkContract(brightness(), x);
  x.dispose();
});

Deno.test("brightness moves the mean by the asked amount", () => {
  const x = images([5, 6, 6, 3], 2, 0.2, 0.8);
  for (const d of [0.15, -0.1]) {
    const y = brightness({ delta: [d, d] })(x, 1);
    const diff = tf.tidy(() => tf.mean(tf.sub(y, x), [1, 2, 3]));
    assertTensorClose(diff, new Array(5).fill(d), { rtol: 0, atol: 1e-6 });
    tf.dispose([y, diff]);
  }
  x.dispose();
});

Deno.test("brightness shifts every pixel of a sample by the same amount within [-delta, delta]", () => {
  const x = images([16, 4, 4, 1], 3, 0.3, 0.7);
  const y = brightness({ delta: 0.2 })(x, 4);
  const xv = values(x), yv = values(y);
  for (let s = 0; s < 16; s++) {
    const shift = yv[s * 16] - xv[s * 16];
    assert.ok(Math.abs(shift) <= 0.2 + 1e-6);
    for (let i = 0; i < 16; i++) {
      assert.ok(Math.abs(yv[s * 16 + i] - xv[s * 16 + i] - shift) < 1e-6);
    }
  }
  tf.dispose([x, y]);
});

Deno.test("brightness clips to [0, 1] and validates delta", () => {
  const x = images([2, 3, 3, 1], 5);
  const y = brightness({ delta: [1, 1] })(x, 0);
  assert.ok(values(y).every((v) => v === 1));
  assert.throws(() => brightness({ delta: 2 }), RangeError);
  assert.throws(() => brightness({ delta: "a" as unknown as number }), TypeError);
  tf.dispose([x, y]);
});
