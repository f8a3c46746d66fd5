/**
 * `losses/_ops.ts` keeps logit matrices of up to 2^24 elements from the forward pass and
 * recomputes larger ones in the backward pass, so that NT-Xent at n = 4096 (`[8192, 8192]`)
 * fits in the wasm heap: the backward pass's matmuls, counted with `tf.profile`, at the boundary.
 * Slow (two 2^24-element losses on cpu, ~10 s of CPU), so in its own file.
 *
 * @module
 */
import assert from "node:assert/strict";
import { useBackend } from "../../backend/use_backend.ts";
import { kernels, run } from "./_ops_profile.ts";

Deno.test("cpu logSumExpMatMul keeps logits of up to 2^24 elements and recomputes larger ones", async () => {
  await useBackend("cpu", { quiet: true });
  const options = { scale: 1, rowWeight: 1 / 4096 };
  // 4096 x 4096 = 2^24 elements: kept (3 matmuls); 4097 x 4096: recomputed in the backward pass
  const at = await kernels(run(4096, 4096, 1, options));
  assert.equal(at.get("BatchMatMul"), 3, "2^24 logits: kept");
  const above = await kernels(run(4097, 4096, 1, options));
  assert.equal(above.get("BatchMatMul"), 4, "2^24 + 4096 logits: recomputed");
});
