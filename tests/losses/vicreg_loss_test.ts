import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { vicregLoss } from "../../losses/mod.ts";
import { assertNoLeak, assertTensorClose, checkGradient, pcg32, setupBackend } from "../_utils.ts";
import { randn, refVicreg } from "./_reference.ts";

await setupBackend();
const t2 = (m: number[][]) => tf.tensor2d(m);

Deno.test("vicregLoss matches the float64 reference (VICReg Algorithm 1)", () => {
  const prng = pcg32(421);
  const cases = [[16, 8, 0.5, 25, 25, 1], [16, 8, 2, 25, 25, 1], [5, 12, 1, 1, 2, 3], [
    64,
    32,
    0.8,
    25,
    25,
    1,
  ]];
  for (const [n, d, scale, inv, v, c] of cases) {
    const a = randn(n, d, prng, scale), b = randn(n, d, prng, scale);
    tf.tidy(() =>
      assertTensorClose(
        vicregLoss(t2(a), t2(b), { invariance: inv, variance: v, covariance: c }),
        refVicreg(a, b, inv, v, c),
        { rtol: 1e-4, atol: 1e-4 },
      )
    );
  }
  const a = randn(10, 4, prng), b = randn(10, 4, prng);
  tf.tidy(() =>
    assertTensorClose(vicregLoss(t2(a), t2(b)), refVicreg(a, b, 25, 25, 1), {
      rtol: 1e-4,
      atol: 1e-4,
    })
  );
});

Deno.test("vicregLoss closed forms: collapse costs exactly the variance weight; symmetric in the views", () => {
  tf.tidy(() => {
    const c = tf.ones([8, 4]) as tf.Tensor2D; // collapsed: std = sqrt(1e-4) = 0.01 per dimension
    assertTensorClose(vicregLoss(c, c), 25 * (1 - 0.01), { rtol: 1e-5, atol: 1e-5 });
    const prng = pcg32(422);
    const a = t2(randn(12, 5, prng)), b = t2(randn(12, 5, prng));
    assertTensorClose(vicregLoss(a, b), vicregLoss(b, a).dataSync()[0], { rtol: 1e-6, atol: 1e-6 });
  });
});

Deno.test("vicregLoss gradients match finite differences", () => {
  const prng = pcg32(423);
  const a = t2(randn(6, 3, prng, 0.4)), b = t2(randn(6, 3, prng, 0.4));
  checkGradient((x) => vicregLoss(x as tf.Tensor2D, b), a, { eps: 1e-2, rtol: 3e-2, atol: 5e-3 });
  tf.dispose([a, b]);
});

Deno.test("vicregLoss validates inputs and leaks nothing", async () => {
  const a = tf.ones([3, 2]) as tf.Tensor2D;
  assert.throws(() => vicregLoss(a, tf.ones([2, 2]) as tf.Tensor2D), TypeError);
  assert.throws(
    () => vicregLoss(tf.ones([1, 2]) as tf.Tensor2D, tf.ones([1, 2]) as tf.Tensor2D),
    RangeError,
  );
  assert.throws(() => vicregLoss(a, a, { covariance: -1 }), RangeError);
  assert.throws(() => vicregLoss(a, a, { variance: Number.NaN }), RangeError);
  await assertNoLeak(() => vicregLoss(a, a));
  await assertNoLeak(() => tf.grad((x: tf.Tensor) => vicregLoss(x as tf.Tensor2D, a))(a));
  a.dispose();
});
