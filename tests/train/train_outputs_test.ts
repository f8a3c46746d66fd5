/**
 * What `train()` leaves behind and how it ends (issue 17, the twelfth mutation pass on
 * train/train.ts 559-639 and 753-781, where these survived every loop test): config.json records
 * the method, the encoder's shapes, each train option as given (null or absent when not) and the
 * caller's `config`, which the checkpoint carries too; the encoder is exported only by the writing
 * rank of a run with an outDir; a rank other than 0 writes nothing; a rerun over an old folder
 * starts metrics.jsonl afresh; an evaluation's progress line names its figures; keepCheckpoints
 * reaches the checkpoint pruning; a source that ends early ends the run early; a resumed finished
 * run trains and writes nothing; an empty source on resume names the steps still needed; and a
 * checkpoint that fails for a reason other than non-finite state is thrown as it is.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import type { Method } from "../../methods/types.ts";
import {
  readCheckpoint,
  train,
  type TrainBatch,
  TrainingDivergedError,
  type TrainOptions,
} from "../../train/mod.ts";
import { setupBackend } from "../_utils.ts";
import { passThroughRank } from "./_toy.ts";

await setupBackend();

interface Nets {
  w: tf.Variable;
}

/** Loss 0.5 |w - (1, -2)|^2; the state is passed through as it is. */
function quadratic<S>(): Method<Nets, S> {
  return {
    name: "quadratic",
    views: (images) => [tf.clone(images)],
    step: (nets, _views, state) => ({
      loss: tf.tidy(() =>
        tf.mul(0.5, tf.sum(tf.square(tf.sub(nets.w, tf.tensor1d([1, -2]))))) as tf.Scalar
      ),
      metrics: {},
      state,
    }),
    trainable: (nets) => [nets.w],
  };
}

/** `n` batches of four 1x1 images (endless when n is Infinity). */
function* batches(n = Infinity): Generator<TrainBatch> {
  for (let i = 0; i < n; i++) yield { images: Uint8Array.from([i, 1, 2, 3]), shape: [4, 1, 1, 1] };
}

/** dense 1 -> 2 on a 1x1x1 image: 4 parameters. */
function tinyEncoder(): tfl.LayersModel {
  return tfl.sequential({
    layers: [tfl.layers.flatten({ inputShape: [1, 1, 1] }), tfl.layers.dense({ units: 2 })],
  });
}

async function run<S = Record<string, never>>(
  options: Partial<TrainOptions<Nets>>,
  data: Iterable<TrainBatch> = batches(),
  extra: { encoder?: tfl.LayersModel; state?: S } = {},
) {
  const nets = { w: tf.variable(tf.tensor1d([0, 0])) };
  try {
    return await train(
      { method: quadratic<S>(), nets, state: (extra.state ?? {}) as S, encoder: extra.encoder },
      (async function* () {
        yield* data;
      })(),
      { steps: 3, lr: 0.1, progress: false, ...options },
    );
  } finally {
    nets.w.dispose();
  }
}

