/**
 * `train()`'s checks, defaults and bookkeeping (issue 17, fourth mutation pass on
 * train/train.ts): the exact message of every refused option and batch, the inclusive ends of
 * each range, the documented defaults (SGD with momentum 0.8, lr 0.05, a cosine schedule) against
 * explicit values, what `views` and `step` receive (bytes / 255, a copy of a tensor batch, the
 * step context, a per-step seed), each step record's figures, when evaluation and checkpoints
 * happen, and the result's fields.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import type { Method, StepContext } from "../../methods/types.ts";
import {
  readCheckpoint,
  train,
  type TrainBatch,
  type TrainOptions,
  type TrainSetup,
} from "../../train/mod.ts";
import { lrSchedule } from "../../train/schedule.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

interface Nets {
  w: tf.Variable;
}

const TARGET = [1, -2, 0.5];

interface Seen {
  views: number[][];
  seeds: number[];
  contexts: StepContext[];
}

/** loss = 0.5 ||w - t||^2 whatever the views; records what views and step receive. */
function quadratic(seen?: Seen): Method<Nets, Record<string, never>> {
  return {
    name: "quadratic",
    views: (images, seed) => {
      seen?.views.push(Array.from(images.dataSync()));
      seen?.seeds.push(seed);
      return [tf.clone(images)];
    },
    step: (nets, _views, state, context) => {
      seen?.contexts.push({ ...context });
      return tf.tidy(() => ({
        loss: tf.mul(0.5, tf.sum(tf.square(tf.sub(nets.w, tf.tensor1d(TARGET))))) as tf.Scalar,
        metrics: { w0: tf.squeeze(tf.slice(nets.w, [0], [1])) as tf.Scalar },
        state,
      }));
    },
    trainable: (nets) => [nets.w],
  };
}

function* bytes(n = Infinity): Generator<TrainBatch> {
  for (let i = 0; i < n; i++) {
    yield { images: Uint8Array.from([i % 256, 255, 0, 51]), shape: [1, 2, 2, 1] };
  }
}

async function withSetup<T>(
  fn: (setup: TrainSetup<Nets, Record<string, never>>, seen: Seen) => Promise<T>,
  w0 = [0, 0, 0],
): Promise<{ out: T; w: number[] }> {
  const seen: Seen = { views: [], seeds: [], contexts: [] };
  const nets = { w: tf.variable(tf.tensor1d(w0)) };
  try {
    const out = await fn({ method: quadratic(seen), nets, state: {} }, seen);
    return { out, w: Array.from(nets.w.dataSync()) };
  } finally {
    nets.w.dispose();
  }
}

const range = (message: string) => ({ name: "RangeError", message });
const type = (message: string) => ({ name: "TypeError", message });

Deno.test("train: every refused option named with the value received; the inclusive ends accepted", async () => {
  const cases: [Partial<TrainOptions>, { name: string; message: string }][] = [
    [{ steps: 0 }, range("Cannot train: steps must be an integer >= 1, received 0")],
    [{ steps: 1.5 }, range("Cannot train: steps must be an integer >= 1, received 1.5")],
    [
      { stepsPerEpoch: 0 },
      range("Cannot train: stepsPerEpoch must be an integer >= 1, received 0"),
    ],
    [
      { evaluateEvery: 0 },
      range("Cannot train: evaluateEvery must be an integer >= 1, received 0"),
    ],
    [
      { checkpointEvery: -1 },
      range("Cannot train: checkpointEvery must be an integer >= 0, received -1"),
    ],
    [
      { keepCheckpoints: 0 },
      range("Cannot train: keepCheckpoints must be an integer >= 1, received 0"),
    ],
    [{ seed: -2.5 }, range("Cannot train: seed must be an integer >= 0, received 2.5")],
    [
      { optimizer: "rmsprop" as "sgd" },
      range('Cannot train: optimizer must be one of sgd, adamw, lars, received "rmsprop"'),
    ],
    [{ clipNorm: 0 }, range("Cannot train: clipNorm must be a finite number > 0, received 0")],
    [
      { clipNorm: Infinity },
      range("Cannot train: clipNorm must be a finite number > 0, received Infinity"),
    ],
    [
      { weightDecay: -0.1 },
      range("Cannot train: weightDecay must be a finite number >= 0, received -0.1"),
    ],
    [{ checkpointEvery: 2 }, type("Cannot train: checkpointEvery and resume need outDir")],
    [{ resume: true }, type("Cannot train: checkpointEvery and resume need outDir")],
  ];
  for (const [options, error] of cases) {
    await withSetup((setup) =>
      assert.rejects(
        () => train(setup, bytes(3), { steps: 2, progress: false, ...options }),
        error,
        JSON.stringify(options),
      )
    );
  }
  // lrGroups' scale
  await withSetup((setup) =>
    assert.rejects(
      () =>
        train(setup, bytes(3), {
          steps: 2,
          progress: false,
          lrGroups: [{ variables: [setup.nets.w], scale: -1 }],
        }),
      range("Cannot train: lrGroups scale must be a finite number >= 0, received -1"),
    )
  );
  // the ends: steps 1, stepsPerEpoch 1, evaluateEvery 1, checkpointEvery 0, keepCheckpoints 1,
  // a negative integer seed, weightDecay 0, lrGroups scale 0
  const { out } = await withSetup((setup) =>
    train(setup, bytes(3), {
      steps: 1,
      stepsPerEpoch: 1,
      evaluateEvery: 1,
      checkpointEvery: 0,
      keepCheckpoints: 1,
      seed: -3,
      weightDecay: 0,
      lrGroups: [{ variables: [setup.nets.w], scale: 0 }],
      progress: false,
    })
  );
  assert.equal(out.steps, 1);
});

