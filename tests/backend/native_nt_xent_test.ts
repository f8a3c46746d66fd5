import assert from "node:assert/strict";
import { tf, useBackend } from "../../backend/mod.ts";
import { registerNativeBackend } from "../../backend/native/mod.ts";
import { dnnlOrUndefined } from "../../backend/native/_dnnl.ts";
import {
  INFONCE_SOFTMAX_MAX_SCALE,
  NTXENT_SOFTMAX_MAX_N,
  setNtXentSoftmax,
} from "../../backend/native/_dnnl_softmax.ts";
import { ntXent } from "../../losses/mod.ts";
import { COSINE_XENT_KERNEL } from "../../losses/_ops.ts";
import { assertTensorClose, checkGradient, pcg32, type Prng, randomNormal } from "../_utils.ts";
import { requireOrSkip } from "../_ci.ts";

// NT-Xent on native through its softmax (`ntXentSoftmax` in _dnnl_softmax.ts: one sgemm for the
// [2n, 2n] logits S, E = exp(S) with the diagonal zeroed, its row sums z, H = P + Pᵀ - 2T from
// E_ij·(1/zᵢ + 1/zⱼ) kept for one backward sgemm), and the log-sum-exp path it replaces for
// 1/τ <= 30 and n <= 2048, both against a float64 reference written from the definition, with the
// reference's gradient by float64 central differences (no formula shared).

const { kernels } = await registerNativeBackend();
const haveDnnl = requireOrSkip(dnnlOrUndefined() !== undefined, "oneDNN 2.x (libdnnl2)");

/**
 * Float64 NT-Xent from its definition (SimCLR): the 2n unit rows of both views (norm clamped at
 * 1e-12), logits/τ, row i against every other row, its positive the other view of its sample;
 * mean over the 2n anchors.
 */
function reference(x: Float64Array, y: Float64Array, n: number, d: number, tau: number): number {
  const u = new Float64Array(2 * n * d);
  [x, y].forEach((v, view) => {
    for (let i = 0; i < n; i++) {
      let sq = 0;
      for (let k = 0; k < d; k++) sq += v[i * d + k] ** 2;
      const norm = Math.max(Math.sqrt(sq), 1e-12);
      for (let k = 0; k < d; k++) u[(view * n + i) * d + k] = v[i * d + k] / norm;
    }
  });
  const sim = (i: number, j: number) => {
    let dot = 0;
    for (let k = 0; k < d; k++) dot += u[i * d + k] * u[j * d + k];
    return dot / tau;
  };
  let total = 0;
  for (let i = 0; i < 2 * n; i++) {
    const others: number[] = [];
    for (let j = 0; j < 2 * n; j++) if (j !== i) others.push(sim(i, j));
    const m = Math.max(...others);
    const lse = m + Math.log(others.reduce((p, v) => p + Math.exp(v - m), 0));
    total += lse - sim(i, i < n ? i + n : i - n);
  }
  return total / (2 * n);
}

/** Central differences of the float64 reference, step relative to each row's norm. */
function referenceGradient(
  x: Float64Array,
  y: Float64Array,
  n: number,
  d: number,
  tau: number,
): [Float64Array, Float64Array] {
  return [x, y].map((v) => {
    const g = new Float64Array(v.length);
    for (let i = 0; i < n; i++) {
      let sq = 0;
      for (let k = 0; k < d; k++) sq += v[i * d + k] ** 2;
      const h = 1e-6 * Math.sqrt(sq / d);
      for (let k = 0; k < d; k++) {
        const at = i * d + k;
        const keep = v[at];
        v[at] = keep + h;
        const up = reference(x, y, n, d, tau);
        v[at] = keep - h;
        const down = reference(x, y, n, d, tau);
        v[at] = keep;
        g[at] = (up - down) / (2 * h);
      }
    }
    return g;
  }) as [Float64Array, Float64Array];
}

