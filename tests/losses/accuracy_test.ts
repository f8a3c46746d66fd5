// Tests of infoNceAccuracy, ntXentAccuracy and mocoAccuracy against argmax references.
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { infoNceAccuracy, mocoAccuracy, ntXentAccuracy } from "../../losses/mod.ts";
import { assertNoLeak, assertTensorClose, pcg32, setupBackend } from "../_utils.ts";
import { argmax, dot, normalize, randn } from "./_reference.ts";

await setupBackend();
const t2 = (m: number[][]) => tf.tensor2d(m);

Deno.test("infoNceAccuracy, ntXentAccuracy and mocoAccuracy match argmax references", () => {
  const prng = pcg32(331);
  const n = 24, d = 6;
  // Views share a signal plus noise, so accuracies land strictly between 0 and 1.
  const base = randn(n, d, prng);
  const a = base.map((r) => r.map((v) => v + 0.9 * (prng() - 0.5) * 4));
  const b = base.map((r) => r.map((v) => v + 0.9 * (prng() - 0.5) * 4));
  const queue = randn(40, d, prng);
  const an = a.map(normalize), bn = b.map(normalize), un = queue.map(normalize);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    if (argmax(bn.map((r) => dot(an[i], r))) === i) hits++;
    if (argmax(an.map((r) => dot(bn[i], r))) === i) hits++;
  }
  const expectInfo = hits / (2 * n);
  const z = [...an, ...bn];
  hits = 0;
  for (let i = 0; i < 2 * n; i++) {
    const sims = z.map((r, j) => (j === i ? -Infinity : dot(z[i], r)));
    if (argmax(sims) === (i < n ? i + n : i - n)) hits++;
  }
  const expectNt = hits / (2 * n);
  hits = 0;
  for (let i = 0; i < n; i++) {
    if (argmax([dot(an[i], bn[i]), ...un.map((r) => dot(an[i], r))]) === 0) hits++;
  }
  const expectMoco = hits / n;
  assert.ok(expectInfo > 0 && expectInfo < 1, `degenerate test data: ${expectInfo}`);
  tf.tidy(() => {
    const tol = { rtol: 0, atol: 1e-6 };
    assertTensorClose(infoNceAccuracy(t2(a), t2(b)), expectInfo, tol);
    assertTensorClose(ntXentAccuracy(t2(a), t2(b)), expectNt, tol);
    assertTensorClose(mocoAccuracy(t2(a), t2(b), t2(queue)), expectMoco, tol);
  });
});

Deno.test("accuracies are 1 for identical views and validate like the losses", async () => {
  const prng = pcg32(332);
  const a = t2(randn(10, 16, prng));
  const far = tf.neg(a) as tf.Tensor2D; // antipodal queue: never beats the key
  tf.tidy(() => {
    assertTensorClose(infoNceAccuracy(a, a), 1, { rtol: 0, atol: 0 });
    assertTensorClose(ntXentAccuracy(a, a), 1, { rtol: 0, atol: 0 });
    assertTensorClose(mocoAccuracy(a, a, far), 1, { rtol: 0, atol: 0 });
  });
  const b = tf.zeros([10, 8]) as tf.Tensor2D;
  assert.throws(() => infoNceAccuracy(a, b), TypeError);
  assert.throws(() => ntXentAccuracy(a, a, { temperature: 0 }), RangeError);
  assert.throws(() => mocoAccuracy(a, a, b), TypeError);
  await assertNoLeak(() => [infoNceAccuracy(a, a), ntXentAccuracy(a, a), mocoAccuracy(a, a, far)]);
  tf.dispose([a, b, far]);
});
