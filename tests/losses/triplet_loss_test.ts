import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { tripletLoss, type TripletMining } from "../../losses/mod.ts";
import { assertNoLeak, assertTensorClose, checkGradient, pcg32, setupBackend } from "../_utils.ts";
import { randn, refTriplet } from "./_reference.ts";

await setupBackend();
const t2 = (m: number[][]) => tf.tensor2d(m);
const labelsOf = (n: number, classes: number, prng: () => number) =>
  Array.from({ length: n }, () => Math.floor(prng() * classes));

Deno.test("tripletLoss matches the float64 reference for every mining and distance", () => {
  const prng = pcg32(361);
  for (const mining of ["all", "hard", "semihard"] as TripletMining[]) {
    for (const distance of ["euclidean", "cosine"] as const) {
      for (const margin of [0.05, 0.3, 1]) {
        const n = 14;
        const e = randn(n, 6, prng);
        const labels = labelsOf(n, 3, prng);
        const expected = refTriplet(e, labels, margin, mining, distance);
        tf.tidy(() => {
          const got = tripletLoss(t2(e), tf.tensor1d(labels, "int32"), {
            margin,
            mining,
            distance,
          });
          assertTensorClose(
            got,
            expected,
            { rtol: 1e-4, atol: 1e-5 },
            `${mining}/${distance}/${margin}:`,
          );
        });
      }
    }
  }
});

Deno.test("tripletLoss defaults are margin 0.05, all triplets, euclidean", () => {
  const prng = pcg32(362);
  const e = randn(12, 4, prng), labels = labelsOf(12, 2, prng);
  tf.tidy(() =>
    assertTensorClose(
      tripletLoss(t2(e), tf.tensor1d(labels, "int32")),
      refTriplet(e, labels, 0.05, "all", "euclidean"),
      { rtol: 1e-4, atol: 1e-5 },
    )
  );
});

Deno.test("tripletLoss closed forms: separated classes give 0, one class gives 0, collapse gives margin", () => {
  tf.tidy(() => {
    const e = tf.tensor2d([[1, 0], [2, 0.001], [0, 1], [0, 3]]);
    const two = tf.tensor1d([0, 0, 1, 1], "int32");
    for (const mining of ["all", "hard", "semihard"] as const) {
      assertTensorClose(tripletLoss(e, two, { margin: 0.5, mining }), 0, { rtol: 0, atol: 1e-6 });
      assertTensorClose(tripletLoss(e, tf.tensor1d([4, 4, 4, 4], "int32"), { mining }), 0, {
        rtol: 0,
        atol: 0,
      });
    }
    // All embeddings identical: every triplet has d_ap = d_an, loss = margin (all and hard).
    const same = tf.ones([5, 3]) as tf.Tensor2D;
    const labels = tf.tensor1d([0, 0, 1, 1, 2], "int32");
    for (const mining of ["all", "hard"] as const) {
      assertTensorClose(tripletLoss(same, labels, { margin: 0.3, mining }), 0.3, {
        rtol: 1e-4,
        atol: 1e-5,
      });
    }
    const g = tf.grad((x: tf.Tensor) => tripletLoss(x as tf.Tensor2D, labels))(same);
    assert.ok(
      g.dataSync().every(Number.isFinite),
      "identical embeddings gave a non-finite gradient",
    );
  });
});

Deno.test("tripletLoss gradients match finite differences", () => {
  const prng = pcg32(363);
  const e = t2(randn(8, 3, prng));
  const labels = tf.tensor1d([0, 0, 1, 1, 2, 2, 0, 1], "int32");
  const tol = { eps: 1e-3, rtol: 3e-2, atol: 3e-3 };
  for (const mining of ["all", "hard", "semihard"] as const) {
    for (const distance of ["euclidean", "cosine"] as const) {
      checkGradient(
        (x) => tripletLoss(x as tf.Tensor2D, labels, { margin: 0.5, mining, distance }),
        e,
        tol,
      );
    }
  }
  tf.dispose([e, labels]);
});

Deno.test("tripletLoss validates labels, options and shapes; leaks nothing", async () => {
  const e = tf.ones([4, 3]) as tf.Tensor2D;
  const ok = tf.tensor1d([0, 1, 0, 1], "int32");
  assert.throws(() => tripletLoss(e, tf.tensor1d([0, 1, 0, 1]) as tf.Tensor1D), {
    name: "TypeError",
    message: "Cannot compute triplet loss: labels must be int32, received float32",
  });
  assert.throws(() => tripletLoss(e, tf.tensor1d([0, 1, 0], "int32")), TypeError);
  assert.throws(
    () => tripletLoss(e, tf.zeros([4, 1], "int32") as unknown as tf.Tensor1D),
    TypeError,
  );
  assert.throws(() => tripletLoss(e, [0, 1, 0, 1] as unknown as tf.Tensor1D), TypeError);
  assert.throws(() => tripletLoss(tf.ones([4]) as unknown as tf.Tensor2D, ok), TypeError);
  assert.throws(
    () => tripletLoss(tf.ones([0, 3]) as tf.Tensor2D, tf.zeros([0], "int32") as tf.Tensor1D),
    RangeError,
  );
  assert.throws(() => tripletLoss(e, ok, { mining: "easy" as TripletMining }), RangeError);
  assert.throws(() => tripletLoss(e, ok, { distance: "l1" as "cosine" }), RangeError);
  assert.throws(() => tripletLoss(e, ok, { margin: Number.NaN }), RangeError);
  await assertNoLeak(() => tripletLoss(e, ok, { mining: "semihard" }));
  await assertNoLeak(() =>
    tf.grad((x: tf.Tensor) => tripletLoss(x as tf.Tensor2D, ok, { mining: "hard" }))(e)
  );
  tf.dispose([e, ok]);
});
