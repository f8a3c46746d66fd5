import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { sinkhorn } from "../../losses/mod.ts";
import { assertNoLeak, assertTensorClose, pcg32, setupBackend } from "../_utils.ts";
import { refSinkhorn } from "./_reference.ts";

await setupBackend();

/** Scores in [-lo, lo] like cosine similarities to prototypes. */
function uniform(rows: number, cols: number, prng: () => number, range = 1): number[][] {
  return Array.from(
    { length: rows },
    () => Array.from({ length: cols }, () => range * (2 * prng() - 1)),
  );
}

function sums(q: tf.Tensor2D, axis: 0 | 1): Float32Array {
  return tf.tidy(() => tf.sum(q, axis).dataSync() as Float32Array);
}

Deno.test("sinkhorn matches SwAV's distributed_sinkhorn in float64", () => {
  const prng = pcg32(381);
  for (
    const [B, K, iterations, epsilon] of [[16, 10, 3, 0.05], [7, 30, 1, 0.05], [32, 5, 10, 0.5], [
      4,
      4,
      3,
      1,
    ]]
  ) {
    const s = uniform(B, K, prng);
    tf.tidy(() =>
      assertTensorClose(
        sinkhorn(tf.tensor2d(s), { iterations, epsilon }),
        refSinkhorn(s, iterations, epsilon),
        {
          rtol: 2e-4,
          atol: 1e-7,
        },
      )
    );
  }
  const s = uniform(12, 6, prng);
  tf.tidy(() =>
    assertTensorClose(sinkhorn(tf.tensor2d(s)), refSinkhorn(s, 3, 0.05), { rtol: 2e-4, atol: 1e-7 })
  );
});

Deno.test("sinkhorn marginals: each sample's row sums to 1; prototypes converge to B/K", () => {
  const prng = pcg32(382);
  const B = 40, K = 8;
  const s = tf.tensor2d(uniform(B, K, prng));
  for (const iterations of [1, 3]) {
    const q = sinkhorn(s, { iterations });
    // before the final x B the Q has every sample column at 1/B: rows sum to 1 after it
    assertTensorClose(sums(q, 1), new Array(B).fill(1), { rtol: 0, atol: 1e-5 });
    q.dispose();
  }
  const q = sinkhorn(s, { iterations: 300 });
  assertTensorClose(sums(q, 1), new Array(B).fill(1), { rtol: 0, atol: 1e-5 });
  assertTensorClose(sums(q, 0), new Array(K).fill(B / K), { rtol: 1e-3, atol: 0 });
  // the marginal error shrinks with iterations
  const err = (it: number) =>
    tf.tidy(() =>
      tf.max(tf.abs(tf.sub(tf.sum(sinkhorn(s, { iterations: it }), 0), B / K))).dataSync()[0]
    );
  assert.ok(err(10) < err(1), `marginal error did not shrink: ${err(1)} -> ${err(10)}`);
  tf.dispose([s, q]);
});

Deno.test("sinkhorn is stable in float32 at epsilon 0.05 (B=256, K=3000) and beyond", () => {
  const prng = pcg32(383);
  tf.tidy(() => {
    const s = tf.tensor2d(uniform(256, 3000, prng));
    const q = sinkhorn(s);
    assert.ok(q.dataSync().every(Number.isFinite), "NaN or Inf in the codes");
    assertTensorClose(sums(q, 1), new Array(256).fill(1), { rtol: 0, atol: 1e-4 });
    // scores far outside [-1, 1]: plain exp(s / 0.05) would overflow; whole prototypes underflow
    const wide = sinkhorn(tf.tensor2d(uniform(16, 50, prng, 30)), { epsilon: 0.05 });
    assert.ok(wide.dataSync().every(Number.isFinite), "NaN or Inf for wide scores");
    assertTensorClose(sums(wide, 1), new Array(16).fill(1), { rtol: 0, atol: 1e-4 });
  });
});

Deno.test("sinkhorn is shift invariant, permutation equivariant and passes no gradient", () => {
  const prng = pcg32(384);
  const raw = uniform(10, 6, prng);
  tf.tidy(() => {
    const s = tf.tensor2d(raw);
    const base = sinkhorn(s);
    assertTensorClose(sinkhorn(tf.add(s, 0.7) as tf.Tensor2D), base, { rtol: 1e-4, atol: 1e-6 });
    const perm = [3, 1, 4, 0, 9, 2, 6, 5, 8, 7];
    const permuted = sinkhorn(tf.tensor2d(perm.map((i) => raw[i])));
    const expected = base.arraySync();
    assertTensorClose(permuted, perm.map((i) => expected[i]), { rtol: 1e-4, atol: 1e-6 });
    const w = tf.tensor2d(uniform(10, 6, prng));
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(sinkhorn(x as tf.Tensor2D), w)))(s);
    assert.equal(tf.max(tf.abs(g)).dataSync()[0], 0);
  });
});

Deno.test("sinkhorn validates inputs and leaks nothing", async () => {
  const s = tf.zeros([4, 3]) as tf.Tensor2D;
  assert.throws(() => sinkhorn(tf.zeros([4]) as unknown as tf.Tensor2D), TypeError);
  assert.throws(() => sinkhorn(tf.zeros([0, 3]) as tf.Tensor2D), RangeError);
  assert.throws(() => sinkhorn(s, { epsilon: 0 }), RangeError);
  assert.throws(() => sinkhorn(s, { iterations: 0 }), RangeError);
  assert.throws(() => sinkhorn(s, { iterations: 2.5 }), RangeError);
  assert.throws(() => sinkhorn(s, { iterations: "3" as unknown as number }), TypeError);
  await assertNoLeak(() => sinkhorn(s));
  s.dispose();
});
