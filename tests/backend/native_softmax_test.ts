import assert from "node:assert/strict";
import { tf, useBackend } from "../../backend/mod.ts";
import { registerNativeBackend } from "../../backend/native/mod.ts";
import { dnnlOrUndefined } from "../../backend/native/_dnnl.ts";
import {
  COSINE_XENT_KERNEL,
  cosineCrossEntropy,
  type CosineLoss,
  logSumExpMatMul,
  type LogSumExpMatMulOptions,
  LSE_MATMUL_GRAD_KERNEL,
  LSE_MATMUL_KERNEL,
} from "../../losses/_ops.ts";
import { assertTensorClose, checkGradient, pcg32, type Prng, randomNormal } from "../_utils.ts";
import { requireOrSkip } from "../_ci.ts";

// The oneDNN kernels against float64 loops, on fresh random inputs. float32 logits of size ~|scale|
// and sums of up to ~600 terms: 1e-4 relative for every entry; the value (a mean of log-sum-exps
// minus targets, accumulated in float64) to 1e-5.
const F32 = { rtol: 1e-4, atol: 1e-7 };
const VALUE = { rtol: 1e-5, atol: 1e-6 };

const { kernels } = await registerNativeBackend();
const haveDnnl = requireOrSkip(dnnlOrUndefined() !== undefined, "oneDNN 2.x (libdnnl2)");

/** `[rows, cols]` of N(0, 1) · scale, rounded to float32 (what the kernel sees). */
function matrix(rows: number, cols: number, prng: Prng, scale = 1): number[][] {
  const v = Float32Array.from(randomNormal(rows * cols, prng), (x) => x * scale);
  return Array.from({ length: rows }, (_, i) => Array.from(v.subarray(i * cols, (i + 1) * cols)));
}

