/**
 * Training-mode batch norm on native over digit-like batches: most positions of an MNIST batch are
 * background, so a channel holds one value repeated tens of thousands of times. oneDNN's forward
 * primitive sums the statistics in float32 and got the variance wrong by up to 2e-4 on such
 * batches, which made every convolution's gradient 1-2% off PyTorch's in the default SimCLR run
 * (bench/RESULTS.md, "Learning gap", "Same views, same weights"). The statistics, the output and
 * the input gradient must equal float64 references, on fused (batch norm + ReLU) steps and on
 * unfused ones (the batch-norm output read besides the ReLU).
 */
import assert from "node:assert/strict";
import { tf, useBackend } from "../../backend/mod.ts";
import { registerNativeBackend } from "../../backend/native/mod.ts";
import { dnnlOrUndefined } from "../../backend/native/_dnnl.ts";
import { inCi } from "../_ci.ts";
import { pcg32, randomNormal } from "../_utils.ts";

const dnnl = dnnlOrUndefined();
const ignore = dnnl === undefined && !inCi();
if (dnnl !== undefined) await registerNativeBackend();

const SHAPE = [128, 28, 28, 16];
const C = SHAPE[3];
const EPS = 1e-5;

/** A digit-like batch: per channel one background value at 85% of the positions, ink elsewhere. */
function digitLike(seed: number): Float32Array {
  const prng = pcg32(seed);
  const size = SHAPE.reduce((p, v) => p * v, 1);
  const noise = randomNormal(size, prng);
  return Float32Array.from(noise, (v, i) => {
    const background = -0.0197 + 0.0131 * (i % C);
    const ink = (Math.floor(i / C) * 2654435761) % 100 >= 85;
    return ink ? background + 0.4 * v : background;
  });
}

/** Float64 statistics, `relu(bn(x))`, and the gradient of `sum(relu(bn(x)) u)` with respect to x. */
function reference(x: Float32Array, u: Float32Array, gamma: Float32Array, beta: Float32Array) {
  const rows = x.length / C;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let i = 0; i < x.length; i++) mean[i % C] += x[i];
  for (let j = 0; j < C; j++) mean[j] /= rows;
  for (let i = 0; i < x.length; i++) variance[i % C] += (x[i] - mean[i % C]) ** 2;
  for (let j = 0; j < C; j++) variance[j] /= rows;
  const r = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + EPS));
  const xhat = Float64Array.from(x, (v, i) => (v - mean[i % C]) * r[i % C]);
  const y = Float64Array.from(xhat, (v, i) => v * gamma[i % C] + beta[i % C]);
  // g: the gradient reaching the batch norm's output through the ReLU
  const g = Float64Array.from(y, (v, i) => (v > 0 ? u[i] : 0));
  const sumG = new Float64Array(C);
  const sumGXhat = new Float64Array(C);
  for (let i = 0; i < x.length; i++) {
    sumG[i % C] += g[i];
    sumGXhat[i % C] += g[i] * xhat[i];
  }
  const dx = Float64Array.from(g, (v, i) => {
    const j = i % C;
    return gamma[j] * r[j] * (v - sumG[j] / rows - xhat[i] * sumGXhat[j] / rows);
  });
  return { mean, variance, dx };
}

function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

Deno.test({
  name:
    "native training-mode batch norm on digit-like batches: float64 statistics and gradients, fused or not",
  ignore,
  async fn() {
    await useBackend("native", { quiet: true });
    const prng = pcg32(5);
    const gammaInit = tf.tensor1d(Float32Array.from(randomNormal(C, prng), (v) => 1 + 0.1 * v));
    const gamma = tf.variable(gammaInit);
    const beta = tf.variable(tf.zerosLike(gammaInit));
    gammaInit.dispose();
    const axes = [0, 1, 2];
    // Step 1 fused; on step 2 the output is also read besides the ReLU (fusing stops there: the
    // unfused gradient), step 3 runs unfused from the start.
    for (let step = 0; step < 3; step++) {
      const read = step >= 1;
      const x = digitLike(11 + step);
      const u = Float32Array.from(randomNormal(x.length, prng));
      const want = reference(
        x,
        u,
        gamma.dataSync() as Float32Array,
        beta.dataSync() as Float32Array,
      );
      const profile = await tf.profile(() =>
        tf.tidy(() => {
          const xt = tf.tensor(x, SHAPE);
          const ut = tf.tensor(u, SHAPE);
          let stats: Float32Array[] = [];
          const dx = tf.grad((t: tf.Tensor) => {
            const { mean, variance } = tf.moments(t, axes);
            const y = tf.batchNorm(t, mean, variance, beta, gamma, EPS);
            const loss = tf.sum(tf.mul(tf.relu(y), ut)) as tf.Scalar;
            if (read) tf.max(y);
            stats = [mean, variance].map((s) => Float32Array.from(s.dataSync()));
            return loss;
          })(xt);
          const label = `step ${step + 1} (${read ? "unfused" : "fused"})`;
          // float32 storage of float64 sums: about 1e-7 (oneDNN's float32 sums: up to 2e-4)
          const meanErr = Math.max(
            ...want.mean.map((m, j) => Math.abs(stats[0][j] - m) / Math.sqrt(want.variance[j])),
          );
          const varErr = Math.max(
            ...want.variance.map((v, j) => Math.abs(stats[1][j] - v) / v),
          );
          assert.ok(meanErr < 1e-6, `mean off by ${meanErr} std, ${label}`);
          assert.ok(varErr < 1e-6, `variance off by ${varErr} relative, ${label}`);
          const dxErr = relL2(dx.dataSync(), want.dx);
          assert.ok(dxErr < 1e-4, `input gradient off by ${dxErr} (relative L2), ${label}`);
        })
      );
      // (step 2 still makes the ReLU's lazy gradient, which the batch-norm gradient then reads)
      const kernels = profile.kernels.map((k) => k.name);
      if (step !== 1) {
        assert.equal(kernels.includes("SelfsupBnReluGrad"), !read, `path taken, step ${step + 1}`);
      }
    }
    tf.dispose([gamma, beta]);
  },
});
