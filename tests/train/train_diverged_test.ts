/**
 * `train()`'s stop on a non-finite gradient norm while the loss is still finite (issue 17, sixth
 * mutation pass on train/train.ts 688-722: the error's quantity and value survived, since only a
 * NaN loss was tested): the error names the gradient norm and its value, the step, and the last
 * good checkpoint; the update of that step is not applied and nothing leaks.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import type { Method } from "../../methods/types.ts";
import { train, type TrainBatch, TrainingDivergedError } from "../../train/mod.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

interface Nets {
  w: tf.Variable;
}

/**
 * Loss 0.5 ||w - t||^2, except at step `bad`: sum(sqrt(0 * w)) = 0, whose gradient is
 * 0 * (1 / (2 sqrt(0))) = NaN, or sum(sqrt(w - c)) + sum(w) with the constant c = w (gradient
 * +Infinity).
 */
function method(bad: number, kind: "nan" | "inf"): Method<Nets, Record<string, never>> {
  return {
    name: "quadratic",
    views: (images) => [tf.clone(images)],
    step: (nets, _views, state, context) =>
      tf.tidy(() => {
        const w = nets.w;
        const loss = context.step !== bad
          ? tf.mul(0.5, tf.sum(tf.square(tf.sub(w, tf.tensor1d([1, -2])))))
          : kind === "nan"
          ? tf.sum(tf.sqrt(tf.mul(w, 0)))
          : tf.add(tf.sum(tf.sqrt(tf.sub(w, tf.tensor1d(w.dataSync())))), tf.sum(w));
        return { loss: loss as tf.Scalar, metrics: {}, state };
      }),
    trainable: (nets) => [nets.w],
  };
}

function* batches(): Generator<TrainBatch> {
  for (let i = 0;; i++) yield { images: Uint8Array.from([i, 1]), shape: [2, 1, 1, 1] };
}

for (const kind of ["nan", "inf"] as const) {
  Deno.test(`a finite loss with ${kind === "nan" ? "a NaN" : "an infinite"} gradient stops with TrainingDivergedError naming the gradient norm`, async () => {
    const dir = await Deno.makeTempDir();
    const nets = { w: tf.variable(tf.tensor1d([0, 0])) };
    const before = tf.memory().numTensors;
    const seen: number[][] = [];
    let caught: unknown;
    try {
      await train({ method: method(3, kind), nets, state: {} }, batches(), {
        steps: 6,
        optimizer: "sgd",
        momentum: 0,
        lr: 0.1,
        schedule: "constant",
        outDir: dir,
        checkpointEvery: 2,
        progress: false,
        onStep: () => void seen.push(Array.from(nets.w.dataSync())),
      });
    } catch (e) {
      caught = e;
    }
    try {
      assert.ok(caught instanceof TrainingDivergedError, String(caught));
      assert.equal(caught.step, 3);
      assert.equal(caught.quantity, "gradient norm");
      if (kind === "nan") assert.ok(Number.isNaN(caught.value), `value ${caught.value}`);
      else assert.equal(caught.value, Infinity);
      assert.equal(caught.checkpoint, `${dir}/checkpoint`);
      assert.equal(caught.checkpointStep, 2);
      assert.match(
        caught.message,
        new RegExp(`^Training diverged at step 3: the gradient norm is ${caught.value}; `),
      );
      // three updates of w -= 0.1 (w - t), then none: the bad step's gradient was not applied
      let w = [0, 0];
      for (let s = 0; s < 3; s++) w = w.map((v, i) => v - 0.1 * (v - [1, -2][i]));
      assert.equal(seen.length, 3);
      Array.from(nets.w.dataSync()).forEach((v, i) =>
        assert.ok(Math.abs(v - w[i]) < 1e-6, `w[${i}] ${v} vs ${w[i]}`)
      );
      assert.equal(tf.memory().numTensors, before, "nothing leaked on the error path");
    } finally {
      nets.w.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