function lse(xs: number[]): number {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

/**
 * Float64 value and gradients of `logSumExpMatMul`, written from its definition: row i's logits
 * are [extra_i,] S_i0 .. S_i(c-1) without S_ii when masked, S = scale·a·bᵀ.
 */
function reference(
  a: number[][],
  b: number[][],
  target: number[],
  extra: number[] | undefined,
  o: Required<LogSumExpMatMulOptions>,
): { value: number; da: number[][]; db: number[][]; dt: number[]; de: number[] } {
  const r = a.length, c = b.length, d = a[0].length;
  const s = a.map((ai) => b.map((bj) => o.scale * ai.reduce((t, x, k) => t + x * bj[k], 0)));
  const ds = s.map((row) => row.map(() => 0));
  const de = new Array<number>(r).fill(0);
  let value = 0;
  for (let i = 0; i < r; i++) {
    const cols = [...Array(c).keys()].filter((j) => !(o.maskDiagonal && j === i));
    const logits = [...(extra ? [extra[i]] : []), ...cols.map((j) => s[i][j])];
    const l = lse(logits);
    value += o.rowWeight * (l - target[i]);
    for (const j of cols) ds[i][j] += o.rowWeight * Math.exp(s[i][j] - l);
    if (extra) de[i] = o.rowWeight * Math.exp(extra[i] - l);
  }
  if (o.colWeight !== 0) {
    for (let j = 0; j < c; j++) {
      const l = lse(s.map((row) => row[j]));
      value += o.colWeight * (l - target[j]);
      for (let i = 0; i < r; i++) ds[i][j] += o.colWeight * Math.exp(s[i][j] - l);
    }
  }
  const da = a.map((_, i) =>
    [...Array(d).keys()].map((k) => o.scale * ds[i].reduce((t, g, j) => t + g * b[j][k], 0))
  );
  const db = b.map((_, j) =>
    [...Array(d).keys()].map((k) =>
      o.constB ? 0 : o.scale * ds.reduce((t, row, i) => t + row[j] * a[i][k], 0)
    )
  );
  const dt = target.map(() => -(o.rowWeight + o.colWeight));
  return { value, da, db, dt, de };
}

interface Case {
  name: string;
  r: number;
  c: number;
  d: number;
  extra?: boolean;
  options: Required<LogSumExpMatMulOptions>;
}

const base = { colWeight: 0, maskDiagonal: false, constB: false };
const CASES: Case[] = [
  { name: "rows", r: 7, c: 300, d: 5, options: { ...base, scale: 2, rowWeight: 1 / 7 } },
  {
    name: "masked diagonal (NT-Xent)",
    r: 66,
    c: 66,
    d: 16,
    options: { ...base, scale: 1 / 0.5, rowWeight: 1 / 66, maskDiagonal: true },
  },
  {
    name: "rows and columns (InfoNCE)",
    r: 37,
    c: 37,
    d: 9,
    options: { ...base, scale: 1 / 0.1, rowWeight: 1 / 74, colWeight: 1 / 74 },
  },
  {
    name: "extra logit, constant b (MoCo)",
    r: 5,
    c: 129,
    d: 12,
    extra: true,
    options: { ...base, scale: 1 / 0.2, rowWeight: 1 / 5, constB: true },
  },
  { name: "one column", r: 3, c: 1, d: 4, options: { ...base, scale: 1, rowWeight: 0.5 } },
  {
    name: "large logits",
    r: 20,
    c: 33,
    d: 8,
    extra: true,
    options: { ...base, scale: 60, rowWeight: 0.05 },
  },
];

// native runs the fused oneDNN kernels; cpu the composed tfjs ops every other backend runs.
for (
  const [backend, c] of (["native", "cpu"] as const).flatMap((b) =>
    CASES.map((c) => [b, c] as const)
  )
) {
  Deno.test({
    name: `${backend} logSumExpMatMul: ${c.name} matches float64 (value and gradients)`,
    ignore: backend === "native" && !haveDnnl,
    async fn() {
      await useBackend(backend, { quiet: true });
      if (backend === "native") {
        assert.ok(kernels.includes(LSE_MATMUL_KERNEL) && kernels.includes(LSE_MATMUL_GRAD_KERNEL));
      }
      const prng = pcg32(c.r * 1000 + c.c);
      const a = matrix(c.r, c.d, prng, 1 / Math.sqrt(c.d));
      const b = matrix(c.c, c.d, prng, 1 / Math.sqrt(c.d));
      const target = matrix(1, c.r, prng)[0];
      const extra = c.extra ? matrix(1, c.r, prng, c.options.scale / 4)[0] : undefined;
      const want = reference(a, b, target, extra, c.options);
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const xs = [tf.tensor2d(a), tf.tensor2d(b), tf.tensor1d(target)];
        if (extra) xs.push(tf.tensor1d(extra));
        const { value, grads } = tf.valueAndGrads((...v: tf.Tensor[]) =>
          logSumExpMatMul(
            v[0] as tf.Tensor2D,
            v[1] as tf.Tensor2D,
            v[2] as tf.Tensor1D,
            v[3] as tf.Tensor1D | undefined,
            c.options,
          )
        )(xs);
        assertTensorClose(value, want.value, VALUE);
        assertTensorClose(grads[0], want.da, F32);
        assertTensorClose(grads[1], want.db, F32);
        assertTensorClose(grads[2], want.dt, F32);
        if (extra) assertTensorClose(grads[3], want.de, F32);
      });
      assert.equal(tf.memory().numTensors, before);
    },
  });
}

Deno.test({
  name: `native ${LSE_MATMUL_KERNEL}: a and b the same tensor (NT-Xent) match finite differences`,
  ignore: !haveDnnl,
  async fn() {
    await useBackend("native", { quiet: true });
    const prng = pcg32(77);
    const z = tf.tensor2d(matrix(6, 4, prng));
    const target = tf.tensor1d(matrix(1, 6, prng)[0]);
    const options = { scale: 2, rowWeight: 1 / 6, maskDiagonal: true };
    checkGradient(
      (x) => {
        const t = x as tf.Tensor2D;
        return logSumExpMatMul(t, t, target, undefined, options);
      },
      z,
      { eps: 1e-2, rtol: 2e-2, atol: 2e-3 },
    );
    tf.dispose([z, target]);
  },
});

