import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { negativeCosine } from "../../losses/mod.ts";
import { assertNoLeak, assertTensorClose, checkGradient, pcg32, setupBackend } from "../_utils.ts";
import { randn, refNegativeCosine } from "./_reference.ts";

await setupBackend();
const t2 = (m: number[][]) => tf.tensor2d(m);

Deno.test("negativeCosine matches the float64 reference and its bounds", () => {
  const prng = pcg32(341);
  const p = randn(20, 9, prng), z = randn(20, 9, prng, 100);
  tf.tidy(() => {
    assertTensorClose(negativeCosine(t2(p), t2(z)), refNegativeCosine(p, z), {
      rtol: 1e-5,
      atol: 1e-6,
    });
    assertTensorClose(negativeCosine(t2(p), t2(p.map((r) => r.map((v) => 3 * v)))), -1, {
      rtol: 0,
      atol: 1e-6,
    });
    assertTensorClose(negativeCosine(t2(p), t2(p.map((r) => r.map((v) => -v)))), 1, {
      rtol: 0,
      atol: 1e-6,
    });
  });
});

Deno.test("negativeCosine: gradient reaches p only (SimSiam stop-gradient on z)", () => {
  const prng = pcg32(342);
  const p = t2(randn(6, 5, prng)), z = t2(randn(6, 5, prng));
  checkGradient((x) => negativeCosine(x as tf.Tensor2D, z), p, {
    eps: 1e-2,
    rtol: 2e-2,
    atol: 1e-3,
  });
  tf.tidy(() => {
    const [gp, gz] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      negativeCosine(a as tf.Tensor2D, b as tf.Tensor2D)
    )([p, z]);
    assert.ok(tf.max(tf.abs(gp)).dataSync()[0] > 1e-3);
    assert.equal(tf.max(tf.abs(gz)).dataSync()[0], 0);
  });
  tf.dispose([p, z]);
});

Deno.test("negativeCosine: zero rows stay finite, bad inputs throw, nothing leaks", async () => {
  const p = tf.zeros([3, 4]) as tf.Tensor2D;
  const z = tf.ones([3, 4]) as tf.Tensor2D;
  tf.tidy(() => {
    assertTensorClose(negativeCosine(p, z), 0, { rtol: 0, atol: 0 });
    const g = tf.grad((x: tf.Tensor) => negativeCosine(x as tf.Tensor2D, z))(p);
    assert.ok(g.dataSync().every(Number.isFinite));
  });
  assert.throws(() => negativeCosine(p, tf.zeros([3, 5]) as tf.Tensor2D), {
    name: "TypeError",
    message:
      "Cannot compute negative cosine: p and z must have the same shape, received [3,4] and [3,5]",
  });
  assert.throws(
    () => negativeCosine(tf.zeros([0, 4]) as tf.Tensor2D, tf.zeros([0, 4]) as tf.Tensor2D),
    RangeError,
  );
  await assertNoLeak(() => negativeCosine(z, z));
  await assertNoLeak(() => tf.grad((x: tf.Tensor) => negativeCosine(x as tf.Tensor2D, z))(z));
  tf.dispose([p, z]);
});