/** `[n, d]` normal rows, each times its own scale (the loss is scale-invariant per row). */
function rows(n: number, d: number, prng: Prng, scales: number[]): Float64Array {
  const v = Float64Array.from(Float32Array.from(randomNormal(n * d, prng)));
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) v[i * d + k] = Math.fround(v[i * d + k] * scales[i]);
  }
  return v;
}

/** How many tensors the forward kernel returns for `[n, d]` views (4: the softmax path). */
function outputsOf(n: number, d: number, tau: number): number {
  return tf.tidy(() => {
    const x = tf.randomNormal([n, d], 0, 1, "float32", 1);
    const y = tf.randomNormal([n, d], 0, 1, "float32", 2);
    return (tf.engine().runKernel(COSINE_XENT_KERNEL, { x, y }, {
      loss: "ntXent",
      temperature: tau,
    } as unknown as tf.NamedAttrMap) as tf.Tensor[]).length;
  });
}

/** The native value and gradients of ntXent. */
function nativeNtXent(
  x: Float64Array,
  y: Float64Array,
  n: number,
  d: number,
  tau: number,
): { value: number; gx: Float32Array; gy: Float32Array } {
  return tf.tidy(() => {
    const xt = tf.tensor2d(Float32Array.from(x), [n, d]);
    const yt = tf.tensor2d(Float32Array.from(y), [n, d]);
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
      ntXent(a as tf.Tensor2D, b as tf.Tensor2D, { temperature: tau })
    )([xt, yt]);
    return {
      value: value.dataSync()[0],
      gx: grads[0].dataSync() as Float32Array,
      gy: grads[1].dataSync() as Float32Array,
    };
  });
}

// [n, d, τ]: the softmax path (1/τ <= 30, its bound included) and below it the log-sum-exp path.
const SHAPES: [number, number, number][] = [
  [2, 3, 1],
  [3, 3, 0.1],
  [5, 7, 0.5],
  [37, 9, 0.1],
  [48, 5, 0.05],
  [19, 4, 1 / INFONCE_SOFTMAX_MAX_SCALE],
  [23, 6, 0.02],
];
const SEEDS = [1, 2, 3];

for (const [path, on] of [["softmax", true], ["log-sum-exp", false]] as const) {
  Deno.test({
    name: `native ntXent (${path} path) matches float64, value and gradients, over seeds`,
    ignore: !haveDnnl,
    async fn() {
      await useBackend("native", { quiet: true });
      assert.ok(kernels.includes(COSINE_XENT_KERNEL));
      const was = setNtXentSoftmax(on);
      try {
        for (const seed of SEEDS) {
          for (const [n, d, tau] of SHAPES) {
            const prng = pcg32(seed * 1013 + n * 37 + d);
            // Row scales from 1e-2 to 1e2, one huge row and (seed 2) one clamped tiny row.
            const scales = Array.from({ length: n }, () => 10 ** (4 * prng() - 2));
            if (n > 2) scales[1] = 1e6;
            if (n > 3 && seed === 2) scales[3] = 1e-14; // norm ~3e-14 < 1e-12: clamped
            const x = rows(n, d, prng, scales);
            const y = rows(n, d, prng, scales.slice().reverse());
            const want = reference(x, y, n, d, tau);
            const [wx, wy] = referenceGradient(x, y, n, d, tau);
            const before = tf.memory().numTensors;
            const got = nativeNtXent(x, y, n, d, tau);
            assert.equal(tf.memory().numTensors, before, "no tensor leaked");
            const fast = on && 1 / tau <= INFONCE_SOFTMAX_MAX_SCALE;
            assert.equal(outputsOf(n, d, tau), fast ? 4 : 7, `path taken at n ${n}, τ ${tau}`);
            const what = `seed ${seed}, n ${n}, d ${d}, τ ${tau}:`;
            assertTensorClose(got.value, want, { rtol: 1e-5, atol: 1e-6 }, `${what} value`);
            // Gradients row by row, scaled by the row's norm (which makes them scale-free): float32
            // sums of 2n softmax terms, to 2e-5 of the largest scaled entry plus 1e-4 relative.
            for (const [g, w, v] of [[got.gx, wx, x], [got.gy, wy, y]] as const) {
              const scaledGot: number[] = [];
              const scaledWant: number[] = [];
              for (let i = 0; i < n; i++) {
                let sq = 0;
                for (let k = 0; k < d; k++) sq += v[i * d + k] ** 2;
                const norm = Math.max(Math.sqrt(sq), 1e-12);
                for (let k = 0; k < d; k++) {
                  scaledGot.push(g[i * d + k] * norm);
                  scaledWant.push(w[i * d + k] * norm);
                }
              }
              const top = Math.max(...scaledWant.map(Math.abs));
              assertTensorClose(
                scaledGot,
                scaledWant,
                { rtol: 1e-4, atol: 2e-5 * top + 1e-9 },
                `${what} gradient`,
              );
            }
          }
        }
      } finally {
        setNtXentSoftmax(was);
      }
    },
  });
}

