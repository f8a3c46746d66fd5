/**
 * Batch norm + ReLU fused on native (backend/native/_bn_relu.ts): a site whose output feeds a ReLU
 * runs as one oneDNN primitive from its first step on, forward and backward; values and gradients
 * must equal the cpu backend's on every step, also when the batch-norm output is read besides the
 * ReLU (fusing stops there) and when the input holds NaN (tfjs keeps NaN), and the same step run
 * again from the same state must give the same bits (a resumed run equals an uninterrupted one).
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

/**
 * `relu+read`: the loss reads the batch-norm output besides the ReLU; `relu+metric`: the forward
 * pass reads it outside the loss (only the ReLU's gradient reaches the batch norm).
 */
type Mode = "relu" | "relu+read" | "relu+metric" | "nan";

/**
 * Three steps of `sum(relu(bn(x)) * u)` (plus `sum(bn(x)^2)` when read) with one scale variable;
 * with `same`, the three steps see the same `x` and `u`.
 */
async function stepsOn(
  backend: "cpu" | "native",
  shape: number[],
  mode: Mode,
  seed: number,
  same = false,
) {
  await useBackend(backend, { quiet: true });
  const prng = pcg32(seed);
  const c = shape[shape.length - 1];
  const size = shape.reduce((p, v) => p * v, 1);
  const variable = (values: Float32Array) => {
    const init = tf.tensor1d(values);
    const v = tf.variable(init);
    init.dispose();
    return v;
  };
  const gamma = variable(Float32Array.from(randomNormal(c, prng)));
  const beta = variable(Float32Array.from(randomNormal(c, prng)));
  const axes = shape.slice(0, -1).map((_, i) => i);
  const out: Float32Array[] = [];
  const f32 = (t: tf.Tensor) => Float32Array.from(t.dataSync());
  const kernels: string[][] = [];
  const draw = () => {
    const x = Float32Array.from(randomNormal(size, prng), (v, i) => 2 * v + (i % c) / 5);
    if (mode === "nan") x[7] = NaN;
    return { x, u: Float32Array.from(randomNormal(size, prng)) };
  };
  const first = draw();
  for (let step = 0; step < 3; step++) {
    const { x, u } = step === 0 || same ? first : draw();
    const profile = await tf.profile(() => {
      tf.tidy(() => {
        const xt = tf.tensor(x, shape);
        const ut = tf.tensor(u, shape);
        const f = () => {
          const { mean, variance } = tf.moments(xt, axes);
          const y = tf.batchNorm(xt, mean, variance, beta, gamma, 1e-5);
          const loss = tf.sum(tf.mul(tf.relu(y), ut));
          if (mode === "relu+metric") metric = tf.keep(tf.max(y));
          return (mode === "relu+read" ? tf.add(loss, tf.sum(tf.square(y))) : loss) as tf.Scalar;
        };
        let metric: tf.Tensor | undefined;
        const { value, grads } = tf.variableGrads(f, [gamma, beta]);
        const dx = tf.grad((t: tf.Tensor) => {
          const { mean, variance } = tf.moments(t, axes);
          const y = tf.batchNorm(t, mean, variance, beta, gamma, 1e-5);
          return tf.sum(tf.mul(tf.relu(y), ut)) as tf.Scalar;
        })(xt);
        out.push(
          f32(value),
          f32(grads[gamma.name]),
          f32(grads[beta.name]),
          f32(dx),
        );
        metric?.dispose();
      });
    });
    kernels.push(profile.kernels.map((k) => k.name));
  }
  tf.dispose([gamma, beta]);
  return { out, kernels };
}

const SHAPES = [[4, 9, 7, 6], [4, 8, 8, 32], [300, 5]];

Deno.test({
  name: "native fused batch norm + ReLU: values and gradients equal cpu's over three steps",
  ignore,
  async fn() {
    for (const shape of SHAPES) {
      for (const mode of ["relu", "relu+read", "relu+metric", "nan"] as const) {
        const label = `[${shape}] ${mode}`;
        const want = await stepsOn("cpu", shape, mode, 47);
        let got: Awaited<ReturnType<typeof stepsOn>> | undefined;
        await assertNoLeak(async () => {
          got = await stepsOn("native", shape, mode, 47);
        }, label);
        got!.out.forEach((g, i) => {
          // NaN where cpu has NaN (tfjs's ReLU keeps it), the rest close.
          const nan = want.out[i].map((v) => +Number.isNaN(v));
          assert.deepEqual(
            g.map((v) => +Number.isNaN(v)),
            nan,
            `NaN at the same places ${i} ${label}`,
          );
          const finite = (a: Float32Array) => a.filter((_, j) => !nan[j]);
          assertTensorClose(
            finite(g),
            finite(want.out[i]),
            { rtol: 2e-4, atol: 2e-4 },
            `${i} ${label}`,
          );
        });
        // Every step fuses (unless y is read besides the ReLU: the first step's fused forward
        // then computes y and the gradient is unfused; or the statistics are not finite).
        const fused = got!.kernels.map((k) => !k.includes("SelfsupReluGrad"));
        assert.deepEqual(fused, [mode === "relu", mode === "relu", mode === "relu"], label);
      }
    }
  },
});

Deno.test({
  name:
    "native fused batch norm + ReLU: the same step from the same state gives the same bits on the first and later steps",
  ignore,
  async fn() {
    // [4, 9, 7, 6] and [300, 5] are below the size where the unfused gradient leaves the float64
    // JS passes for oneDNN; the fused one is oneDNN's at every size.
    for (const shape of SHAPES) {
      for (const mode of ["relu", "relu+read", "relu+metric", "nan"] as const) {
        const { out } = await stepsOn("native", shape, mode, 48, true);
        const n = out.length / 3;
        for (let i = 0; i < n; i++) {
          for (const step of [1, 2]) {
            const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer.slice(0)));
            assert.deepEqual(
              bits(out[step * n + i]),
              bits(out[i]),
              `output ${i}, step ${step + 1} vs 1, [${shape}] ${mode}`,
            );
          }
        }
      }
    }
  },
});
