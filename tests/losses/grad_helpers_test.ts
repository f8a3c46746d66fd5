/**
 * `losses/_grad.ts`'s `matMulT` and `matMulTConst` on cpu and on wasm: values and gradients against
 * plain products, and which path ran, by kernel counts (wasm transposes explicitly, cpu never). On
 * cpu both paths give the same numbers, so before this test every mutant of the wasm path survived
 * `deno task mutate losses/_grad.ts` (13 of 28).
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { useBackend } from "../../backend/use_backend.ts";
import { matMulT, matMulTConst } from "../../losses/_grad.ts";
import { assertTensorClose } from "../_utils.ts";
import { kernels } from "./_ops_profile.ts";

const A = [[1, 2, -1], [0.5, -3, 2]];
const B = [[2, 0, 1], [-1, 1, 1], [0, 4, -2], [3, -1, 0.5]];
const W = [[1, -2, 0.5, 3], [2, 1, -1, 0]];
const tol = { rtol: 1e-5, atol: 1e-5 };

/** Value and gradients of sum(W ∘ f(a, b)). */
function valueAndGrads(f: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D): () => tf.Tensor[] {
  return () =>
    tf.tidy(() => {
      const w = tf.tensor2d(W);
      const g = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(f(a as tf.Tensor2D, b as tf.Tensor2D), w))
      )([tf.tensor2d(A), tf.tensor2d(B)]);
      return [f(tf.tensor2d(A), tf.tensor2d(B)), ...g.grads];
    });
}

const abT = A.map((r) => B.map((s) => r.reduce((x, v, k) => x + v * s[k], 0)));
const dA = A.map((_, i) => A[0].map((_, k) => W[i].reduce((x, w, j) => x + w * B[j][k], 0)));
const dB = B.map((_, j) => A[0].map((_, k) => W.reduce((x, w, i) => x + w[j] * A[i][k], 0)));

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`${backend} matMulT and matMulTConst: a·bᵀ, their gradients, transposes only on wasm`, async () => {
    await useBackend(backend, { quiet: true });
    try {
      const [v, da, db] = valueAndGrads(matMulT)();
      assertTensorClose(v, abT, tol);
      assertTensorClose(da, dA, tol);
      assertTensorClose(db, dB, tol);
      tf.dispose([v, da, db]);
      const [vc, dac, dbc] = valueAndGrads(matMulTConst)();
      assertTensorClose(vc, abT, tol);
      assertTensorClose(dac, dA, tol);
      assertTensorClose(dbc, B.map((r) => r.map(() => 0)), { rtol: 0, atol: 0 });
      tf.dispose([vc, dac, dbc]);
      // on wasm: one per forward a·bᵀ (two: the value and the taped one) and one for dyᵀ·a; the constant
      // b has no backward product
      const plain = await kernels(valueAndGrads(matMulT));
      const constant = await kernels(valueAndGrads(matMulTConst));
      const wasm = backend === "wasm";
      assert.equal(plain.get("Transpose") ?? 0, wasm ? 3 : 0, "matMulT transposes");
      assert.equal(constant.get("Transpose") ?? 0, wasm ? 2 : 0, "matMulTConst transposes");
    } finally {
      await useBackend("cpu", { quiet: true });
    }
  });
}
