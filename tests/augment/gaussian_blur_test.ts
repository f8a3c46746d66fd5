import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { gaussianBlur } from "../../augment/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { checkContract, images, values } from "./_helpers.ts";

await setupBackend();

/** Float64 reference: separable Gaussian, reflect padding (d c b | a b c d | c b a). */
function reference(
  x: number[],
  [b, h, w, c]: number[],
  sigma: number,
  r: number,
): Float64Array {
  const k: number[] = [];
  for (let i = -r; i <= r; i++) k.push(Math.exp(-(i * i) / (2 * sigma * sigma)));
  const sum = k.reduce((a, v) => a + v, 0);
  const taps = k.map((v) => v / sum);
  const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  const out = new Float64Array(x.length);
  for (let s = 0; s < b; s++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let u = -r; u <= r; u++) {
            for (let v = -r; v <= r; v++) {
              const ii = reflect(i + u, h), jj = reflect(j + v, w);
              acc += taps[u + r] * taps[v + r] * x[((s * h + ii) * w + jj) * c + ch];
            }
          }
          out[((s * h + i) * w + j) * c + ch] = acc;
        }
      }
    }
  }
  return out;
}

Deno.test("gaussianBlur keeps the contract", async () => {
  const x = images([6, 12, 12, 3]);
  await checkContract(gaussianBlur({ kernelSize: 5 }), x);
  x.dispose();
});

Deno.test("gaussianBlur matches a float64 reference convolution with reflect padding", () => {
  for (const [shape, sigma, size] of [[[3, 9, 11, 3], 1.3, 5], [[2, 8, 20, 1], 0.7, 7]] as const) {
    const x = images([...shape], 2);
    const y = gaussianBlur({ sigma: [sigma, sigma], kernelSize: size })(x, 4);
    const expected = reference(values(x), [...shape], sigma, (size - 1) / 2);
    assertTensorClose(y, expected, { rtol: 1e-5, atol: 1e-6 });
    tf.dispose([x, y]);
  }
});

Deno.test("gaussianBlur keeps a constant image constant and its mean", () => {
  const x = tf.fill([4, 10, 10, 3], 0.37) as tf.Tensor4D;
  const y = gaussianBlur({ kernelSize: 7 })(x, 1);
  // float32 tolerance: wasm's XNNPACK convolution rounds to about 1e-5 relative
  assertTensorClose(y, x, { rtol: 2e-5, atol: 0 });
  const mean = tf.mean(y);
  assertTensorClose(mean, 0.37, { rtol: 2e-5, atol: 0 });
  tf.dispose([x, y, mean]);
});

Deno.test("gaussianBlur smooths: a larger sigma lowers the variance more", () => {
  const x = images([1, 16, 16, 1], 3);
  const v = (sigma: number) =>
    tf.tidy(() => {
      const y = gaussianBlur({ sigma: [sigma, sigma], kernelSize: 7 })(x, 0);
      return tf.moments(y).variance.dataSync()[0];
    });
  const v0 = tf.tidy(() => tf.moments(x).variance.dataSync()[0]);
  assert.ok(v(2) < v(0.5) && v(0.5) < v0, `${v(2)} < ${v(0.5)} < ${v0}`);
  assert.throws(() => gaussianBlur({ kernelSize: 4 }), RangeError);
  x.dispose();
});

Deno.test("gaussianBlur's default kernel is 2 floor(min(H, W) / 20) + 1, none below 20 pixels", () => {
  // 41 x 60: 2 floor(41 / 20) + 1 = 5 (r = 2), not the 7 of the longer side
  const x = images([2, 41, 60, 1], 5);
  const y = gaussianBlur({ sigma: [1.1, 1.1] })(x, 2);
  assertTensorClose(y, reference(values(x), [2, 41, 60, 1], 1.1, 2), { rtol: 1e-5, atol: 1e-6 });
  // 19 x 30: a kernel of 1, so the images come back unchanged
  const small = images([2, 19, 30, 3], 6);
  const same = gaussianBlur({ sigma: [1.1, 1.1] })(small, 2);
  assertTensorClose(same, small, { rtol: 0, atol: 0 });
  tf.dispose([x, y, small, same]);
});

Deno.test("gaussianBlur shrinks the kernel to the shorter side: reflect padding needs r <= side - 1", () => {
  // kernel 7 (r = 3) on 12 x 3 and 3 x 12 images: r = 2 in both directions
  for (const shape of [[2, 12, 3, 2], [2, 3, 12, 2]]) {
    const x = images(shape as [number, number, number, number], 7);
    const y = gaussianBlur({ sigma: [0.9, 0.9], kernelSize: 7 })(x, 1);
    assertTensorClose(y, reference(values(x), shape, 0.9, 2), { rtol: 1e-5, atol: 1e-6 });
    tf.dispose([x, y]);
  }
});