Deno.test({
  name: "native Softmax on oneDNN matches float64 along the last axis, with its gradient",
  ignore: !haveDnnl,
  async fn() {
    await useBackend("native", { quiet: true });
    assert.ok(kernels.includes("Softmax"));
    const prng = pcg32(5);
    for (const shape of [[7], [3, 50], [2, 3, 1000], [4, 1]]) {
      const cols = shape[shape.length - 1];
      const rows = shape.reduce((p, v) => p * v, 1) / cols;
      const x = matrix(rows, cols, prng, 20);
      const w = matrix(rows, cols, prng);
      // y = softmax(x); d/dx Σ w·y = y ⊙ (w - Σ_j w_j y_j) per row.
      const y = x.map((row) => {
        const l = lse(row);
        return row.map((v) => Math.exp(v - l));
      });
      const g = y.map((row, i) => {
        const dot = row.reduce((t, v, j) => t + v * w[i][j], 0);
        return row.map((v, j) => v * (w[i][j] - dot));
      });
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const xt = tf.tensor(x.flat(), shape);
        const wt = tf.tensor(w.flat(), shape);
        assertTensorClose(tf.softmax(xt), y.flat(), F32);
        const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.softmax(v), wt)))(xt);
        assertTensorClose(grad, g.flat(), F32);
      });
      assert.equal(tf.memory().numTensors, before);
    }
  },
});

Deno.test({
  name: "native Exp, Log, Max, Min, Sum, Mean on oneDNN match float64, above and below their sizes",
  ignore: !haveDnnl,
  async fn() {
    await useBackend("native", { quiet: true });
    for (const name of ["Exp", "Log", "Max", "Min", "Sum", "Mean"]) {
      assert.ok(kernels.includes(name), `${name} registered`);
    }
    const prng = pcg32(9);
    // Sizes straddle DNNL_MIN_SIZES: Exp/Log 4,900 and 12; Max/Min 90,000; Sum/Mean 786,432.
    const cases: [number[], number | number[], boolean][] = [
      [[70, 70], 1, false],
      [[3, 4], -1, true],
      [[300, 300], 1, true],
      [[300, 300], 0, false], // leading axis: the fallback
      [[2, 3, 131072], 2, false],
      [[2, 3, 131072], [1, 2], true],
      [[4, 3, 5], [0, 2], false], // interleaved: the fallback
    ];
    for (const [shape, axis, keepDims] of cases) {
      const size = shape.reduce((p, v) => p * v, 1);
      const x = Float32Array.from(randomNormal(size, prng));
      const pos = x.map((v) => Math.abs(v) + 0.05);
      const axes = (Array.isArray(axis) ? axis : [axis]).map((a) =>
        (a + shape.length) % shape.length
      );
      const outShape = shape.map((n, i) => (axes.includes(i) ? 1 : n));
      const reduce = (f: (acc: number, v: number) => number, init: number, mean: boolean) => {
        const out = new Float64Array(outShape.reduce((p, v) => p * v, 1)).fill(init);
        const count = size / out.length;
        const outStrides = outShape.map((_, i) => outShape.slice(i + 1).reduce((p, v) => p * v, 1));
        const index = shape.map(() => 0);
        for (let k = 0, o = 0; k < size; k++) {
          out[o] = f(out[o], x[k]);
          for (let i = shape.length - 1; i >= 0; i--) { // row-major increment of the index
            index[i]++;
            if (!axes.includes(i)) o += outStrides[i];
            if (index[i] < shape[i]) break;
            if (!axes.includes(i)) o -= outStrides[i] * shape[i];
            index[i] = 0;
          }
        }
        return mean ? out.map((v) => v / count) : out;
      };
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const t = tf.tensor(x, shape);
        const tp = tf.tensor(pos, shape);
        const tol = { rtol: 1e-5, atol: 1e-6 };
        if (size < 1e5) {
          assertTensorClose(tf.exp(t), Array.from(x, Math.exp), tol);
          assertTensorClose(tf.log(tp), Array.from(pos, Math.log), tol);
        }
        const check = (y: tf.Tensor, want: Float64Array, sumTol = tol) => {
          assert.deepEqual(
            y.shape,
            keepDims ? outShape : shape.filter((_, i) => !axes.includes(i)),
          );
          assertTensorClose(y, want, sumTol);
        };
        check(tf.max(t, axis, keepDims), reduce(Math.max, -Infinity, false));
        check(tf.min(t, axis, keepDims), reduce(Math.min, Infinity, false));
        // float32 sums of up to 393,216 N(0, 1) terms: absolute error ~1e-3 at worst.
        const sumTol = { rtol: 1e-4, atol: 2e-3 };
        check(tf.sum(t, axis, keepDims), reduce((p, v) => p + v, 0, false), sumTol);
        check(tf.mean(t, axis, keepDims), reduce((p, v) => p + v, 0, true), sumTol);
      });
      assert.equal(tf.memory().numTensors, before);
    }
  },
});

