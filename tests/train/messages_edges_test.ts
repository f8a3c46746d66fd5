/**
 * Exact messages and edge values of the schedule, the clipping and SGD (issue 17: the existing
 * tests check the error class only, so a message naming the wrong option passed them; survivors
 * of `deno task mutate train/schedule.ts train/clip.ts train/sgd.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { clipByGlobalNorm, lrSchedule, sgd } from "../../train/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";

await setupBackend();

const range = (message: string) => ({ name: "RangeError", message });

Deno.test("lrSchedule: every refused option is named with the value received", () => {
  assert.throws(
    () => lrSchedule({ name: "linear" as never, lr: 1, totalSteps: 1 }),
    range('Unknown schedule: expected one of constant, cosine, step, received "linear"'),
  );
  assert.throws(
    () => lrSchedule({ lr: Infinity, totalSteps: 10 }),
    range("Cannot build a schedule: lr must be finite and >= 0, received Infinity"),
  );
  assert.throws(
    () => lrSchedule({ lr: -1, totalSteps: 10 }),
    range("Cannot build a schedule: lr must be finite and >= 0, received -1"),
  );
  assert.throws(
    () => lrSchedule({ lr: 1, totalSteps: 2.5 }),
    range("Cannot build a schedule: totalSteps must be a positive integer, received 2.5"),
  );
  assert.throws(
    () => lrSchedule({ lr: 1, totalSteps: 10, warmupSteps: -1 }),
    range("Cannot build a schedule: warmupSteps must be an integer in [0, 10], received -1"),
  );
  assert.throws(
    () => lrSchedule({ lr: 1, totalSteps: 10, minLr: 2 }),
    range("Cannot build a schedule: minLr must be in [0, 1], received 2"),
  );
  assert.throws(
    () => lrSchedule({ lr: 1, totalSteps: 10, minLr: -0.1 }),
    range("Cannot build a schedule: minLr must be in [0, 1], received -0.1"),
  );
  assert.throws(
    () => lrSchedule({ name: "step", lr: 1, totalSteps: 10, gamma: 0 }),
    range("Cannot build a schedule: gamma must be > 0, received 0"),
  );
});

Deno.test("lrSchedule edges: cosine by default, all-warmup runs, minLr = lr, lr 0", () => {
  // the default is the cosine (a constant or step schedule would be 1 at the middle)
  const d = lrSchedule({ lr: 1, totalSteps: 10 });
  assertTensorClose([d(0), d(5), d(10)], [1, 0.5, 0], { rtol: 1e-12, atol: 1e-15 });
  // warmup over every step: the peak at the last step, then the cosine floor (span >= 1)
  const w = lrSchedule({ lr: 0.5, totalSteps: 4, warmupSteps: 4, minLr: 0.1 });
  assertTensorClose([w(0), w(3), w(4), w(9)], [0.125, 0.5, 0.5, 0.1], { rtol: 1e-12, atol: 0 });
  const flat = lrSchedule({ lr: 0.3, totalSteps: 5, minLr: 0.3 });
  assert.deepEqual([flat(0), flat(4)], [0.3, 0.3]);
  assert.equal(lrSchedule({ lr: 0, totalSteps: 3, name: "constant" })(1), 0);
});

Deno.test("clipByGlobalNorm: message, no gradients at all, a norm exactly at the bound", () => {
  assert.throws(
    () => clipByGlobalNorm([], -1),
    range("Cannot clip gradients: maxNorm must be > 0, received -1"),
  );
  assert.throws(() => clipByGlobalNorm([], NaN), { name: "RangeError", message: /received NaN$/ });
  const none = clipByGlobalNorm([null, null], 1);
  assert.deepEqual(none, { grads: [null, null], norm: 0 });
  const a = tf.tensor1d([3, 4]);
  const at = clipByGlobalNorm([a], 5);
  assert.equal(at.norm, 5);
  assertTensorClose(at.grads[0]!, [3, 4], { rtol: 0, atol: 0 });
  assert.notEqual(at.grads[0], a, "a copy the caller may dispose");
  tf.dispose([a, at.grads[0]!]);
});

Deno.test("sgd: messages; momentum 0 is plain gradient descent with no slot", () => {
  const w = tf.variable(tf.tensor1d([1, -2]));
  assert.throws(
    () => sgd([w], { momentum: 1 }),
    range("Cannot create sgd: momentum must be in [0, 1), received 1"),
  );
  assert.throws(
    () => sgd([w], { momentum: -0.1 }),
    range("Cannot create sgd: momentum must be in [0, 1), received -0.1"),
  );
  assert.throws(
    () => sgd([w], { weightDecay: -1 }),
    range("Cannot create sgd: weightDecay must be >= 0, received -1"),
  );
  assert.throws(
    () => sgd([w], { nesterov: true, momentum: 0 }),
    range("Cannot create sgd: nesterov needs momentum > 0, received 0"),
  );
  const opt = sgd([w], { momentum: 0 });
  assert.equal(opt.name, "sgd");
  const state = opt.getState();
  assert.deepEqual(state.slots, {}, "no momentum buffer to save at momentum 0");
  const g = tf.tensor1d([0.5, 1]);
  opt.apply([g], 0.1);
  opt.apply([g], 0.1);
  // two plain steps: w - 2 * 0.1 * g
  assertTensorClose(w, [0.9, -2.2], { rtol: 1e-6, atol: 0 });
  tf.dispose([g, w]);
});
