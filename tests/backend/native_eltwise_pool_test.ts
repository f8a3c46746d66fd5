/**
 * `LeakyRelu` and its gradient, `AvgPool` and `AvgPoolGrad` on native (oneDNN primitives above
 * their size thresholds, JS passes below) against float64 loops and the cpu backend: NaN, zeros
 * and infinities for the activation; strides 1 and 2, `same` and `valid`, odd sizes, batch 1 and
 * > 1 for the pooling.
 */
import assert from "node:assert/strict";
import { tf, useBackend } from "../../backend/mod.ts";
import { registerNativeBackend } from "../../backend/native/mod.ts";
import { dnnlOrUndefined } from "../../backend/native/_dnnl.ts";
import { inCi } from "../_ci.ts";
import { assertNoLeak, assertTensorClose, pcg32, randomNormal } from "../_utils.ts";

const dnnl = dnnlOrUndefined();
const ignore = dnnl === undefined && !inCi();
if (dnnl !== undefined) await registerNativeBackend();

/** Bitwise equality that counts NaN equal to NaN (and tells 0 from -0). */
function assertSameFloats(a: ArrayLike<number>, b: ArrayLike<number>, label: string) {
  assert.equal(a.length, b.length, label);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) assert.fail(`${label}: index ${i}: ${a[i]} vs ${b[i]}`);
  }
}

/** Non-finite values bitwise equal, finite ones within `rtol` (1 float32 ulp is ~6e-8). */
function assertCloseFloats(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  rtol: number,
  label: string,
) {
  assert.equal(a.length, b.length, label);
  for (let i = 0; i < a.length; i++) {
    const ok = Number.isFinite(b[i])
      ? Math.abs(a[i] - b[i]) <= rtol * Math.abs(b[i]) + 3e-45 // 2 ulps of a denormal
      : Object.is(a[i], b[i]);
    if (!ok) assert.fail(`${label}: index ${i}: ${a[i]} vs ${b[i]}`);
  }
}

async function on<T>(backend: "cpu" | "native", f: () => T): Promise<T> {
  await useBackend(backend, { quiet: true });
  return f();
}

Deno.test({
  name: "native LeakyRelu and its gradient: float64 and cpu (gradient exact), NaN kept",
  ignore,
  async fn() {
    const prng = pcg32(53);
    // 2^15 and more elements run on oneDNN, fewer on the JS pass.
    for (const size of [40_000, 1_000]) {
      // NaN/infinite x sends the gradient to the JS pass: alpha 1.5 keeps x finite (oneDNN).
      for (const alpha of [0.2, -0.3, 1.5]) {
        const x = Float32Array.from(randomNormal(size, prng));
        x.set(alpha === 1.5 ? [0, -0, 1e-40, -1e-40] : [NaN, 0, -0, Infinity, -Infinity], 11);
        const dy = Float32Array.from(randomNormal(size, prng));
        const a = Math.fround(alpha); // tfjs's gradient multiplies by a float32 scalar
        // cpu multiplies by the float64 alpha, oneDNN by the float32 one: 1 ulp apart at most.
        const wantY = Float64Array.from(x, (v) => (v > 0 || Number.isNaN(v) ? v : alpha * v));
        // tfjs: where(x > 0, dy, dy * alpha): NaN > 0 is false.
        const wantDx = Float32Array.from(dy, (g, i) => (x[i] > 0 ? g : Math.fround(g * a)));
        const run = () =>
          tf.tidy(() => {
            const xt = tf.tensor1d(x);
            const y = tf.leakyRelu(xt, alpha);
            const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(t, alpha), dy)))(xt);
            return [Float32Array.from(y.dataSync()), Float32Array.from(dx.dataSync())];
          });
        const label = `size ${size} alpha ${alpha}`;
        const cpu = await on("cpu", run);
        await assertNoLeak(async () => {
          const [y, dx] = await on("native", run);
          assertCloseFloats(y, wantY, 1.2e-7, `y ${label}`);
          assertCloseFloats(y, cpu[0], 1.2e-7, `y vs cpu ${label}`);
          // dx: sum's gradient is dy exactly, so these are exact too (but x = +-0 gives
          // alpha * dy either way; 1e-40 is a denormal > 0).
          assertSameFloats(dx, wantDx, `dx ${label}`);
          assertSameFloats(dx, cpu[1], `dx vs cpu ${label}`);
        }, label);
      }
    }
  },
});

interface PoolCase {
  shape: [number, number, number, number];
  filter: [number, number];
  strides: [number, number];
  pad: "same" | "valid";
}

const POOL_CASES: PoolCase[] = [
  { shape: [2, 33, 31, 40], filter: [2, 2], strides: [2, 2], pad: "valid" },
  { shape: [1, 17, 19, 120], filter: [3, 3], strides: [1, 1], pad: "same" },
  { shape: [3, 16, 15, 70], filter: [3, 2], strides: [2, 2], pad: "same" },
  { shape: [2, 9, 8, 5], filter: [3, 3], strides: [2, 1], pad: "valid" },
];

