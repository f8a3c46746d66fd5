import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { mocoInfoNce } from "../../losses/mod.ts";
import { assertNoLeak, assertTensorClose, checkGradient, pcg32, setupBackend } from "../_utils.ts";
import { randn, refMoco } from "./_reference.ts";

await setupBackend();
const t2 = (m: number[][]) => tf.tensor2d(m);

Deno.test("mocoInfoNce matches the float64 reference (MoCo Algorithm 1)", () => {
  const prng = pcg32(321);
  for (const [n, K, d, tau] of [[8, 32, 16, 0.2], [3, 1, 4, 0.07], [16, 100, 8, 1]]) {
    const q = randn(n, d, prng), k = randn(n, d, prng), queue = randn(K, d, prng, 5);
    tf.tidy(() => {
      assertTensorClose(
        mocoInfoNce(t2(q), t2(k), t2(queue), { temperature: tau }),
        refMoco(q, k, queue, tau),
        { rtol: 1e-4, atol: 1e-5 },
      );
    });
  }
  const q = randn(4, 3, prng), k = randn(4, 3, prng), queue = randn(9, 3, prng);
  tf.tidy(() =>
    assertTensorClose(mocoInfoNce(t2(q), t2(k), t2(queue)), refMoco(q, k, queue, 0.2), {
      rtol: 1e-4,
      atol: 1e-5,
    })
  );
});

Deno.test("mocoInfoNce closed form: keys equal queries, queue orthogonal -> log(1 + K e^(-1/τ))", () => {
  const K = 6, tau = 0.2;
  tf.tidy(() => {
    const q = tf.tensor2d([[1, 0, 0, 0], [2, 0, 0, 0]]);
    const queue = tf.tidy(() => tf.tile(tf.tensor2d([[0, 1, 0, 0]]), [K, 1])) as tf.Tensor2D;
    assertTensorClose(
      mocoInfoNce(q, q, queue, { temperature: tau }),
      Math.log(1 + K * Math.exp(-1 / tau)),
      { rtol: 1e-5, atol: 1e-6 },
    );
  });
});

Deno.test("mocoInfoNce: gradient flows into q only (k and queue are stopped)", () => {
  const prng = pcg32(322);
  const q = t2(randn(5, 4, prng)), k = t2(randn(5, 4, prng)), queue = t2(randn(7, 4, prng));
  const tol = { eps: 1e-2, rtol: 2e-2, atol: 2e-3 };
  checkGradient((x) => mocoInfoNce(x as tf.Tensor2D, k, queue), q, tol);
  tf.tidy(() => {
    const [gq, gk, gQueue] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      mocoInfoNce(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D)
    )([q, k, queue]);
    assert.ok(tf.max(tf.abs(gq)).dataSync()[0] > 1e-3);
    assert.equal(tf.max(tf.abs(gk)).dataSync()[0], 0);
    assert.equal(tf.max(tf.abs(gQueue)).dataSync()[0], 0);
  });
  tf.dispose([q, k, queue]);
});

Deno.test("mocoInfoNce is finite at temperature 0.01 and huge inputs, and leaks nothing", async () => {
  const prng = pcg32(323);
  const q = randn(8, 4, prng, 1e6), k = randn(8, 4, prng), queue = randn(50, 4, prng, 1e-3);
  tf.tidy(() => {
    assertTensorClose(
      mocoInfoNce(t2(q), t2(k), t2(queue), { temperature: 0.01 }),
      refMoco(q, k, queue, 0.01),
      { rtol: 1e-3, atol: 1e-3 },
    );
  });
  const tq = t2(q), tk = t2(k), tu = t2(queue);
  await assertNoLeak(() => mocoInfoNce(tq, tk, tu));
  await assertNoLeak(() => tf.grad((x: tf.Tensor) => mocoInfoNce(x as tf.Tensor2D, tk, tu))(tq));
  tf.dispose([tq, tk, tu]);
});

Deno.test("mocoInfoNce rejects bad inputs", () => {
  const q = tf.zeros([4, 8]) as tf.Tensor2D;
  assert.throws(() => mocoInfoNce(q, tf.zeros([4, 7]) as tf.Tensor2D, q), TypeError);
  assert.throws(() => mocoInfoNce(q, q, tf.zeros([10, 7]) as tf.Tensor2D), {
    name: "TypeError",
    message: /queue must have shape \[K, 8\].*received \[10,7\]/,
  });
  assert.throws(() => mocoInfoNce(q, q, tf.zeros([10]) as unknown as tf.Tensor2D), TypeError);
  assert.throws(() => mocoInfoNce(q, q, tf.zeros([0, 8]) as tf.Tensor2D), RangeError);
  assert.throws(() => mocoInfoNce(q, q, q, { temperature: -0.2 }), RangeError);
});
