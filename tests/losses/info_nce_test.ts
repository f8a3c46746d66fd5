import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { infoNce } from "../../losses/mod.ts";
import { assertNoLeak, assertTensorClose, checkGradient, pcg32, setupBackend } from "../_utils.ts";
import { randn, refInfoNce } from "./_reference.ts";

await setupBackend();
const t2 = (m: number[][]) => tf.tensor2d(m);
const value = (s: tf.Scalar) => {
  const v = s.dataSync()[0];
  s.dispose();
  return v;
};

Deno.test("infoNce matches the float64 reference on random inputs", () => {
  const prng = pcg32(301);
  for (const [n, d, tau] of [[8, 16, 0.1], [33, 5, 0.5], [2, 4, 0.1], [64, 32, 0.07]]) {
    const a = randn(n, d, prng), b = randn(n, d, prng, 3);
    tf.tidy(() => {
      const got = infoNce(t2(a), t2(b), { temperature: tau });
      assertTensorClose(got, refInfoNce(a, b, tau), { rtol: 1e-4, atol: 1e-5 });
    });
  }
});

Deno.test("infoNce uses temperature 0.1 by default (the source document's)", () => {
  const prng = pcg32(302);
  const a = randn(10, 6, prng), b = randn(10, 6, prng);
  assertTensorClose(value(infoNce(t2(a), t2(b))), refInfoNce(a, b, 0.1), {
    rtol: 1e-4,
    atol: 1e-5,
  });
});

Deno.test("infoNce of all-identical rows is log n", () => {
  for (const n of [2, 7, 50]) {
    const z = tf.tidy(() => tf.mul(tf.ones([n, 12]), 3)) as tf.Tensor2D;
    assertTensorClose(value(infoNce(z, z, { temperature: 0.05 })), Math.log(n), {
      rtol: 1e-5,
      atol: 1e-6,
    });
    z.dispose();
  }
});

Deno.test("infoNce is symmetric in the views and invariant to row scaling", () => {
  const prng = pcg32(303);
  const a = randn(16, 8, prng), b = randn(16, 8, prng);
  const scales = Array.from({ length: 16 }, () => 0.1 + 10 * prng());
  const ab = value(infoNce(t2(a), t2(b)));
  const ba = value(infoNce(t2(b), t2(a)));
  const scaled = value(
    infoNce(
      t2(a.map((r, i) => r.map((v) => v * scales[i]))),
      t2(b.map((r) => r.map((v) => v * 7))),
    ),
  );
  assertTensorClose(ba, ab, { rtol: 1e-5, atol: 1e-6 });
  assertTensorClose(scaled, ab, { rtol: 1e-5, atol: 1e-6 });
  // Permuting the pairs (same permutation on both views) changes nothing either.
  const perm = Array.from({ length: 16 }, (_, i) => (i * 5) % 16);
  const permuted = value(infoNce(t2(perm.map((i) => a[i])), t2(perm.map((i) => b[i]))));
  assertTensorClose(permuted, ab, { rtol: 1e-5, atol: 1e-6 });
});

Deno.test("infoNce gradients match finite differences in both inputs", () => {
  const prng = pcg32(304);
  const a = t2(randn(6, 5, prng)), b = t2(randn(6, 5, prng));
  const tol = { eps: 1e-2, rtol: 2e-2, atol: 2e-3 };
  checkGradient((x) => infoNce(x as tf.Tensor2D, b, { temperature: 0.5 }), a, tol);
  checkGradient((x) => infoNce(a, x as tf.Tensor2D, { temperature: 0.5 }), b, tol);
  tf.dispose([a, b]);
});

Deno.test("infoNce stays finite at temperature 0.01 and with huge inputs", () => {
  const prng = pcg32(305);
  const a = randn(32, 8, prng, 1e4), b = randn(32, 8, prng, 1e-4);
  tf.tidy(() => {
    const loss = infoNce(t2(a), t2(b), { temperature: 0.01 });
    assertTensorClose(loss, refInfoNce(a, b, 0.01), { rtol: 1e-3, atol: 1e-3 });
    const g = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
      infoNce(x as tf.Tensor2D, y as tf.Tensor2D, { temperature: 0.01 })
    )([t2(a), t2(b)]);
    for (const gi of g) assert.ok(gi.dataSync().every(Number.isFinite), "gradient not finite");
    // a zero row must not produce NaN either
    const z = tf.concat([tf.zeros([1, 8]), tf.slice(t2(a), [1, 0], [31, 8])]) as tf.Tensor2D;
    assert.ok(Number.isFinite(infoNce(z, t2(b), { temperature: 0.01 }).dataSync()[0]));
  });
});

Deno.test("infoNce rejects bad inputs with TypeError/RangeError", () => {
  const a = tf.zeros([8, 128]) as tf.Tensor2D, b = tf.zeros([8, 64]) as tf.Tensor2D;
  assert.throws(
    () => infoNce(a, b),
    {
      name: "TypeError",
      message:
        "Cannot compute InfoNCE: z1 and z2 must have the same shape, received [8,128] and [8,64]",
    },
  );
  const r3 = tf.zeros([2, 8, 128]) as unknown as tf.Tensor2D;
  assert.throws(() => infoNce(r3, r3), TypeError);
  assert.throws(() => infoNce([[1]] as unknown as tf.Tensor2D, a), TypeError);
  const ints = tf.zeros([8, 128], "int32") as tf.Tensor2D;
  assert.throws(() => infoNce(ints, ints), TypeError);
  for (const temperature of [0, -1, Number.NaN, Infinity]) {
    assert.throws(() => infoNce(a, a, { temperature }), RangeError);
  }
  const empty = tf.zeros([0, 128]) as tf.Tensor2D;
  assert.throws(() => infoNce(empty, empty), RangeError);
  tf.dispose([a, b, r3, ints, empty]);
});

Deno.test("infoNce leaks no tensors, forward or backward", async () => {
  const prng = pcg32(306);
  const a = t2(randn(8, 4, prng)), b = t2(randn(8, 4, prng));
  await assertNoLeak(() => infoNce(a, b));
  await assertNoLeak(() =>
    tf.grads((x: tf.Tensor, y: tf.Tensor) => infoNce(x as tf.Tensor2D, y as tf.Tensor2D))([a, b])
  );
  tf.dispose([a, b]);
});
