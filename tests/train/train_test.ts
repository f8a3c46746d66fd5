import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  hasCheckpoint,
  loadCheckpoint,
  MetricsLog,
  train,
  TrainingDivergedError,
  type TrainOptions,
} from "../../train/mod.ts";
import { setupBackend } from "../_utils.ts";
import {
  TOY_TRAIN_BASE,
  toyLoaderFactory,
  toyMethod,
  type ToyNets,
  toyNets,
  toyState,
} from "./_toy.ts";

await setupBackend();

async function run(
  options: Partial<TrainOptions<ToyNets>> & { steps: number },
  lossScale?: (s: number) => number,
) {
  const nets = toyNets();
  const result = await train(
    { method: toyMethod(lossScale), nets, state: toyState() },
    toyLoaderFactory(),
    { ...TOY_TRAIN_BASE, stepsPerEpoch: 4, ...options },
  );
  return { nets, result };
}

function disposeRun(r: Awaited<ReturnType<typeof run>>) {
  tf.dispose([r.result.state.queue, r.result.state.ema]);
  r.nets.net.dispose();
}

Deno.test("the loop lowers a toy method's loss, logs metrics.jsonl and evaluates per epoch", async () => {
  const dir = await Deno.makeTempDir();
  let evals = 0;
  const r = await run({
    steps: 40,
    optimizer: "adamw",
    lr: 0.02,
    outDir: dir,
    evaluate: () => Promise.resolve({ knnTop1: ++evals / 10 }),
    evaluateAtStart: true,
  });
  const losses = r.result.history.map((h) => h.loss as number);
  const first = (losses[0] + losses[1] + losses[2]) / 3;
  const last = (losses[37] + losses[38] + losses[39]) / 3;
  assert.ok(last < 0.5 * first, `loss fell from ${first} to ${last}`);
  const records = await (await MetricsLog.open(`${dir}/metrics.jsonl`, { keepBefore: 1e9 })).read();
  const steps = records.filter((r) => r.kind === "step");
  assert.equal(steps.length, 40);
  assert.deepEqual(steps.map((s) => s.step), Array.from({ length: 40 }, (_, i) => i));
  for (const key of ["loss", "lr", "gradNorm", "zStd", "imagesPerSecond", "epoch"]) {
    assert.equal(typeof steps[5][key], "number", key);
  }
  assert.equal(steps[4].epoch, 1); // 24 items / batch 6 = 4 steps per epoch (loader's epoch)
  assert.equal(steps[0].lr, 0.01); // warmup: 0.02 * 1/2
  const evalSteps = records.filter((r) => r.kind === "eval").map((r) => r.step);
  assert.deepEqual(evalSteps, [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40]);
  assert.equal(r.result.state.updates, 40, "afterUpdate ran after each step");
  assert.equal(await hasCheckpoint(`${dir}/checkpoint`), true, "a checkpoint at the end");
  disposeRun(r);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("tensor count is steady across steps (state swaps, EMA, optimizer, grads)", async () => {
  const counts: number[] = [];
  const r = await run({
    steps: 8,
    optimizer: "lars",
    clipNorm: 1,
    onStep: () => counts.push(tf.memory().numTensors),
  });
  assert.equal(counts.length, 8);
  assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensor counts ${counts}`);
  disposeRun(r);
});

Deno.test("resume from a checkpoint repeats the losses of an uninterrupted run exactly", async () => {
  const dirA = await Deno.makeTempDir();
  const dirB = await Deno.makeTempDir();
  const opts = {
    steps: 12,
    optimizer: "sgd" as const,
    checkpointEvery: 5,
    momentum: 0.8,
    weightDecay: 1e-3,
  };
  const full = await run({ ...opts, outDir: dirA });
  // a run killed during step 7: the checkpoint of step 5 is the last one on disk
  await assert.rejects(() =>
    run({
      ...opts,
      outDir: dirB,
      onStep: (rec) => {
        if (rec.step === 6) throw new Error("killed");
      },
    }), /killed/);
  const probe = toyNets();
  const saved = await loadCheckpoint(`${dirB}/checkpoint`, { nets: probe }) as {
    step: number;
    state: { queue: tf.Tensor; ema: tf.Tensor };
  };
  assert.equal(saved.step, 5);
  tf.dispose([saved.state.queue, saved.state.ema]);
  probe.net.dispose();
  const resumed = await run({ ...opts, outDir: dirB, resume: true });
  assert.equal(resumed.result.history[0].step, 5);
  assert.deepEqual(
    resumed.result.history.map((h) => h.loss),
    full.result.history.slice(5).map((h) => h.loss),
  );
  // the log reads as one run: records 0..11 once each, identical losses
  const logB = await (await MetricsLog.open(`${dirB}/metrics.jsonl`, { keepBefore: 1e9 })).read();
  assert.deepEqual(logB.map((r) => r.step), Array.from({ length: 12 }, (_, i) => i));
  assert.deepEqual(logB.map((r) => r.loss), full.result.history.map((h) => h.loss));
  // final weights and state agree bit for bit
  full.nets.net.getWeights().forEach((w, i) => {
    assert.deepEqual(
      Array.from(resumed.nets.net.getWeights()[i].dataSync()),
      Array.from(w.dataSync()),
    );
  });
  assert.deepEqual(
    Array.from(resumed.result.state.queue.dataSync()),
    Array.from(full.result.state.queue.dataSync()),
  );
  assert.equal(resumed.result.state.updates, 12);
  disposeRun(full);
  disposeRun(resumed);
  await Deno.remove(dirA, { recursive: true });
  await Deno.remove(dirB, { recursive: true });
});

Deno.test("a NaN loss stops with TrainingDivergedError, applies nothing and keeps the last good checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  let caught: unknown;
  const nets = toyNets();
  const state = toyState();
  const method = toyMethod((s) => (s === 6 ? NaN : 1));
  const before = tf.memory().numTensors;
  try {
    await train(
      { method, nets, state },
      toyLoaderFactory(),
      { ...TOY_TRAIN_BASE, steps: 20, outDir: dir, checkpointEvery: 3 },
    );
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof TrainingDivergedError, String(caught));
  assert.equal(caught.step, 6);
  assert.match(caught.message, /diverged at step 6: the loss is NaN/);
  assert.match(caught.message, /last good checkpoint is .*checkpoint/);
  // the caller's initial state was replaced (and freed) by the steps; nothing else remains
  assert.equal(tf.memory().numTensors, before - 2, "nothing leaked on the error path");
  const meta = JSON.parse(await Deno.readTextFile(`${dir}/checkpoint/checkpoint.json`));
  assert.equal(meta.spec.$object.step, 6);
  const records = await (await MetricsLog.open(`${dir}/metrics.jsonl`, { keepBefore: 1e9 })).read();
  assert.equal(records.length, 6);
  assert.ok(records.every((r) => Number.isFinite(r.loss)));
  // the trainable weights in memory are those of the checkpoint: the bad update was not applied
  // (BatchNorm statistics did see that forward pass, so only trainable weights are compared)
  const fresh = toyNets();
  const restored = await loadCheckpoint(`${dir}/checkpoint`, { nets: fresh }) as {
    state: { queue: tf.Tensor; ema: tf.Tensor };
  };
  nets.net.getWeights(true).forEach((w, i) =>
    assert.deepEqual(Array.from(fresh.net.getWeights(true)[i].dataSync()), Array.from(w.dataSync()))
  );
  tf.dispose([restored.state.queue, restored.state.ema]);
  nets.net.dispose();
  fresh.net.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("train validates its options: unknown keys, bad values, empty data", async () => {
  const setup = { method: toyMethod(), nets: toyNets(), state: toyState() };
  await assert.rejects(
    () => train(setup, [], { steps: 2, learningRate: 0.1 } as unknown as TrainOptions),
    (e: unknown) => e instanceof TypeError && /unknown option "learningRate"/.test(e.message),
  );
  await assert.rejects(
    () => train(setup, [], { steps: 0 }),
    /steps must be an integer >= 1, received 0/,
  );
  await assert.rejects(
    () => train(setup, [], { steps: 2, optimizer: "rmsprop" as "sgd" }),
    RangeError,
  );
  await assert.rejects(() => train(setup, [], { steps: 2, clipNorm: -1 }), RangeError);
  await assert.rejects(() => train(setup, [], { steps: 2, resume: true }), /need outDir/);
  await assert.rejects(() => train(setup, [], { steps: 2, progress: false }), /yielded no batch/);
  tf.dispose([setup.state.queue, setup.state.ema]);
  setup.nets.net.dispose();
});

Deno.test("progress: plain lines with ETA when not a terminal", async () => {
  const lines: string[] = [];
  const r = await run({ steps: 4, progress: true, log: (t) => lines.push(t) });
  const text = lines.join("");
  assert.match(text, /step 4\/4 loss \S+ lr \S+ zStd \S+ ETA/);
  assert.ok(!text.includes("\r"));
  disposeRun(r);
});