const names = async (dir: string) =>
  (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();

const readJson = async (path: string) => JSON.parse(await Deno.readTextFile(path));

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

Deno.test("config.json: the method, the encoder's shapes, each option as given and `config`; the checkpoint carries `config`", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = { dataset: "toy", labels: [1, 2], nested: { k: "v" } };
    const encoder = tinyEncoder();
    const r = await run({ outDir: dir, config }, batches(), { encoder });
    encoder.dispose();
    assert.deepEqual(await readJson(`${dir}/config.json`), {
      method: "quadratic",
      encoder: { inputShape: [1, 1, 1], outputShape: [2], parameters: 4 },
      // what was not given is null (its default is the optimizer's), LARS' own keys absent
      train: {
        steps: 3,
        stepsPerEpoch: 3,
        optimizer: "sgd",
        lr: 0.1,
        schedule: "cosine",
        warmupSteps: 0,
        minLr: 0,
        weightDecay: null,
        momentum: null,
        nesterov: null,
        clipNorm: null,
        seed: 0,
      },
      config,
    });
    assert.equal(r.checkpoint, `${dir}/checkpoint`);
    assert.deepEqual(
      ((await readCheckpoint(r.checkpoint!, {})).contents as { config: unknown }).config,
      config,
    );

    // every recorded option given, LARS' too; no encoder: null
    const all = `${dir}/all`;
    await run({
      outDir: all,
      steps: 4,
      stepsPerEpoch: 2,
      optimizer: "lars",
      lr: 0.2,
      schedule: "constant",
      warmupSteps: 1,
      minLr: 0.01,
      weightDecay: 0.001,
      momentum: 0.7,
      nesterov: true,
      larsEta: 0.002,
      larsClip: true,
      clipNorm: 5,
      seed: 9,
    });
    assert.deepEqual(await readJson(`${all}/config.json`), {
      method: "quadratic",
      encoder: null,
      train: {
        steps: 4,
        stepsPerEpoch: 2,
        optimizer: "lars",
        lr: 0.2,
        schedule: "constant",
        warmupSteps: 1,
        minLr: 0.01,
        weightDecay: 0.001,
        momentum: 0.7,
        nesterov: true,
        larsEta: 0.002,
        larsClip: true,
        clipNorm: 5,
        seed: 9,
      },
      config: {},
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the encoder is exported by a run with an outDir only, and a rank other than 0 writes nothing", async () => {
  const dir = await Deno.makeTempDir();
  const encoder = tinyEncoder();
  try {
    const withDir = await run({ outDir: dir }, batches(), { encoder });
    assert.equal(withDir.encoder, `${dir}/encoder`);
    assert.deepEqual(await names(`${dir}/encoder`), ["model.json", "weights.bin"]);
    assert.deepEqual(await names(dir), ["checkpoint", "config.json", "encoder", "metrics.jsonl"]);

    const noDir = await run({}, batches(), { encoder });
    assert.equal(noDir.encoder, null);
    assert.equal(noDir.checkpoint, null);

    const rank1 = `${dir}/rank1`;
    const r1 = await run(
      { outDir: rank1, distributed: passThroughRank(1), checkpointEvery: 1 },
      batches(),
      {
        encoder,
      },
    );
    assert.equal(r1.steps, 3, "rank 1 trains");
    assert.equal(r1.encoder, null);
    assert.equal(r1.checkpoint, null);
    assert.equal(await exists(rank1), false, "rank 1 writes no config, log, checkpoint or encoder");
  } finally {
    encoder.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a rerun over an old run folder (no resume) starts metrics.jsonl afresh", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const evaluate = () => Promise.resolve({ top1: 0.5 });
    for (let i = 0; i < 2; i++) {
      await run({ outDir: dir, evaluate, evaluateAtStart: true, evaluateEvery: 10 });
    }
    const records = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l) as { kind: string; step: number });
    assert.deepEqual(records.map((r) => `${r.kind} ${r.step}`), [
      "eval 0",
      "step 0",
      "step 1",
      "step 2",
      "eval 3",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("progress: an evaluation's line names the step and each figure to 4 decimals", async () => {
  const lines: string[] = [];
  await run({
    progress: true,
    log: (t) => lines.push(t),
    evaluate: (_nets, at) => Promise.resolve({ top1: 0.5 + at.step / 100, loss: 1 / 3 }),
    evaluateEvery: 2,
  });
  const evals = lines.join("").split("\n").filter((l) => l.includes("eval"));
  assert.deepEqual(evals, [
    "eval at step 2: top1 0.5200 loss 0.3333",
    "eval at step 3: top1 0.5300 loss 0.3333",
  ]);
});

Deno.test("keepCheckpoints reaches the pruning: the newest N checkpoints stay", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const keep of [1, 3]) {
      const out = `${dir}/keep${keep}`;
      await run({ outDir: out, steps: 5, checkpointEvery: 1, keepCheckpoints: keep });
      const kept = (await names(out)).filter((n) => n.startsWith("checkpoint"));
      assert.deepEqual(
        kept,
        keep === 1 ? ["checkpoint"] : ["checkpoint", "checkpoint.step-3", "checkpoint.step-4"],
        `keepCheckpoints ${keep}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the end: a short source ends the run early; a finished run resumed trains and writes nothing", async () => {
  const short = await run({ steps: 5 }, batches(2));
  assert.equal(short.steps, 2);
  assert.deepEqual(short.history.map((h) => h.step), [0, 1]);

  const dir = await Deno.makeTempDir();
  try {
    const first = await run({ outDir: dir, steps: 3 });
    assert.equal(first.steps, 3);
    const files = `${dir}/checkpoint`;
    const before = await Promise.all(
      (await names(files)).map(async (
        n,
      ) => [n, (await Deno.stat(`${files}/${n}`)).mtime?.getTime()]),
    );
    await new Promise((r) => setTimeout(r, 20));
    const again = await run({ outDir: dir, steps: 3, resume: true });
    assert.equal(again.steps, 3);
    assert.deepEqual(again.history, []);
    assert.equal(again.checkpoint, `${dir}/checkpoint`, "the checkpoint it resumed from");
    assert.deepEqual(await names(dir), ["checkpoint", "config.json", "metrics.jsonl"]);
    const after = await Promise.all(
      (await names(files)).map(async (
        n,
      ) => [n, (await Deno.stat(`${files}/${n}`)).mtime?.getTime()]),
    );
    assert.deepEqual(after, before, "the checkpoint is not written again");

    // resumed at step 3 of 7 from a source with nothing left: the 4 steps still needed
    await assert.rejects(
      () => run({ outDir: dir, steps: 7, resume: true }, batches(0)),
      (e: Error) => {
        assert.ok(e instanceof RangeError);
        assert.equal(
          e.message,
          "Cannot train: the data source yielded no batch (needed 4 more steps)",
        );
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a checkpoint that fails for a reason other than non-finite state is thrown as it is", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () =>
        run({ outDir: dir, checkpointEvery: 1 }, batches(), {
          state: { note: Symbol("not storable") },
        }),
      (e: Error) => {
        assert.ok(!(e instanceof TrainingDivergedError), `${e.name}: ${e.message}`);
        assert.ok(e instanceof TypeError, `${e.name}: ${e.message}`);
        assert.match(e.message, /Cannot serialize/);
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
