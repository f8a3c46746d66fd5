import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { gaussianNoise } from "../../augment/mod.ts";
import { setupBackend } from "../_utils.ts";
import { checkContract, images, values } from "./_helpers.ts";

await setupBackend();

Deno.test("gaussianNoise keeps the contract", async () => {
  const x = images([8, 6, 6, 3]);
  await checkContract(gaussianNoise(), x);
  x.dispose();
});

Deno.test("gaussianNoise adds zero-mean noise of the asked standard deviation", () => {
  const x = tf.fill([4, 32, 32, 3], 0.5) as tf.Tensor4D;
  const y = gaussianNoise({ std: 0.05 })(x, 3);
  const d = values(y).map((v) => v - 0.5);
  const n = d.length;
  const mean = d.reduce((a, v) => a + v, 0) / n;
  const std = Math.sqrt(d.reduce((a, v) => a + (v - mean) ** 2, 0) / n);
  // 12288 draws: the standard error of the mean is 0.00045, of the std about 0.0003
  assert.ok(Math.abs(mean) < 0.002, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.05) < 0.002, `std ${std}`);
  tf.dispose([x, y]);
});

Deno.test("gaussianNoise draws one level per sample within the range and clips", () => {
  const x = tf.fill([6, 16, 16, 1], 0.5) as tf.Tensor4D;
  const y = gaussianNoise({ std: [0.01, 0.1] })(x, 5);
  const sd = tf.tidy(() => tf.sqrt(tf.moments(y, [1, 2, 3]).variance));
  const stds = values(sd);
  sd.dispose();
  assert.ok(stds.every((s) => s > 0.007 && s < 0.12), `${stds}`);
  assert.ok(Math.max(...stds) / Math.min(...stds) > 1.5, "levels vary between samples");
  const z = gaussianNoise({ std: 5 })(x, 1);
  assert.ok(values(z).every((v) => v >= 0 && v <= 1));
  assert.throws(() => gaussianNoise({ std: -1 }), RangeError);
  tf.dispose([x, y, z]);
});
