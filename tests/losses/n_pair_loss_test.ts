import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { nPairLoss } from "../../losses/mod.ts";
import { assertNoLeak, assertTensorClose, checkGradient, pcg32, setupBackend } from "../_utils.ts";
import { randn, refNPair } from "./_reference.ts";

await setupBackend();
const t2 = (m: number[][]) => tf.tensor2d(m);

Deno.test("nPairLoss matches the float64 reference (Sohn 2016) with and without l2Reg", () => {
  const prng = pcg32(351);
  for (const [n, d, l2Reg] of [[10, 8, 0], [10, 8, 0.02], [1, 3, 0.5], [40, 16, 1e-3]]) {
    const a = randn(n, d, prng), p = randn(n, d, prng, 2);
    tf.tidy(() =>
      assertTensorClose(nPairLoss(t2(a), t2(p), { l2Reg }), refNPair(a, p, l2Reg), {
        rtol: 1e-4,
        atol: 1e-5,
      })
    );
  }
});

Deno.test("nPairLoss is not scale invariant (plain dot products) and is stable for big logits", () => {
  const prng = pcg32(352);
  const a = randn(8, 4, prng), p = randn(8, 4, prng);
  const big = a.map((r) => r.map((v) => v * 300));
  tf.tidy(() => {
    const l1 = nPairLoss(t2(a), t2(p)).dataSync()[0];
    const l2 = nPairLoss(t2(big), t2(p));
    assert.notEqual(l1, l2.dataSync()[0]);
    assertTensorClose(l2, refNPair(big, p, 0), { rtol: 1e-4, atol: 1e-3 });
  });
});

Deno.test("nPairLoss gradients match finite differences", () => {
  const prng = pcg32(353);
  const a = t2(randn(5, 4, prng)), p = t2(randn(5, 4, prng));
  const tol = { eps: 1e-2, rtol: 2e-2, atol: 2e-3 };
  checkGradient((x) => nPairLoss(x as tf.Tensor2D, p, { l2Reg: 0.1 }), a, tol);
  checkGradient((x) => nPairLoss(a, x as tf.Tensor2D, { l2Reg: 0.1 }), p, tol);
  tf.dispose([a, p]);
});

Deno.test("nPairLoss rejects bad inputs and leaks nothing", async () => {
  const a = tf.ones([4, 3]) as tf.Tensor2D;
  assert.throws(() => nPairLoss(a, tf.ones([3, 3]) as tf.Tensor2D), TypeError);
  assert.throws(() => nPairLoss(a, a, { l2Reg: -1 }), RangeError);
  assert.throws(
    () => nPairLoss(tf.ones([0, 3]) as tf.Tensor2D, tf.ones([0, 3]) as tf.Tensor2D),
    RangeError,
  );
  await assertNoLeak(() => nPairLoss(a, a, { l2Reg: 0.1 }));
  a.dispose();
});
