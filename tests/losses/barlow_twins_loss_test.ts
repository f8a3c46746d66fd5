import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { barlowTwinsLoss } from "../../losses/mod.ts";
import { assertNoLeak, assertTensorClose, checkGradient, pcg32, setupBackend } from "../_utils.ts";
import { randn, refBarlow } from "./_reference.ts";

await setupBackend();
const t2 = (m: number[][]) => tf.tensor2d(m);

Deno.test("barlowTwinsLoss matches the float64 reference (Barlow Twins Algorithm 1)", () => {
  const prng = pcg32(411);
  for (const [n, d, lambda] of [[16, 8, 5e-3], [5, 12, 0.1], [64, 32, 5e-3], [2, 3, 1]]) {
    const a = randn(n, d, prng, 2), b = randn(n, d, prng);
    tf.tidy(() =>
      assertTensorClose(barlowTwinsLoss(t2(a), t2(b), { lambda }), refBarlow(a, b, lambda), {
        rtol: 2e-4,
        atol: 1e-4,
      })
    );
  }
  const a = randn(10, 4, prng), b = randn(10, 4, prng);
  tf.tidy(() =>
    assertTensorClose(barlowTwinsLoss(t2(a), t2(b)), refBarlow(a, b, 5e-3), {
      rtol: 2e-4,
      atol: 1e-4,
    })
  );
});

Deno.test("barlowTwinsLoss is symmetric and invariant to per-dimension affine maps", () => {
  const prng = pcg32(412);
  const a = randn(20, 6, prng), b = randn(20, 6, prng);
  tf.tidy(() => {
    const base = barlowTwinsLoss(t2(a), t2(b)).dataSync()[0];
    assertTensorClose(barlowTwinsLoss(t2(b), t2(a)), base, { rtol: 1e-5, atol: 1e-6 });
    const affine = a.map((r) => r.map((v, j) => v * (j + 1) * 3 + j));
    assertTensorClose(barlowTwinsLoss(t2(affine), t2(b)), base, { rtol: 1e-4, atol: 1e-5 });
  });
});

Deno.test("barlowTwinsLoss gradients match finite differences", () => {
  const prng = pcg32(413);
  const a = t2(randn(6, 3, prng)), b = t2(randn(6, 3, prng));
  checkGradient((x) => barlowTwinsLoss(x as tf.Tensor2D, b, { lambda: 0.1 }), a, {
    eps: 1e-2,
    rtol: 3e-2,
    atol: 3e-3,
  });
  tf.dispose([a, b]);
});

Deno.test("barlowTwinsLoss validates inputs and leaks nothing", async () => {
  const a = tf.ones([3, 2]) as tf.Tensor2D;
  assert.throws(() => barlowTwinsLoss(a, tf.ones([3, 3]) as tf.Tensor2D), TypeError);
  assert.throws(
    () => barlowTwinsLoss(tf.ones([1, 2]) as tf.Tensor2D, tf.ones([1, 2]) as tf.Tensor2D),
    RangeError,
  );
  assert.throws(() => barlowTwinsLoss(a, a, { lambda: -1 }), RangeError);
  // constant columns: standardization divides by sqrt(0 + 1e-5), still finite
  tf.tidy(() => assert.ok(Number.isFinite(barlowTwinsLoss(a, a).dataSync()[0])));
  await assertNoLeak(() => barlowTwinsLoss(a, a));
  a.dispose();
});