Deno.test("train: a bad setup or batch is refused with a message naming it", async () => {
  await withSetup(async (setup) => {
    for (const bad of [undefined, { ...setup.method, step: undefined }]) {
      await assert.rejects(
        () => train({ ...setup, method: bad as never }, bytes(3), { steps: 1, progress: false }),
        type("Cannot train: setup.method must have views, step and trainable"),
      );
    }
    for (const key of ["views", "trainable"]) {
      await assert.rejects(
        () =>
          train({ ...setup, method: { ...setup.method, [key]: 1 } as never }, bytes(3), {
            steps: 1,
            progress: false,
          }),
        type("Cannot train: setup.method must have views, step and trainable"),
      );
    }
    await assert.rejects(
      () =>
        train({ ...setup, method: { ...setup.method, trainable: () => [] } }, bytes(3), {
          steps: 1,
          progress: false,
        }),
      type(
        "Cannot train quadratic: trainable(nets) must return a non-empty array of tf.Variable",
      ),
    );
    const rank3 = tf.zeros([2, 2, 1]);
    await assert.rejects(
      () => train(setup, [{ images: rank3 as tf.Tensor4D }], { steps: 1, progress: false }),
      type("Cannot train: batch images must have shape [B,H,W,C], received [2,2,1]"),
    );
    rank3.dispose();
    await assert.rejects(
      () =>
        train(setup, [{ images: new Uint8Array(3), shape: [1, 2, 2, 1] }], {
          steps: 1,
          progress: false,
        }),
      type("Cannot train: batch shape [1,2,2,1] needs 4 bytes, received 3"),
    );
    for (const batch of [{ images: new Uint8Array(4) }, { images: [1, 2, 3, 4] }]) {
      await assert.rejects(
        () => train(setup, [batch as TrainBatch], { steps: 1, progress: false }),
        type(
          "Cannot train: a batch needs images as a tf.Tensor4D, or a Uint8Array with a 4-d shape",
        ),
      );
    }
    await assert.rejects(
      () => train(setup, bytes(0), { steps: 3, progress: false }),
      range("Cannot train: the data source yielded no batch (needed 3 more steps)"),
    );
  });
});

Deno.test("train defaults: SGD with momentum 0.8, lr 0.05, a cosine schedule without warmup, seed 0", async () => {
  const run = (options: Partial<TrainOptions<Nets>>) =>
    withSetup(async (setup, seen) => {
      await train(setup, bytes(), { steps: 5, progress: false, ...options });
      return seen.seeds;
    }, [3, 1, -1]);
  const explicit = await run({
    optimizer: "sgd",
    momentum: 0.8,
    nesterov: false,
    weightDecay: 0,
    lr: 0.05,
    schedule: "cosine",
    warmupSteps: 0,
    minLr: 0,
    seed: 0,
  });
  const plain = await run({});
  assert.deepEqual(plain.w, explicit.w);
  assert.deepEqual(plain.out, explicit.out, "the same view seeds");
  for (
    const other of [
      { momentum: 0.9 },
      { lr: 0.04 },
      { schedule: "constant" as const },
      { warmupSteps: 1 },
      { nesterov: true },
      { minLr: 0.01 },
    ]
  ) {
    assert.notDeepEqual((await run(other)).w, explicit.w, JSON.stringify(other));
  }
  assert.notDeepEqual((await run({ seed: 1 })).out, explicit.out, "seed 1 draws other seeds");
  // LARS takes the loop's momentum (default 0.9) and weight decay (default 1e-6)
  const lars = (o: Partial<TrainOptions<Nets>>) => run({ optimizer: "lars", lr: 1, ...o });
  const larsDefault = await lars({});
  assert.deepEqual((await lars({ momentum: 0.9, weightDecay: 1e-6 })).w, larsDefault.w);
  assert.notDeepEqual((await lars({ momentum: 0.5 })).w, larsDefault.w);
  // AdamW's default weight decay 0.01
  const adam = (o: Partial<TrainOptions<Nets>>) => run({ optimizer: "adamw", ...o });
  assert.deepEqual((await adam({})).w, (await adam({ weightDecay: 0.01 })).w);
});

