/**
 * Training-mode batch norm on native computes `tf.moments` beside oneDNN's forward primitive: the
 * moments' `Mean` kernels return lazy tensors that `FusedBatchNorm` fills (float64 sums, then the
 * primitive normalizes with them), so they must equal float64 statistics, and every other order
 * of reads (statistics read first, never read, read after) must still give the right values
 * without leaks.
 */
import assert from "node:assert/strict";
import { tf, useBackend } from "../../backend/mod.ts";
import { registerNativeBackend } from "../../backend/native/mod.ts";
import { dnnlOrUndefined } from "../../backend/native/_dnnl.ts";
import { batchMoments, DNNL_MOMENTS_MIN_ELEMENTS } from "../../backend/native/_dnnl_batch_norm.ts";
import { isPendingLazy } from "../../backend/native/_lineage.ts";
import { inCi } from "../_ci.ts";
import { assertNoLeak, assertTensorClose, pcg32, randomNormal } from "../_utils.ts";

const dnnl = dnnlOrUndefined();
const ignore = dnnl === undefined && !inCi();
if (dnnl !== undefined) await registerNativeBackend();

/** Float64 per-channel mean and biased variance, and the normalized output. */
function reference(x: Float32Array, c: number, gamma: Float32Array, beta: Float32Array) {
  const rows = x.length / c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let i = 0; i < x.length; i++) mean[i % c] += x[i] / rows;
  for (let i = 0; i < x.length; i++) variance[i % c] += (x[i] - mean[i % c]) ** 2 / rows;
  const y = Float64Array.from(
    x,
    (v, i) => ((v - mean[i % c]) / Math.sqrt(variance[i % c] + 1e-3)) * gamma[i % c] + beta[i % c],
  );
  return { mean, variance, y };
}

const SHAPES = [[3, 5, 7, 6], [2, 1, 1, 3], [9, 4], [4, 16, 16, 32]];

Deno.test({
  name:
    "native training-mode batch norm: oneDNN's statistics equal float64 moments, any read order",
  ignore,
  async fn() {
    await useBackend("native", { quiet: true });
    const prng = pcg32(41);
    for (const shape of SHAPES) {
      const c = shape[shape.length - 1];
      const size = shape.reduce((p, v) => p * v, 1);
      const x = Float32Array.from(randomNormal(size, prng), (v, i) => 2 * v + (i % c) / 3);
      const gamma = Float32Array.from(randomNormal(c, prng));
      const beta = Float32Array.from(randomNormal(c, prng));
      const want = reference(x, c, gamma, beta);
      const axes = shape.slice(0, -1).map((_, i) => i);
      const label = `[${shape}]`;
      for (const order of ["after", "before", "never", "keepDims"] as const) {
        await assertNoLeak(() => {
          tf.tidy(() => {
            const xt = tf.tensor(x, shape);
            const { mean, variance } = tf.moments(xt, axes, order === "keepDims");
            if (order !== "before") {
              assert.ok(isPendingLazy(mean.dataId), `mean lazy ${label}`);
              assert.ok(isPendingLazy(variance.dataId), `variance lazy ${label}`);
            }
            const m = order === "before" ? mean.dataSync() : undefined;
            const [b, g] = [tf.tensor1d(beta), tf.tensor1d(gamma)].map((t) =>
              tf.reshape(t, mean.shape)
            );
            const y = tf.batchNorm(xt, mean, variance, b, g, 1e-3);
            const tol = { rtol: 1e-4, atol: 1e-4 };
            assertTensorClose(y, want.y, tol, `y ${order} ${label}`);
            if (order === "never") return;
            assert.ok(!isPendingLazy(mean.dataId), `mean filled ${order} ${label}`);
            assertTensorClose(tf.reshape(mean, [c]), want.mean, tol, `mean ${order} ${label}`);
            assertTensorClose(
              tf.reshape(variance, [c]),
              want.variance,
              tol,
              `var ${order} ${label}`,
            );
            if (m) assert.deepEqual(Array.from(m), Array.from(mean.dataSync()));
          });
        }, `${order} ${label}`);
      }
    }
  },
});

Deno.test({
  name: "native lazy moments: statistics disposed unread release their input",
  ignore,
  async fn() {
    await useBackend("native", { quiet: true });
    await assertNoLeak(() => {
      const x = tf.randomNormal([4, 8, 8, 16]);
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      x.dispose();
      tf.dispose([mean, variance]);
    }, "unread moments");
  },
});

/** Float64 two-pass moments per channel (the last axis of `[rows, c]`). */
function float64Moments(x: Float32Array, c: number) {
  const rows = x.length / c;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let i = 0; i < x.length; i++) mean[i % c] += x[i];
  for (let j = 0; j < c; j++) mean[j] /= rows;
  for (let i = 0; i < x.length; i++) variance[i % c] += (x[i] - mean[i % c]) ** 2;
  for (let j = 0; j < c; j++) variance[j] /= rows;
  return { mean, variance };
}

Deno.test({
  name:
    "native batch moments on oneDNN's threads (8-row float32 partial sums, float64 totals) equal float64 moments",
  ignore,
  fn() {
    const prng = pcg32(43);
    const f32 = 2 ** -24;
    const cases: [string, number, number, (i: number, c: number) => number][] = [
      // [rows, c]; values by flat index
      ["normal", 16384, 32, () => 0],
      ["offset 100 std", 4096, 64, (i, c) => 100 * (1 + (i % c))],
      // rows not a multiple of 8: the JavaScript passes
      ["odd rows", 8191, 16, (i, c) => i % c],
      // 1024 on two rows in three, 1024 + 2^-10 on the third: the 8-row partial sums are exact
      // (float32 spacing 2^-10 at 8192), the float64 mean is a third of a float32 step (2^-13) off
      // the float32 one, and the squares of deviations from the float32 mean need the (m - m32)^2
      // correction (0.8% of the variance)
      ["quantized", 8192, 8, (i, c) => 1024 + (Math.floor(i / c) % 3 === 0 ? 2 ** -10 : 0)],
    ];
    // the partial sums' scratch holds the last call's values: every case runs twice, the second
    // time on other data
    for (const [label, rows, c, offset] of cases) {
      for (const round of [0, 1]) {
        const noise = label === "quantized"
          ? new Float64Array(rows * c)
          : randomNormal(rows * c, prng);
        const x = Float32Array.from(noise, (v, i) => v * (1 + round) + offset(i, c));
        assert.ok(x.length >= DNNL_MOMENTS_MIN_ELEMENTS, `${label}: on the oneDNN path's side`);
        const want = float64Moments(x, c);
        const got = batchMoments(x, c, dnnl);
        for (let j = 0; j < c; j++) {
          const std = Math.sqrt(want.variance[j]);
          // float32 storage of the mean costs |mean| * 2^-24; 8-term float32 sums a few times that
          const meanTol = 8 * f32 * (Math.abs(want.mean[j]) + std);
          assert.ok(
            Math.abs(got.mean[j] - want.mean[j]) <= meanTol,
            `${label} round ${round} mean[${j}]: ${got.mean[j]} vs ${want.mean[j]}`,
          );
          assert.ok(
            Math.abs(got.variance[j] - want.variance[j]) <= 16 * f32 * want.variance[j],
            `${label} round ${round} variance[${j}]: ${got.variance[j]} vs ${want.variance[j]}`,
          );
        }
      }
    }
  },
});
