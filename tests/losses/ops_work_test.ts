/**
 * The work `losses/_ops.ts`'s generic path promises, counted with `tf.profile`: small logits are
 * kept from the forward pass (the backward pass runs no matmul of its own for them; the 2^24
 * boundary is in `ops_keep_logits_test.ts`, a slow test); a loss without the
 * columns' term computes no column log-sum-exp; cpu multiplies by transposed operands directly
 * while wasm, whose XNNPACK matmul is several times slower on transposed operands, transposes
 * them first. Values alone cannot see any of this: the recomputed logits, the extra log-sum-exp
 * (weighed by 0) and either kind of product give the same loss and gradients.
 *
 * @module
 */
import assert from "node:assert/strict";
import { useBackend } from "../../backend/use_backend.ts";
import type { LogSumExpMatMulOptions } from "../../losses/_ops.ts";
import { kernels, run } from "./_ops_profile.ts";

Deno.test("cpu logSumExpMatMul: logits kept for the backward pass, one log-sum-exp per direction asked, no transposes", async () => {
  await useBackend("cpu", { quiet: true });
  // forward: 1 matmul (the logits); backward: da and db (db skipped for a constant b)
  const cases: [string, LogSumExpMatMulOptions, boolean, number, number][] = [
    ["rows", { scale: 2, rowWeight: 0.5 }, false, 3, 1],
    ["rows and columns", { scale: 2, rowWeight: 0.5, colWeight: 0.5 }, false, 3, 2],
    ["masked diagonal", { scale: 2, rowWeight: 0.5, maskDiagonal: true }, false, 3, 1],
    ["extra logit, constant b", { scale: 2, rowWeight: 0.5, constB: true }, true, 2, 1],
  ];
  for (const [name, options, extra, matmuls, logs] of cases) {
    const counts = await kernels(run(6, 6, 3, options, extra));
    assert.equal(counts.get("BatchMatMul"), matmuls, `${name}: matmuls`);
    assert.equal(counts.get("Log"), logs, `${name}: log-sum-exps`);
    assert.equal(counts.get("Transpose") ?? 0, 0, `${name}: transposes on cpu`);
  }
});

Deno.test("wasm logSumExpMatMul transposes its operands instead of a transposed matmul", async () => {
  await useBackend("wasm", { quiet: true });
  try {
    // a·bᵀ in the forward pass and gᵀ·a for db: one explicit transpose each (da = g·b needs none)
    const both = await kernels(run(5, 6, 3, { scale: 2, rowWeight: 0.5 }));
    assert.equal(both.get("Transpose"), 2);
    assert.equal(both.get("BatchMatMul"), 3);
    const constB = await kernels(run(5, 6, 3, { scale: 2, rowWeight: 0.5, constB: true }, true));
    assert.equal(constB.get("Transpose"), 1);
    assert.equal(constB.get("BatchMatMul"), 2);
  } finally {
    await useBackend("cpu", { quiet: true });
  }
});
