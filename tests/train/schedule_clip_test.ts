import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { clipByGlobalNorm, lrSchedule } from "../../train/mod.ts";
import { assertNoLeak, assertTensorClose, setupBackend } from "../_utils.ts";

await setupBackend();

Deno.test("cosine schedule: linear warmup to the peak, then half a cosine to minLr", () => {
  const lr = lrSchedule({ name: "cosine", lr: 0.4, totalSteps: 100, warmupSteps: 20, minLr: 0.04 });
  assertTensorClose([lr(0), lr(9), lr(19)], [0.02, 0.2, 0.4], { rtol: 1e-12, atol: 0 });
  for (const s of [20, 35, 60, 99]) {
    const expected = 0.04 + 0.36 * 0.5 * (1 + Math.cos(Math.PI * (s - 20) / 80));
    assertTensorClose(lr(s), expected, { rtol: 1e-12, atol: 0 }, `step ${s}`);
  }
  assertTensorClose(lr(60), 0.22, { rtol: 1e-12, atol: 0 }); // the midpoint
  assertTensorClose(lr(100), 0.04, { rtol: 1e-12, atol: 0 });
});

Deno.test("constant and step schedules", () => {
  const c = lrSchedule({ name: "constant", lr: 0.3, totalSteps: 10, warmupSteps: 2 });
  assert.deepEqual([c(0), c(1), c(2), c(9)], [0.15, 0.3, 0.3, 0.3]);
  const st = lrSchedule({ name: "step", lr: 1, totalSteps: 100, milestones: [30, 60], gamma: 0.5 });
  assert.deepEqual([st(0), st(29), st(30), st(59), st(60), st(99)], [1, 1, 0.5, 0.5, 0.25, 0.25]);
  const d = lrSchedule({ name: "step", lr: 1, totalSteps: 10 }); // milestones at 60% and 80%
  assertTensorClose([d(5), d(6), d(8)], [1, 0.1, 0.01], { rtol: 1e-12, atol: 0 });
});

Deno.test("schedules reject unknown names and out-of-range values", () => {
  assert.throws(
    () => lrSchedule({ name: "linear" as "cosine", lr: 1, totalSteps: 1 }),
    (e: unknown) => e instanceof RangeError && /received "linear"/.test(e.message),
  );
  assert.throws(() => lrSchedule({ lr: -1, totalSteps: 10 }), RangeError);
  assert.throws(() => lrSchedule({ lr: 1, totalSteps: 0 }), RangeError);
  assert.throws(() => lrSchedule({ lr: 1, totalSteps: 10, warmupSteps: 11 }), RangeError);
});

Deno.test("clipByGlobalNorm scales all gradients by maxNorm/globalNorm only when above", async () => {
  const a = tf.tensor2d([[1, 2], [2, 0]]); // |a|^2 = 9
  const b = tf.tensor1d([4, 0, 0]); // |b|^2 = 16 -> global 5
  const clipped = clipByGlobalNorm([a, null, b], 2.5);
  assert.equal(clipped.norm, 5);
  assert.equal(clipped.grads[1], null);
  assertTensorClose(clipped.grads[0]!, [[0.5, 1], [1, 0]], { rtol: 1e-6, atol: 0 });
  assertTensorClose(clipped.grads[2]!, [2, 0, 0], { rtol: 1e-6, atol: 0 });
  const untouched = clipByGlobalNorm([a, b], 10);
  assertTensorClose(untouched.grads[0]!, a, { rtol: 0, atol: 0 });
  assert.equal(untouched.norm, 5);
  await assertNoLeak(() => clipByGlobalNorm([a, b], 1).grads);
  assert.throws(() => clipByGlobalNorm([a], 0), RangeError);
  tf.dispose([a, b, ...clipped.grads.filter((g) => g !== null), ...untouched.grads as tf.Tensor[]]);
});