Deno.test("train: larsEta and larsClip reach LARS (default trust 0.001, unclipped)", async () => {
  // one step on 0.5 ||w||^2 from w = [[3, 4]] (a kernel: adapted): g = w, ||w|| / ||g|| = 1, so
  // the local rate is eta * lr, or min(eta, lr) clipped; w becomes (1 - rate) w
  const oneStep = async (o: Partial<TrainOptions<unknown>>) => {
    const w = tf.variable(tf.tensor2d([[3, 4]]), true, "lars_train/dense/kernel");
    const setup = {
      method: {
        name: "toy",
        views: (images: tf.Tensor4D) => [tf.clone(images)],
        step: (nets: { w: tf.Variable }, _v: tf.Tensor4D[], state: Record<string, never>) => ({
          loss: tf.tidy(() => tf.mul(0.5, tf.sum(tf.square(nets.w))) as tf.Scalar),
          metrics: {},
          state,
        }),
        trainable: (nets: { w: tf.Variable }) => [nets.w],
      },
      nets: { w },
      state: {},
    } as unknown as TrainSetup<unknown, Record<string, never>>;
    await train(setup, bytes(1), {
      steps: 1,
      optimizer: "lars",
      lr: 0.5,
      momentum: 0,
      weightDecay: 0,
      schedule: "constant",
      progress: false,
      ...o,
    });
    const out = Array.from(w.dataSync());
    w.dispose();
    return out;
  };
  const expect = async (o: Partial<TrainOptions<unknown>>, rate: number) => {
    const got = await oneStep(o);
    const want = [3 * (1 - rate), 4 * (1 - rate)];
    assert.ok(got.every((x, i) => Math.abs(x - want[i]) < 1e-6), `${JSON.stringify(o)}: ${got}`);
  };
  await expect({}, 0.001 * 0.5);
  await expect({ larsEta: 0.02 }, 0.02 * 0.5);
  await expect({ larsEta: 0.02, larsClip: true }, 0.02);
  await expect({ larsEta: 0.02, larsClip: true, lr: 0.01 }, 0.01);
});

Deno.test("train: views get bytes / 255 or a copy of the tensor batch; step gets progress, step and epoch; seeds differ per step", async () => {
  const { out } = await withSetup(async (setup, seen) => {
    const r = await train(setup, bytes(), { steps: 6, stepsPerEpoch: 4, progress: false });
    return { r, seen };
  });
  const { seen } = out;
  assert.deepEqual(
    seen.views.map((v) => v.map((x) => Math.round(x * 255))),
    Array.from({ length: 6 }, (_, i) => [i, 255, 0, 51]),
  );
  assert.ok(Math.abs(seen.views[0][3] - 0.2) < 1e-7);
  assert.deepEqual(
    seen.contexts,
    Array.from({ length: 6 }, (_, i) => ({ progress: i / 6, step: i, epoch: i >= 4 ? 1 : 0 })),
  );
  assert.equal(new Set(seen.seeds).size, 6, "a fresh view seed every step");
  for (const s of seen.seeds) assert.ok(Number.isInteger(s) && s >= 0 && s < 0x7fffffff, `${s}`);
  // a batch's own epoch wins over step / stepsPerEpoch
  const { out: epochs } = await withSetup(async (setup, seen2) => {
    await train(setup, [{ images: new Uint8Array(4), shape: [1, 2, 2, 1], epoch: 7 }], {
      steps: 1,
      progress: false,
    });
    return seen2.contexts.map((c) => c.epoch);
  });
  assert.deepEqual(epochs, [7]);
  // a tensor batch: the caller's tensor is neither disposed nor changed
  const batch = tf.tensor4d([0.25, 0.5, 0.75, 1], [1, 2, 2, 1]);
  const { out: given } = await withSetup(async (setup, seen3) => {
    await train(setup, [{ images: batch }], { steps: 1, progress: false });
    return seen3.views[0];
  });
  assert.deepEqual(given, [0.25, 0.5, 0.75, 1]);
  assert.equal(batch.isDisposed, false);
  assert.deepEqual(Array.from(batch.dataSync()), [0.25, 0.5, 0.75, 1]);
  batch.dispose();
});

