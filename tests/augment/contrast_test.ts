import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { contrast } from "../../augment/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { checkContract, images } from "./_helpers.ts";

await setupBackend();

Deno.test("contrast keeps the contract", async () => {
  const x = images([8, 6, 6, 3]);
  await checkContract(contrast(), x);
  x.dispose();
});

Deno.test("contrast keeps the per-image mean and scales the spread by the factor", () => {
  const x = images([8, 8, 8, 3], 2, 0.4, 0.6); // no clipping for factors up to 1.4
  const y = contrast({ factor: 0.4 })(x, 7);
  const [mx, my, sx, sy] = tf.tidy(() => {
    const m1 = tf.mean(x, [1, 2]), m2 = tf.mean(y, [1, 2]);
    const s1 = tf.sqrt(tf.mean(tf.square(tf.sub(x, tf.mean(x, [1, 2], true))), [1, 2]));
    const s2 = tf.sqrt(tf.mean(tf.square(tf.sub(y, tf.mean(y, [1, 2], true))), [1, 2]));
    return [m1, m2, s1, s2].map((t) => Array.from(t.dataSync()));
  });
  assertTensorClose(my, mx, { rtol: 0, atol: 1e-6 });
  // one factor per sample, the same for all three channels, within [0.6, 1.4]
  for (let s = 0; s < 8; s++) {
    const f = sy[s * 3] / sx[s * 3];
    assert.ok(f >= 0.6 - 1e-4 && f <= 1.4 + 1e-4, `factor ${f}`);
    for (let k = 1; k < 3; k++) assert.ok(Math.abs(sy[s * 3 + k] / sx[s * 3 + k] - f) < 1e-3);
  }
  tf.dispose([x, y]);
});

Deno.test("contrast with factor 0 flattens each channel to its mean", () => {
  const x = images([2, 4, 4, 3], 3);
  const y = contrast({ factor: [0, 0] })(x, 0);
  const mean = tf.tidy(() => tf.broadcastTo(tf.mean(x, [1, 2], true), x.shape));
  assertTensorClose(y, mean, { rtol: 0, atol: 1e-6 });
  assert.throws(() => contrast({ factor: [-1, 1] }), RangeError);
  tf.dispose([x, y, mean]);
});
