/**
 * The harness the native NT-Xent and InfoNCE tests share: each loss's fused cosine
 * cross-entropy kernel (`COSINE_XENT_KERNEL`, softmax path and log-sum-exp path) against a float64
 * reference written from the loss's definition (each test file has its own), with the reference's
 * gradient by float64 central differences (no formula shared with the kernels).
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/mod.ts";
import { INFONCE_SOFTMAX_MAX_SCALE } from "../../backend/native/_dnnl_softmax.ts";
import { COSINE_XENT_KERNEL } from "../../losses/_ops.ts";
import { assertTensorClose, checkGradient, pcg32, type Prng, randomNormal } from "../_utils.ts";

/** A float64 loss of `[n, d]` views `x`, `y` at temperature `tau`. */
export type Reference = (
  x: Float64Array,
  y: Float64Array,
  n: number,
  d: number,
  tau: number,
) => number;

/** The loss under test on tfjs tensors (the library's `ntXent` or `infoNce`). */
export type Loss = (
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  options?: { temperature?: number },
) => tf.Scalar;

/** `[n, d]` normal rows, each times its own scale (the losses are scale-invariant per row). */
function rows(n: number, d: number, prng: Prng, scales: number[]): Float64Array {
  const v = Float64Array.from(Float32Array.from(randomNormal(n * d, prng)));
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) v[i * d + k] = Math.fround(v[i * d + k] * scales[i]);
  }
  return v;
}

/** Central differences of the float64 reference, step relative to each row's norm. */
function referenceGradient(
  reference: Reference,
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

/** How many tensors the loss's forward kernel returns for `[n, d]` views (4: the softmax path). */
export function outputsOf(lossName: string, n: number, d: number, tau: number): number {
  return tf.tidy(() => {
    const x = tf.randomNormal([n, d], 0, 1, "float32", 1);
    const y = tf.randomNormal([n, d], 0, 1, "float32", 2);
    return (tf.engine().runKernel(COSINE_XENT_KERNEL, { x, y }, {
      loss: lossName,
      temperature: tau,
    } as unknown as tf.NamedAttrMap) as tf.Tensor[]).length;
  });
}

/** The loss's value and gradients on the current backend. */
function valueAndGradients(
  loss: Loss,
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
      loss(a as tf.Tensor2D, b as tf.Tensor2D, { temperature: tau })
    )([xt, yt]);
    return {
      value: value.dataSync()[0],
      gx: grads[0].dataSync() as Float32Array,
      gy: grads[1].dataSync() as Float32Array,
    };
  });
}

/** [n, d, τ]: the softmax path (1/τ <= 30, its bound included) and below it the log-sum-exp path. */
const SHAPES: [number, number, number][] = [
  [2, 3, 1],
  [3, 3, 0.1],
  [5, 7, 0.5],
  [37, 9, 0.1],
  [48, 5, 0.05],
  [19, 4, 1 / INFONCE_SOFTMAX_MAX_SCALE],
  [23, 6, 0.02],
];

/**
 * The loss (softmax path when `softmax`, which the caller has set) against its float64
 * reference over `seeds` and {@linkcode SHAPES}: value, gradients row by row, the path taken, no
 * tensor leaked. Each case's data comes from `pcg32(seed * mix[0] + n * mix[1] + d)`.
 */
export function checkAgainstReference(options: {
  lossName: string;
  loss: Loss;
  reference: Reference;
  softmax: boolean;
  seeds: number[];
  mix: [number, number];
}): void {
  const { lossName, loss, reference, softmax, seeds, mix } = options;
  for (const seed of seeds) {
    for (const [n, d, tau] of SHAPES) {
      const prng = pcg32(seed * mix[0] + n * mix[1] + d);
      // Row scales from 1e-2 to 1e2, one huge row and (seed 2) one clamped tiny row.
      const scales = Array.from({ length: n }, () => 10 ** (4 * prng() - 2));
      if (n > 2) scales[1] = 1e6;
      if (n > 3 && seed === 2) scales[3] = 1e-14; // norm ~3e-14 < 1e-12: clamped
      const x = rows(n, d, prng, scales);
      const y = rows(n, d, prng, scales.slice().reverse());
      const want = reference(x, y, n, d, tau);
      const [wx, wy] = referenceGradient(reference, x, y, n, d, tau);
      const before = tf.memory().numTensors;
      const got = valueAndGradients(loss, x, y, n, d, tau);
      assert.equal(tf.memory().numTensors, before, "no tensor leaked");
      const fast = softmax && 1 / tau <= INFONCE_SOFTMAX_MAX_SCALE;
      assert.equal(outputsOf(lossName, n, d, tau), fast ? 4 : 7, `path taken at n ${n}, τ ${tau}`);
      const what = `seed ${seed}, n ${n}, d ${d}, τ ${tau}:`;
      assertTensorClose(got.value, want, { rtol: 1e-5, atol: 1e-6 }, `${what} value`);
      // Gradients row by row, scaled by the row's norm (which makes them scale-free): float32
      // sums of up to 2n softmax terms, to 2e-5 of the largest scaled entry plus 1e-4 relative.
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
}

/** The loss's gradients (softmax path, set by the caller) against float32 finite differences. */
export function checkFiniteDifferences(lossName: string, loss: Loss): void {
  for (const seed of [11, 12]) {
    const prng = pcg32(seed);
    const n = 6, d = 5;
    const x = tf.tensor2d(Float32Array.from(randomNormal(n * d, prng)), [n, d]);
    const y = tf.tensor2d(Float32Array.from(randomNormal(n * d, prng)), [n, d]);
    assert.equal(outputsOf(lossName, n, d, 0.5), 4, "the softmax path");
    const tol = { eps: 1e-2, rtol: 2e-2, atol: 2e-3 };
    checkGradient((v) => loss(v as tf.Tensor2D, y, { temperature: 0.5 }), x, tol);
    checkGradient((v) => loss(x, v as tf.Tensor2D, { temperature: 0.5 }), y, tol);
    tf.dispose([x, y]);
  }
}

/**
 * The softmax and log-sum-exp paths (`setSoftmax(true | false)`, returning the previous setting)
 * agree at n = 256, d = 128 (default temperature), value and gradients.
 */
export function checkPathsAgree(loss: Loss, setSoftmax: (on: boolean) => boolean, seed: number) {
  const prng = pcg32(seed);
  const x = tf.tensor2d(Float32Array.from(randomNormal(256 * 128, prng)), [256, 128]);
  const y = tf.tensor2d(Float32Array.from(randomNormal(256 * 128, prng)), [256, 128]);
  const run = (on: boolean) => {
    const was = setSoftmax(on);
    try {
      return tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
          loss(a as tf.Tensor2D, b as tf.Tensor2D)
        )([x, y]);
        return [value, ...grads].map((t) => Array.from(t.dataSync()));
      });
    } finally {
      setSoftmax(was);
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
}