/** Float64 average pooling (over in-image pixels) and tfjs's gradient (divided by KH * KW). */
function refAvgPool(x: Float32Array, dy: Float32Array, c: PoolCase) {
  const info = tf.backend_util.computePool2DInfo(c.shape, c.filter, c.strides, 1, c.pad);
  const [n, h, w, ch] = c.shape;
  const { outHeight: oh, outWidth: ow, padInfo } = info;
  const y = new Float64Array(n * oh * ow * ch);
  const dx = new Float64Array(x.length);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const cells: number[] = [];
        for (let ky = 0; ky < c.filter[0]; ky++) {
          for (let kx = 0; kx < c.filter[1]; kx++) {
            const iy = oy * c.strides[0] - padInfo.top + ky;
            const ix = ox * c.strides[1] - padInfo.left + kx;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) cells.push(((b * h + iy) * w + ix) * ch);
          }
        }
        for (let j = 0; j < ch; j++) {
          const o = ((b * oh + oy) * ow + ox) * ch + j;
          for (const at of cells) {
            y[o] += x[at + j] / cells.length;
            dx[at + j] += dy[o] / (c.filter[0] * c.filter[1]);
          }
        }
      }
    }
  }
  return { y, dx, outShape: [n, oh, ow, ch] };
}

Deno.test({
  name: "native AvgPool and AvgPoolGrad: float64 loops and cpu's gradient",
  ignore,
  async fn() {
    const prng = pcg32(59);
    for (const c of POOL_CASES) {
      const size = c.shape.reduce((p, v) => p * v, 1);
      const x = Float32Array.from(randomNormal(size, prng));
      const info = tf.backend_util.computePool2DInfo(c.shape, c.filter, c.strides, 1, c.pad);
      const dy = Float32Array.from(randomNormal(info.outShape.reduce((p, v) => p * v, 1), prng));
      const want = refAvgPool(x, dy, c);
      const run = () =>
        tf.tidy(() => {
          const xt = tf.tensor4d(x, c.shape);
          const f = (t: tf.Tensor4D) => tf.avgPool(t, c.filter, c.strides, c.pad);
          const y = f(xt);
          const dx = tf.grad((t: tf.Tensor) =>
            tf.sum(tf.mul(f(t as tf.Tensor4D), tf.tensor(dy, info.outShape)))
          )(xt);
          return [Float32Array.from(y.dataSync()), Float32Array.from(dx.dataSync())];
        });
      const label = JSON.stringify(c);
      const cpu = await on("cpu", run);
      await assertNoLeak(async () => {
        const [y, dx] = await on("native", run);
        const tol = { rtol: 1e-5, atol: 1e-6 };
        assertTensorClose(y, want.y, tol, `y ${label}`);
        assertTensorClose(dx, want.dx, tol, `dx ${label}`);
        assertTensorClose(y, cpu[0], tol, `y vs cpu ${label}`);
        assertTensorClose(dx, cpu[1], tol, `dx vs cpu ${label}`);
      }, label);
    }
  },
});

Deno.test({
  name: "native Add, Sub, Multiply with a scalar, equal or trailing operand: bitwise as cpu",
  ignore,
  async fn() {
    const prng = pcg32(61);
    // [big shape, small shape, whether the small one comes first]; 2^15+ elements run on oneDNN.
    const cases: [number[], number[], boolean][] = [
      [[40_000], [], false],
      [[40_000], [], true],
      [[3, 100, 150], [150], false],
      [[3, 100, 150], [1, 100, 150], true],
      [[200, 170], [200, 170], false],
      [[50, 7, 100], [1, 1, 100], true],
      [[300, 7], [7], true], // below the threshold: the JS pass
    ];
    for (const [big, small, first] of cases) {
      const x = Float32Array.from(randomNormal(big.reduce((p, v) => p * v, 1), prng));
      const y = Float32Array.from(randomNormal(small.reduce((p, v) => p * v, 1), prng));
      x.set([NaN, Infinity, -0], 3);
      const run = () =>
        tf.tidy(() => {
          const xt = tf.tensor(x, big);
          const yt = tf.tensor(y, small);
          const [a, b] = first ? [yt, xt] : [xt, yt];
          return [tf.add(a, b), tf.sub(a, b), tf.mul(a, b)].map((t) => ({
            shape: t.shape,
            values: Float32Array.from(t.dataSync()),
          }));
        });
      const label = `[${big}] ${first ? "after" : "before"} [${small}]`;
      const cpu = await on("cpu", run);
      await assertNoLeak(async () => {
        const got = await on("native", run);
        got.forEach((g, i) => {
          assert.deepEqual(g.shape, cpu[i].shape, `${i} ${label}`);
          assertSameFloats(g.values, cpu[i].values, `${["add", "sub", "mul"][i]} ${label}`);
        });
      }, label);
    }
  },
});
