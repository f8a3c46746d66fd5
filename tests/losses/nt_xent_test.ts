import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { ntXent } from "../../losses/mod.ts";
import { assertNoLeak, assertTensorClose, checkGradient, pcg32, setupBackend } from "../_utils.ts";
import { randn, refNtXent } from "./_reference.ts";

await setupBackend();
const t2 = (m: number[][]) => tf.tensor2d(m);
const value = (s: tf.Scalar) => {
  const v = s.dataSync()[0];
  s.dispose();
  return v;
};

Deno.test("ntXent matches the float64 reference (SimCLR Algorithm 1) on random inputs", () => {
  const prng = pcg32(311);
  for (const [n, d, tau] of [[8, 16, 0.5], [31, 5, 0.1], [2, 3, 0.5], [64, 32, 0.2]]) {
    const a = randn(n, d, prng), b = randn(n, d, prng, 0.3);
    tf.tidy(() => {
      assertTensorClose(ntXent(t2(a), t2(b), { temperature: tau }), refNtXent(a, b, tau), {
        rtol: 1e-4,
        atol: 1e-5,
      });
    });
  }
  const a = randn(12, 6, prng), b = randn(12, 6, prng);
  assertTensorClose(value(ntXent(t2(a), t2(b))), refNtXent(a, b, 0.5), { rtol: 1e-4, atol: 1e-5 });
});

Deno.test("ntXent of all-identical embeddings is log(2n - 1)", () => {
  for (const n of [2, 4, 37]) {
    for (const temperature of [0.5, 0.01]) {
      const z = tf.tidy(() => tf.mul(tf.ones([n, 16]), -2)) as tf.Tensor2D;
      assertTensorClose(value(ntXent(z, z, { temperature })), Math.log(2 * n - 1), {
        rtol: 1e-5,
        atol: 1e-6,
      });
      z.dispose();
    }
  }
});

Deno.test("ntXent is symmetric in the views and scale invariant", () => {
  const prng = pcg32(312);
  const a = randn(20, 8, prng), b = randn(20, 8, prng);
  const ab = value(ntXent(t2(a), t2(b)));
  assertTensorClose(value(ntXent(t2(b), t2(a))), ab, { rtol: 1e-5, atol: 1e-6 });
  const scaled = value(ntXent(t2(a.map((r) => r.map((v) => v * 50))), t2(b)));
  assertTensorClose(scaled, ab, { rtol: 1e-5, atol: 1e-6 });
});

Deno.test("ntXent gradients match finite differences", () => {
  const prng = pcg32(313);
  const a = t2(randn(5, 4, prng)), b = t2(randn(5, 4, prng));
  const tol = { eps: 1e-2, rtol: 2e-2, atol: 2e-3 };
  checkGradient((x) => ntXent(x as tf.Tensor2D, b), a, tol);
  checkGradient((x) => ntXent(a, x as tf.Tensor2D, { temperature: 1 }), b, tol);
  tf.dispose([a, b]);
});

Deno.test("ntXent stays finite at temperature 0.01 with large inputs", () => {
  const prng = pcg32(314);
  const a = randn(40, 8, prng, 1e5), b = randn(40, 8, prng);
  tf.tidy(() => {
    assertTensorClose(ntXent(t2(a), t2(b), { temperature: 0.01 }), refNtXent(a, b, 0.01), {
      rtol: 1e-3,
      atol: 1e-3,
    });
    const g = tf.grad((x: tf.Tensor) => ntXent(x as tf.Tensor2D, t2(b), { temperature: 0.01 }))(
      t2(a),
    );
    assert.ok(g.dataSync().every(Number.isFinite));
  });
});

Deno.test("ntXent rejects bad inputs", () => {
  const a = tf.zeros([4, 3]) as tf.Tensor2D;
  assert.throws(() => ntXent(a, tf.zeros([5, 3]) as tf.Tensor2D), {
    name: "TypeError",
    message: "Cannot compute NT-Xent: z1 and z2 must have the same shape, received [4,3] and [5,3]",
  });
  assert.throws(() => ntXent(tf.zeros([4]) as unknown as tf.Tensor2D, a), TypeError);
  assert.throws(() => ntXent(a, a, { temperature: 0 }), RangeError);
  assert.throws(() => ntXent(a, a, { temperature: "0.5" as unknown as number }), TypeError);
  assert.throws(
    () => ntXent(tf.zeros([0, 3]) as tf.Tensor2D, tf.zeros([0, 3]) as tf.Tensor2D),
    RangeError,
  );
  assert.throws(
    () => ntXent(tf.zeros([4, 0]) as tf.Tensor2D, tf.zeros([4, 0]) as tf.Tensor2D),
    RangeError,
  );
});

Deno.test("ntXent leaks no tensors", async () => {
  const prng = pcg32(315);
  const a = t2(randn(8, 4, prng)), b = t2(randn(8, 4, prng));
  await assertNoLeak(() => ntXent(a, b));
  await assertNoLeak(() => tf.grad((x: tf.Tensor) => ntXent(x as tf.Tensor2D, b))(a));
  tf.dispose([a, b]);
});
