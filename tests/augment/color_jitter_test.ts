import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { colorJitter } from "../../augment/mod.ts";
import { assertTensorClose, pcg32, setupBackend } from "../_utils.ts";
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

const LUMA = [0.299, 0.587, 0.114];
const YIQ = [[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [
  0.211456,
  -0.522591,
  0.311135,
]];

/** The inverse of a 3x3 matrix by Gauss-Jordan elimination with partial pivoting. */
function inverse(m: number[][]): number[][] {
  const a = m.map((r, i) => [...r, ...[0, 1, 2].map((j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < 3; col++) {
    const piv = [col, col + 1, col + 2].filter((r) => r < 3)
      .reduce((best, r) => (Math.abs(a[r][col]) > Math.abs(a[best][col]) ? r : best));
    [a[col], a[piv]] = [a[piv], a[col]];
    const d = a[col][col];
    a[col] = a[col].map((v) => v / d);
    for (let r = 0; r < 3; r++) {
      if (r !== col) a[r] = a[r].map((v, j) => v - a[r][col] * a[col][j]);
    }
  }
  return a.map((r) => r.slice(3));
}

/**
 * colorJitter as documented, in float64: the ops with a positive strength, in the order
 * brightness, contrast, saturation, hue (the last two on RGB only); per sample a Fisher-Yates
 * shuffle of them, then each op's draw in the shuffled order (factors uniform in
 * [max(0, 1 - v), 1 + v], the hue uniform in [-h, h] turns of the YIQ chroma plane), each op
 * clipped to [0, 1]; contrast about the image's per-channel mean.
 */
function reference(
  x: tf.Tensor4D,
  strengths: { brightness: number; contrast: number; saturation: number; hue: number },
  seed: number,
): Float64Array {
  const [b, h, w, c] = x.shape;
  const v = x.dataSync();
  const clip = (t: number) => Math.min(1, Math.max(0, t));
  const mul = (m: number[][], p: number[]) => m.map((r) => r[0] * p[0] + r[1] * p[1] + r[2] * p[2]);
  const yiqInv = inverse(YIQ);
  const prng = pcg32(seed);
  const draw = (lo: number, hi: number) => lo + (hi - lo) * prng();
  const ops = (["brightness", "contrast", "saturation", "hue"] as const)
    .filter((op) => strengths[op] > 0 && (c === 3 || op === "brightness" || op === "contrast"));
  const out = new Float64Array(v.length);
  for (let s = 0; s < b; s++) {
    const order = [...ops];
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(prng() * (k + 1));
      [order[k], order[j]] = [order[j], order[k]];
    }
    let img = Array.from(
      { length: h * w },
      (_, p) => Array.from(v.subarray((s * h * w + p) * c, (s * h * w + p + 1) * c)),
    );
    for (const op of order) {
      const f = op === "hue"
        ? 2 * Math.PI * draw(-strengths.hue, strengths.hue)
        : draw(Math.max(0, 1 - strengths[op]), 1 + strengths[op]);
      if (op === "brightness") img = img.map((px) => px.map((t) => clip(t * f)));
      else if (op === "contrast") {
        const m = Array.from(
          { length: c },
          (_, k) => img.reduce((a, px) => a + px[k], 0) / (h * w),
        );
        img = img.map((px) => px.map((t, k) => clip(f * (t - m[k]) + m[k])));
      } else if (op === "saturation") {
        img = img.map((px) => {
          const l = px[0] * LUMA[0] + px[1] * LUMA[1] + px[2] * LUMA[2];
          return px.map((t) => clip(f * t + (1 - f) * l));
        });
      } else {
        img = img.map((px) => {
          const [yy, i, q] = mul(YIQ, px);
          const turned = [yy, Math.cos(f) * i - Math.sin(f) * q, Math.sin(f) * i + Math.cos(f) * q];
          return mul(yiqInv, turned).map(clip);
        });
      }
    }
    img.forEach((px, p) => out.set(px, (s * h * w + p) * c));
  }
  return out;
}

Deno.test("colorJitter leaves an op of strength 0 out: no draw and no slot in the order", () => {
  const rgb = images([5, 4, 6, 3], 9);
  const gray = images([4, 4, 5, 1], 10);
  const cases: [tf.Tensor4D, Parameters<typeof reference>[1]][] = [
    [rgb, { brightness: 0, contrast: 0.4, saturation: 0.6, hue: 0.1 }],
    [rgb, { brightness: 0.5, contrast: 0, saturation: 0.6, hue: 0.1 }],
    [rgb, { brightness: 0.5, contrast: 0.3, saturation: 0, hue: 0.2 }],
    [rgb, { brightness: 0.5, contrast: 0.3, saturation: 0.6, hue: 0 }],
    // 1 channel: saturation and hue are left out however strong; brightness 1.5 draws in [0, 2.5]
    [gray, { brightness: 1.5, contrast: 0.5, saturation: 0.8, hue: 0.2 }],
  ];
  for (const [x, strengths] of cases) {
    const y = colorJitter(strengths)(x, 4);
    assertTensorClose(
      y,
      reference(x, strengths, 4),
      { rtol: 1e-4, atol: 2e-4 },
      JSON.stringify(strengths),
    );
    y.dispose();
  }
  tf.dispose([rgb, gray]);
});

Deno.test("colorJitter without contrast leaves the brightness product exact: no contrast pass", () => {
  // one channel, brightness alone: min(1, x f) rounded once to float32, f the float32 draw
  const x = images([6, 8, 8, 1], 11, 0.05, 1);
  const y = colorJitter({ brightness: 0.9, contrast: 0 })(x, 7);
  const prng = pcg32(7);
  const f = Array.from({ length: 6 }, () => Math.fround(0.1 + 1.8 * prng()));
  const want = Array.from(
    x.dataSync(),
    (v, i) => Math.min(1, Math.fround(v * f[Math.floor(i / 64)])),
  );
  assert.deepEqual(values(y), want);
  tf.dispose([x, y]);
});
