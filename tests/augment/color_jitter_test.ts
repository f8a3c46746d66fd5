import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { colorJitter } from "../../augment/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { checkContract, images, values } from "./_helpers.ts";

await setupBackend();

const luma = (x: tf.Tensor4D) =>
  tf.tidy(() => tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), 3));

Deno.test("colorJitter keeps the contract on RGB and on 1-channel images", async () => {
  const x = images([8, 6, 6, 3]);
  await checkContract(colorJitter(), x);
  const g = images([8, 6, 10, 1]);
  await checkContract(colorJitter(), g);
  tf.dispose([x, g]);
});

Deno.test("colorJitter hue rotation keeps gray pixels and the luma, and changes the color", () => {
  const x = images([8, 4, 4, 3], 2, 0.4, 0.6); // chroma small enough that nothing clips
  const y = colorJitter({ brightness: 0, contrast: 0, saturation: 0, hue: 0.5 })(x, 3);
  assertTensorClose(luma(y), luma(x), { rtol: 0, atol: 1e-5 });
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(y, x))).dataSync()[0]);
  assert.ok(diff > 0.01, `hue changed the colors (${diff})`);
  const gray = tf.fill([2, 3, 3, 3], 0.3) as tf.Tensor4D;
  const gy = colorJitter({ brightness: 0, contrast: 0, saturation: 0, hue: 0.5 })(gray, 1);
  assertTensorClose(gy, gray, { rtol: 0, atol: 1e-6 });
  tf.dispose([x, y, gray, gy]);
});

Deno.test("colorJitter saturation keeps the luma and moves along the gray axis", () => {
  const x = images([8, 4, 4, 3], 4, 0.3, 0.7);
  const y = colorJitter({ brightness: 0, contrast: 0, saturation: 0.3, hue: 0 })(x, 3);
  assertTensorClose(luma(y), luma(x), { rtol: 0, atol: 1e-5 });
  // y - l = s (x - l): one factor s per sample in [0.7, 1.3]
  const xv = values(x), yv = values(y), lx = values(luma(x));
  for (let s = 0; s < 8; s++) {
    const i0 = s * 48;
    const f = (yv[i0] - lx[s * 16]) / (xv[i0] - lx[s * 16]);
    assert.ok(f >= 0.7 - 1e-3 && f <= 1.3 + 1e-3, `factor ${f}`);
    for (let p = 0; p < 16; p++) {
      for (let k = 0; k < 3; k++) {
        const i = i0 + p * 3 + k, l = lx[s * 16 + p];
        assert.ok(Math.abs(yv[i] - l - f * (xv[i] - l)) < 1e-5);
      }
    }
  }
  tf.dispose([x, y]);
});

Deno.test("colorJitter brightness alone multiplies each sample by one factor", () => {
  const x = images([8, 4, 4, 3], 5, 0.1, 0.5);
  const y = colorJitter({ brightness: 0.8, contrast: 0, saturation: 0, hue: 0 })(x, 2);
  const xv = values(x), yv = values(y);
  const factors = new Set<number>();
  for (let s = 0; s < 8; s++) {
    const f = yv[s * 48] / xv[s * 48];
    assert.ok(f >= 0.2 - 1e-4 && f <= 1.8 + 1e-4);
    factors.add(Math.round(f * 1e4));
    for (let i = s * 48; i < (s + 1) * 48; i++) assert.ok(Math.abs(yv[i] - f * xv[i]) < 1e-5);
  }
  assert.equal(factors.size, 8, "one factor per sample");
  tf.dispose([x, y]);
});

Deno.test("colorJitter on 1-channel images applies only brightness and contrast", () => {
  const g = images([4, 5, 5, 1], 6);
  const y = colorJitter({ brightness: 0, contrast: 0, saturation: 0.8, hue: 0.2 })(g, 3);
  assertTensorClose(y, g, { rtol: 0, atol: 0 });
  const z = colorJitter({ brightness: 0.5, contrast: 0.5, saturation: 0.8, hue: 0.2 })(g, 3);
  assert.notDeepEqual(values(z), values(g));
  assert.throws(() => colorJitter({ hue: 0.7 }), RangeError);
  tf.dispose([g, y, z]);
});
