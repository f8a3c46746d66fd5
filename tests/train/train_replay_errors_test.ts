/**
 * `train()`'s loop head (issue 17, sixth mutation pass on train/train.ts 640-687, where these
 * survived): a resumed run whose source has no saved position (a plain list, a factory without
 * `position`, or a non-factory source that has one) replays the source past the steps already
 * done, so its losses equal the uninterrupted run's; `evaluateAtStart` does not evaluate a resumed
 * run; a method's `trainableAt` limits the step's gradients to the variables it names; an error
 * in a step reaches the caller as it was thrown, with nothing leaked.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import type { Method, StepContext } from "../../methods/types.ts";
import { train, type TrainBatch } from "../../train/mod.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

interface Nets {
  a: tf.Variable;
  b: tf.Variable;
}

/** Loss sum((a - m)^2) + sum((b + m)^2), m = the view's mean: each batch gives its own loss. */
function toy(
  options: {
    trainableAt?: (n: Nets, c: StepContext) => tf.Variable[];
    fail?: number;
  } = {},
): Method<Nets, Record<string, never>> {
  return {
    name: "toy",
    views: (images) => [tf.clone(images)],
    step: (nets, views, state, context) => {
      if (context.step === options.fail) throw new Error("step failed on purpose");
      return tf.tidy(() => {
        const m = tf.mean(views[0]);
        const loss = tf.add(
          tf.sum(tf.square(tf.sub(nets.a, m))),
          tf.sum(tf.square(tf.add(nets.b, m))),
        );
        return { loss: loss as tf.Scalar, metrics: {}, state };
      });
    },
    trainable: (nets) => [nets.a, nets.b],
    ...(options.trainableAt ? { trainableAt: options.trainableAt } : {}),
  };
}

const BATCHES: TrainBatch[] = Array.from({ length: 8 }, (_, i) => ({
  images: Uint8Array.from([10 * i, 255 - 20 * i]),
  shape: [2, 1, 1, 1] as [number, number, number, number],
}));

const nets = (): Nets => ({ a: tf.variable(tf.tensor1d([2])), b: tf.variable(tf.tensor1d([0])) });

/** A plain (non-factory) source with a `position()` that train() saves but cannot hand back. */
function withPosition(): AsyncIterable<TrainBatch> & { position(): unknown } {
  let i = 0;
  return {
    position: () => ({ i }),
    async *[Symbol.asyncIterator]() {
      for (; i < BATCHES.length;) yield BATCHES[i++];
    },
  };
}

const SOURCES: [string, () => unknown][] = [
  ["a plain list", () => BATCHES],
  ["a factory without position", () => () => BATCHES],
  ["a plain source with position()", () => withPosition()],
];

for (const [what, source] of SOURCES) {
  Deno.test(`resume over ${what} replays the batches already used: the uninterrupted losses`, async () => {
    const dir = await Deno.makeTempDir();
    const options = {
      optimizer: "sgd" as const,
      momentum: 0,
      lr: 0.1,
      schedule: "constant" as const,
      progress: false,
      outDir: dir,
    };
    const run = async (steps: number, resume: boolean, evaluated: number[]) => {
      const n = nets();
      const r = await train(
        { method: toy(), nets: n, state: {} },
        source() as Iterable<TrainBatch>,
        {
          ...options,
          steps,
          resume,
          checkpointEvery: resume ? 0 : 2,
          evaluateAtStart: true,
          evaluateEvery: 100,
          evaluate: (_n, c) => (evaluated.push(c.step), Promise.resolve({ x: 0 })),
        },
      );
      tf.dispose([n.a, n.b]);
      return r.history.map((h) => h.loss as number);
    };
    try {
      const whole = await run(6, false, []);
      await Deno.remove(dir, { recursive: true });
      await Deno.mkdir(dir);
      assert.deepEqual(await run(3, false, []), whole.slice(0, 3));
      const evaluated: number[] = [];
      const rest = await run(6, true, evaluated);
      assert.deepEqual(rest, whole.slice(3), what);
      assert.deepEqual(evaluated, [6], "no evaluation at the resumed start, one at the end");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("trainableAt: a step updates only the variables it names", async () => {
  const n = nets();
  const seen: [number, number][] = [];
  await train(
    {
      method: toy({ trainableAt: (m, c) => (c.step % 2 === 0 ? [m.a] : [m.b]) }),
      nets: n,
      state: {},
    },
    BATCHES,
    {
      steps: 4,
      optimizer: "sgd",
      momentum: 0,
      lr: 0.1,
      progress: false,
      onStep: () => void seen.push([n.a.dataSync()[0], n.b.dataSync()[0]]),
    },
  );
  const start: [number, number] = [2, 0];
  [start, ...seen].slice(0, 4).forEach((before, s) => {
    const after = seen[s];
    const moved = s % 2 === 0 ? 0 : 1, kept = 1 - moved;
    assert.notEqual(after[moved], before[moved], `step ${s} moves its variable`);
    assert.equal(after[kept], before[kept], `step ${s} leaves the other`);
  });
  tf.dispose([n.a, n.b]);
});

Deno.test("an error in a step reaches the caller unchanged, nothing leaked", async () => {
  const n = nets();
  const before = tf.memory().numTensors;
  await assert.rejects(
    () =>
      train({ method: toy({ fail: 2 }), nets: n, state: {} }, BATCHES, {
        steps: 4,
        progress: false,
      }),
    { name: "Error", message: "step failed on purpose" },
  );
  assert.equal(tf.memory().numTensors, before, "images and views freed");
  assert.equal(n.a.isDisposed, false);
  tf.dispose([n.a, n.b]);
});