Deno.test({
  name: "native ntXent's softmax path matches finite differences of itself (float32)",
  ignore: !haveDnnl,
  async fn() {
    await useBackend("native", { quiet: true });
    const was = setNtXentSoftmax(true);
    try {
      for (const seed of [11, 12]) {
        const prng = pcg32(seed);
        const n = 6, d = 5;
        const x = tf.tensor2d(Float32Array.from(randomNormal(n * d, prng)), [n, d]);
        const y = tf.tensor2d(Float32Array.from(randomNormal(n * d, prng)), [n, d]);
        assert.equal(outputsOf(n, d, 0.5), 4);
        const tol = { eps: 1e-2, rtol: 2e-2, atol: 2e-3 };
        checkGradient((v) => ntXent(v as tf.Tensor2D, y, { temperature: 0.5 }), x, tol);
        checkGradient((v) => ntXent(x, v as tf.Tensor2D, { temperature: 0.5 }), y, tol);
        tf.dispose([x, y]);
      }
    } finally {
      setNtXentSoftmax(was);
    }
  },
});

Deno.test({
  name:
    "native ntXent: the softmax and log-sum-exp paths agree at n = 256, d = 128; above n = 2048 the log-sum-exp path",
  ignore: !haveDnnl,
  async fn() {
    await useBackend("native", { quiet: true });
    const prng = pcg32(257);
    const x = tf.tensor2d(Float32Array.from(randomNormal(256 * 128, prng)), [256, 128]);
    const y = tf.tensor2d(Float32Array.from(randomNormal(256 * 128, prng)), [256, 128]);
    const run = (on: boolean) => {
      const was = setNtXentSoftmax(on);
      try {
        return tf.tidy(() => {
          const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
            ntXent(a as tf.Tensor2D, b as tf.Tensor2D)
          )([x, y]);
          return [value, ...grads].map((t) => Array.from(t.dataSync()));
        });
      } finally {
        setNtXentSoftmax(was);
      }
    };
    const before = tf.memory().numTensors;
    const fast = run(true);
    const general = run(false);
    assert.equal(tf.memory().numTensors, before);
    assertTensorClose(fast[0], general[0], { rtol: 1e-5, atol: 1e-6 });
    const top = Math.max(...general[1].map(Math.abs), ...general[2].map(Math.abs));
    for (const i of [1, 2]) {
      assertTensorClose(fast[i], general[i], { rtol: 1e-4, atol: 1e-5 * top });
    }
    tf.dispose([x, y]);
    assert.equal(outputsOf(NTXENT_SOFTMAX_MAX_N, 2, 0.5), 4);
    assert.equal(outputsOf(NTXENT_SOFTMAX_MAX_N + 1, 2, 0.5), 7);
  },
});