Deno.test({
  name: `native ${COSINE_XENT_KERNEL}: NT-Xent, InfoNCE, MoCo values and gradients equal cpu's`,
  ignore: !haveDnnl,
  async fn() {
    assert.ok(kernels.includes(COSINE_XENT_KERNEL));
    // cpu composes tfjs ops (checked against float64 references and finite differences in
    // tests/losses); the native kernel pair must give the same value and gradients, also for a
    // tiny row (norm clamped at 1e-12: no projection in the Jacobian) and a row of huge values.
    const prng = pcg32(41);
    const cases: [CosineLoss, number, number, number][] = [
      ["ntXent", 9, 7, 0.5],
      ["infoNce", 12, 5, 0.1],
      ["moco", 6, 8, 0.2],
    ];
    for (const [loss, n, d, tau] of cases) {
      const x = matrix(n, d, prng);
      x[1] = x[1].map((v) => v * 1e-13); // norm ~3e-13 < 1e-12: clamped, not unit length
      x[2] = x[2].map((v) => v * 1e6);
      const y = matrix(n, d, prng);
      const queue = matrix(17, d, prng);
      const unit = (m: number[][]) =>
        m.map((r) => {
          const norm = Math.max(Math.hypot(...r), 1e-12);
          return r.map((v) => v / norm);
        });
      const run = async (backend: "native" | "cpu") => {
        await useBackend(backend, { quiet: true });
        return tf.tidy(() => {
          const xs = [tf.tensor2d(x), tf.tensor2d(loss === "moco" ? unit(y) : y)];
          if (loss === "moco") xs.push(tf.tensor2d(unit(queue)));
          const { value, grads } = tf.valueAndGrads((...v: tf.Tensor[]) =>
            cosineCrossEntropy(
              loss,
              v[0] as tf.Tensor2D,
              v[1] as tf.Tensor2D,
              v[2] as tf.Tensor2D | undefined,
              tau,
            )
          )(xs);
          return [value, ...grads].map((t) => Array.from(t.dataSync()));
        });
      };
      const want = await run("cpu");
      const before = tf.memory().numTensors;
      const got = await run("native");
      assert.equal(tf.memory().numTensors, before);
      assertTensorClose(got[0], want[0], VALUE);
      // The tiny row's gradient is scaled by 1e12: compare relative to each entry.
      for (let i = 1; i < want.length; i++) assertTensorClose(got[i], want[i], F32);
    }
  },
});
