/**
 * `train()`'s throughput figures and its resume switch (issue 17, sixth mutation pass on
 * train/train.ts 538-558 and 723-752, where these survived): with a scripted clock
 * (`performance.now` advanced only inside the method's `views`), each step record's
 * imagesPerSecond is the (global) batch over the step's seconds and the result's is every image
 * over the run's seconds, alone and data-parallel; and an existing checkpoint is used only when
 * `resume` is asked for.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import type { Method } from "../../methods/types.ts";
import { train, type TrainBatch } from "../../train/mod.ts";
import { setupBackend } from "../_utils.ts";
import { passThroughRank } from "./_toy.ts";

await setupBackend();

interface Nets {
  w: tf.Variable;
}

const clock = { ms: 1000, tick: 250 };

function quadratic(): Method<Nets, Record<string, never>> {
  return {
    name: "quadratic",
    views: (images) => {
      clock.ms += clock.tick;
      return [tf.clone(images)];
    },
    step: (nets, _views, state) =>
      tf.tidy(() => ({
        loss: tf.mul(0.5, tf.sum(tf.square(tf.sub(nets.w, tf.tensor1d([1, -2]))))) as tf.Scalar,
        metrics: {},
        state,
      })),
    trainable: (nets) => [nets.w],
  };
}

function* batches(): Generator<TrainBatch> {
  for (let i = 0;; i++) yield { images: Uint8Array.from([i, 1, 2, 3]), shape: [4, 1, 1, 1] };
}

Deno.test("imagesPerSecond: the global batch over the step's seconds, and every image over the run's (scripted clock)", async () => {
  const now = performance.now;
  Object.defineProperty(performance, "now", { value: () => clock.ms, configurable: true });
  try {
    for (const distributed of [undefined, passThroughRank(0)]) {
      for (const tick of [250, 40]) {
        clock.tick = tick;
        const nets = { w: tf.variable(tf.tensor1d([0, 0])) };
        const r = await train({ method: quadratic(), nets, state: {} }, batches(), {
          steps: 3,
          optimizer: "sgd",
          lr: 0.1,
          progress: false,
          distributed,
        });
        nets.w.dispose();
        // 4 images per step in both cases (2 per rank x 2 ranks), one tick per step
        const want = 4 / (tick / 1000);
        const what = `${distributed ? "2 ranks" : "1 process"}, ${tick} ms`;
        assert.equal(r.history.length, 3);
        for (const rec of r.history) {
          assert.ok(
            Math.abs((rec.imagesPerSecond as number) - want) < 1e-6 * want,
            `${what}: ${rec.imagesPerSecond}`,
          );
        }
        assert.ok(
          Math.abs(r.imagesPerSecond - want) < 1e-6 * want,
          `${what}: ${r.imagesPerSecond}`,
        );
      }
    }
  } finally {
    Object.defineProperty(performance, "now", { value: now, configurable: true });
    clock.tick = 250;
  }
});

Deno.test("a checkpoint in outDir is resumed from only with resume: true", async () => {
  const dir = await Deno.makeTempDir();
  const run = async (steps: number, resume: boolean) => {
    const nets = { w: tf.variable(tf.tensor1d([0, 0])) };
    const r = await train({ method: quadratic(), nets, state: {} }, batches(), {
      steps,
      optimizer: "sgd",
      momentum: 0,
      lr: 0.1,
      schedule: "constant",
      outDir: dir,
      checkpointEvery: 1,
      progress: false,
      resume,
    });
    nets.w.dispose();
    return r.history.map((h) => [h.step, h.loss]);
  };
  try {
    const first = await run(3, false);
    assert.deepEqual(first.map((h) => h[0]), [0, 1, 2]);
    // the same run again over the checkpoint it left: from step 0, the same losses
    assert.deepEqual(await run(3, false), first);
    // asked to resume, it continues after step 2
    const resumed = await run(5, true);
    assert.deepEqual(resumed.map((h) => h[0]), [3, 4]);
    assert.ok((resumed[0][1] as number) < (first[2][1] as number), "from the trained weights");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
