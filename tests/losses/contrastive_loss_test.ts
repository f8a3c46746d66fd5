import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { contrastiveLoss } from "../../losses/mod.ts";
import { assertNoLeak, assertTensorClose, checkGradient, pcg32, setupBackend } from "../_utils.ts";
import { randn, refContrastive } from "./_reference.ts";

await setupBackend();
const t2 = (m: number[][]) => tf.tensor2d(m);

Deno.test("contrastiveLoss matches the float64 reference (Hadsell et al. 2006, PML conventions)", () => {
  const prng = pcg32(371);
  const cases: [number, number, "euclidean" | "cosine"][] = [
    [0, 1, "euclidean"],
    [0.3, 1.2, "euclidean"],
    [0, 1, "cosine"],
    [0.2, 0.8, "cosine"],
  ];
  for (const [posMargin, negMargin, distance] of cases) {
    const n = 16;
    const e = randn(n, 5, prng);
    const labels = Array.from({ length: n }, () => Math.floor(prng() * 4));
    tf.tidy(() =>
      assertTensorClose(
        contrastiveLoss(t2(e), tf.tensor1d(labels, "int32"), { posMargin, negMargin, distance }),
        refContrastive(e, labels, posMargin, negMargin, distance),
        { rtol: 1e-4, atol: 1e-5 },
        `${posMargin}/${negMargin}/${distance}:`,
      )
    );
  }
});

Deno.test("contrastiveLoss closed forms and scale invariance", () => {
  tf.tidy(() => {
    // Positive pairs at distance sqrt(2), negatives far beyond the margin: loss = sqrt(2).
    const e = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, -1], [0, 0, -5]]);
    const labels = tf.tensor1d([0, 0, 1, 1], "int32");
    const base = contrastiveLoss(e, labels, { negMargin: 1 });
    // pairs (2,3) are identical: pos term 0 there; pairs (0,1): sqrt2 -> mean over non-zero sqrt2
    assertTensorClose(base, Math.SQRT2, { rtol: 1e-5, atol: 1e-5 });
    const scaled = contrastiveLoss(tf.mul(e, 4) as tf.Tensor2D, labels, { negMargin: 1 });
    assertTensorClose(scaled, base.dataSync()[0], { rtol: 1e-6, atol: 1e-6 });
    // Only one label: no negative pairs, only the positive part.
    const one = tf.tensor1d([3, 3, 3, 3], "int32");
    assert.ok(Number.isFinite(contrastiveLoss(e, one).dataSync()[0]));
  });
});

Deno.test("contrastiveLoss gradients match finite differences", () => {
  const prng = pcg32(372);
  const e = t2(randn(7, 3, prng));
  const labels = tf.tensor1d([0, 0, 1, 1, 2, 0, 1], "int32");
  const tol = { eps: 1e-3, rtol: 3e-2, atol: 3e-3 };
  checkGradient(
    (x) => contrastiveLoss(x as tf.Tensor2D, labels, { posMargin: 0.1, negMargin: 1.2 }),
    e,
    tol,
  );
  checkGradient((x) => contrastiveLoss(x as tf.Tensor2D, labels, { distance: "cosine" }), e, tol);
  tf.dispose([e, labels]);
});

Deno.test("contrastiveLoss validates inputs and leaks nothing", async () => {
  const e = tf.ones([3, 2]) as tf.Tensor2D;
  const labels = tf.tensor1d([0, 1, 1], "int32");
  assert.throws(() => contrastiveLoss(e, tf.tensor1d([0, 1], "int32")), {
    name: "TypeError",
    message:
      "Cannot compute contrastive loss: labels must have shape [3] (one per embedding), received [2]",
  });
  assert.throws(() => contrastiveLoss(e, tf.tensor1d([0, 1, 1]) as tf.Tensor1D), TypeError);
  assert.throws(() => contrastiveLoss(e, labels, { negMargin: Infinity }), RangeError);
  assert.throws(() => contrastiveLoss(e, labels, { distance: "dot" as "cosine" }), RangeError);
  await assertNoLeak(() => contrastiveLoss(e, labels));
  await assertNoLeak(() => tf.grad((x: tf.Tensor) => contrastiveLoss(x as tf.Tensor2D, labels))(e));
  tf.dispose([e, labels]);
});