Deno.test("train: each step record holds the loss before the update, the scheduled lr, the gradient norm and the metrics", async () => {
  const w0 = [3, 1, -1];
  const { out } = await withSetup(
    (setup) =>
      train(setup, bytes(), {
        steps: 4,
        lr: 0.1,
        warmupSteps: 2,
        optimizer: "sgd",
        momentum: 0,
        progress: false,
      }),
    w0,
  );
  const lrAt = lrSchedule({ name: "cosine", lr: 0.1, totalSteps: 4, warmupSteps: 2, minLr: 0 });
  let w = w0.slice();
  out.history.forEach((record, s) => {
    const g = w.map((v, i) => v - TARGET[i]);
    const norm = Math.hypot(...g);
    assert.equal(record.kind, "step");
    assert.equal(record.step, s);
    assert.equal(record.epoch, 0);
    assert.ok(Math.abs((record.loss as number) - 0.5 * norm * norm) < 1e-5, `loss ${s}`);
    assert.ok(Math.abs((record.gradNorm as number) - norm) < 1e-5, `gradNorm ${s}`);
    assert.equal(record.lr, lrAt(s));
    assert.ok(Math.abs((record.w0 as number) - w[0]) < 1e-6, `metric ${s}`);
    assert.ok(Number.isFinite(record.imagesPerSecond) && (record.imagesPerSecond as number) > 0);
    w = w.map((v, i) => v - lrAt(s) * g[i]);
  });
  assert.equal(out.steps, 4);
  assert.equal(out.checkpoint, null);
  assert.equal(out.encoder, null);
  assert.deepEqual(out.evaluations, []);
  assert.ok(Number.isFinite(out.imagesPerSecond) && out.imagesPerSecond > 0);
});

Deno.test("train: evaluation every evaluateEvery steps and at the end, at step 0 only when asked, with the step's context", async () => {
  const run = (options: Partial<TrainOptions<Nets>>) =>
    withSetup(async (setup) => {
      const contexts: StepContext[] = [];
      const r = await train(setup, bytes(), {
        steps: 7,
        stepsPerEpoch: 4,
        progress: false,
        evaluate: (_nets, context) => {
          contexts.push(context);
          return Promise.resolve({ top1: context.step / 10 });
        },
        ...options,
      });
      return { r, contexts };
    });
  const every3 = (await run({ evaluateEvery: 3 })).out;
  assert.deepEqual(every3.contexts.map((c) => c.step), [3, 6, 7]);
  assert.deepEqual(every3.contexts.map((c) => c.progress), [3 / 7, 6 / 7, 1]);
  assert.deepEqual(every3.r.evaluations.map((e) => [e.kind, e.step, e.top1]), [
    ["eval", 3, 0.3],
    ["eval", 6, 0.6],
    ["eval", 7, 0.7],
  ]);
  // evaluateEvery defaults to stepsPerEpoch; evaluateAtStart adds step 0
  const perEpoch = (await run({ evaluateAtStart: true })).out;
  assert.deepEqual(perEpoch.contexts.map((c) => c.step), [0, 4, 7]);
  // the epoch of the batch just trained: step 4 closes epoch 0
  assert.deepEqual(perEpoch.contexts.map((c) => c.epoch), [0, 0, 1]);
  const noStart = (await run({})).out;
  assert.deepEqual(noStart.contexts.map((c) => c.step), [4, 7]);
});

Deno.test("train: a checkpoint every checkpointEvery steps and one at the end; the result names it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const seenAt: (number | null)[] = [];
    const { out } = await withSetup((setup) =>
      train(setup, bytes(), {
        steps: 5,
        checkpointEvery: 2,
        outDir: dir,
        progress: false,
      })
    );
    // re-run, reading the checkpoint directory before each step: steps 2 and 4 are saved
    const dir2 = await Deno.makeTempDir();
    await withSetup((setup) =>
      train(setup, bytes(), {
        steps: 5,
        checkpointEvery: 2,
        outDir: dir2,
        progress: false,
        onStep: () => {
          try {
            const manifest = Deno.readTextFileSync(`${dir2}/checkpoint/manifest.json`);
            seenAt.push(manifest.length > 0 ? 1 : null);
          } catch {
            seenAt.push(null);
          }
        },
      })
    );
    await Deno.remove(dir2, { recursive: true });
    assert.equal(out.checkpoint, `${dir}/checkpoint`);
    const saved = await readCheckpoint(`${dir}/checkpoint`);
    assert.equal((saved.contents as { step: number }).step, 5);
    assert.deepEqual(seenAt.map((x) => x !== null), [false, false, true, true, true]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
