/**
 * `tf.mean(x, [1, 2])` of NHWC data (a global average pool) runs on native as oneDNN's average
 * pooling, and its gradient (the `SelfsupBroadcastDiv` kernel) as oneDNN's average-pooling
 * backward; both against float64 loops and the cpu backend's gradient.
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

// Odd sizes, batch 1 and > 1, at least 2^15 elements (below it the JS kernels run).
const SHAPES = [[3, 9, 13, 300], [1, 16, 16, 128], [4, 16, 16, 32]];

Deno.test({
  name: "native global average pool: oneDNN pooling forward and backward equal float64 and cpu",
  ignore,
  async fn() {
    const prng = pcg32(43);
    for (const shape of SHAPES) {
      const [n, h, w, c] = shape;
      const x = Float32Array.from(randomNormal(n * h * w * c, prng), (v, i) => v + (i % 7));
      const u = Float32Array.from(randomNormal(n * c, prng));
      const mean = new Float64Array(n * c);
      for (let b = 0; b < n; b++) {
        for (let p = 0; p < h * w; p++) {
          for (let j = 0; j < c; j++) mean[b * c + j] += x[(b * h * w + p) * c + j] / (h * w);
        }
      }
      // d/dx sum(mean * u) = u[b, j] / (h w) everywhere in plane b.
      const grad = Float64Array.from(
        { length: x.length },
        (_, i) => u[Math.floor(i / (h * w * c)) * c + (i % c)] / (h * w),
      );
      const run = (keepDims: boolean) => {
        const xt = tf.tensor(x, shape);
        const f = (t: tf.Tensor) =>
          tf.sum(tf.mul(tf.reshape(tf.mean(t, [1, 2], keepDims), [n, c]), tf.tensor2d(u, [n, c])));
        return [tf.mean(xt, [2, 1], keepDims), tf.grad(f)(xt)];
      };
      for (const keepDims of [false, true]) {
        const label = `[${shape}] keepDims ${keepDims}`;
        await useBackend("cpu", { quiet: true });
        const want = tf.tidy(() => run(keepDims).map((t) => t.dataSync().slice()));
        await useBackend("native", { quiet: true });
        await assertNoLeak(() => {
          tf.tidy(() => {
            const [y, dx] = run(keepDims);
            assert.deepEqual(y.shape, keepDims ? [n, 1, 1, c] : [n, c], label);
            assertTensorClose(y, mean, { rtol: 1e-5, atol: 1e-5 }, `mean ${label}`);
            assertTensorClose(dx, grad, { rtol: 1e-6, atol: 1e-7 }, `grad ${label}`);
            assertTensorClose(y, want[0], { rtol: 1e-5, atol: 1e-5 }, `mean vs cpu ${label}`);
            assertTensorClose(dx, want[1], { rtol: 1e-6, atol: 1e-7 }, `grad vs cpu ${label}`);
          });
        }, label);
      }
    }
  },
});
