/**
 * Fault cases of the training loop (issue 13): divergence that poisons the state before the
 * loss, damaged checkpoints on resume, edited checkpoint fields.
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  CheckpointError,
  loadCheckpoint,
  saveCheckpoint,
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
  type ToyState,
  toyState,
} from "./_toy.ts";

await setupBackend();

async function run(
  options: Partial<TrainOptions<ToyNets>> & { steps: number },
  method = toyMethod(),
) {
  const nets = toyNets();
  try {
    const result = await train(
      { method, nets, state: toyState() },
      toyLoaderFactory(),
      { ...TOY_TRAIN_BASE, stepsPerEpoch: 4, ...options },
    );
    tf.dispose([result.state.queue, result.state.ema]);
    return result;
  } finally {
    nets.net.dispose();
  }
}

/** Every float of a checkpoint, nets included. */
async function savedFloats(dir: string): Promise<number[]> {
  const nets = toyNets();
  const saved = await loadCheckpoint(dir, { nets }) as {
    state: ToyState;
    optimizer: { slots: Record<string, tf.Tensor[]> };
  };
  const tensors = [
    ...nets.net.getWeights(),
    saved.state.queue,
    saved.state.ema,
    ...Object.values(saved.optimizer.slots).flat(),
  ];
  const out = tensors.flatMap((t) => Array.from(t.dataSync()));
  tf.dispose([saved.state.queue, saved.state.ema, ...Object.values(saved.optimizer.slots).flat()]);
  nets.net.dispose();
  return out;
}

Deno.test("divergence in the state while the loss is still finite writes no checkpoint and names the last finite one", async () => {
  const dir = await Deno.makeTempDir();
  const toy = toyMethod();
  // from step 4 on, the EMA in the state is NaN but the loss stays finite (like batch-norm
  // variances that overflow a step before the loss does)
  const method = {
    ...toy,
    afterUpdate: (nets: ToyNets, state: ToyState, ctx: { step: number }) => {
      const next = toy.afterUpdate!(nets, state, ctx as never);
      if (ctx.step < 4) return next;
      next.ema.dispose();
      return { ...next, ema: tf.scalar(NaN) };
    },
  };
  const before = tf.memory().numTensors;
  await assert.rejects(
    () => run({ steps: 20, outDir: dir, checkpointEvery: 1 }, method),
    (e: Error) =>
      e instanceof TrainingDivergedError && e.step === 5 &&
      /state \(1 values, first in state\.ema\)/
        .test(e.message) &&
      e.checkpoint === `${dir}/checkpoint` && e.checkpointStep === 4 &&
      /last good checkpoint is .*checkpoint \(step 4\)/.test(e.message),
  );
  assert.ok(tf.memory().numTensors <= before + 1, "nothing leaked on the error path");
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/checkpoint/manifest.json`));
  assert.equal(manifest.step, 4);
  for (const path of [`${dir}/checkpoint`, `${dir}/checkpoint.step-3`]) {
    assert.ok((await savedFloats(path)).every(Number.isFinite), `${path} is finite`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a huge learning rate: every checkpoint left on disk holds only finite values", async () => {
  const dir = await Deno.makeTempDir();
  let caught: unknown;
  try {
    await run({ steps: 30, lr: 1e6, warmupSteps: 0, outDir: dir, checkpointEvery: 1 });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof TrainingDivergedError, String(caught));
  if (caught.checkpoint) {
    assert.ok((await savedFloats(caught.checkpoint)).every(Number.isFinite));
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("resume over a zero-filled tensors.bin falls back to the previous checkpoint, says so, and repeats the uninterrupted losses", async () => {
  const dirA = await Deno.makeTempDir(), dirB = await Deno.makeTempDir();
  const full = await run({ steps: 10, outDir: dirA });
  await run({ steps: 6, outDir: dirB, checkpointEvery: 3 }); // checkpoints at 3 and 6
  const bin = `${dirB}/checkpoint/tensors.bin`;
  await Deno.writeFile(bin, new Uint8Array((await Deno.stat(bin)).size));
  const notices: string[] = [];
  const resumed = await run({
    steps: 10,
    outDir: dirB,
    resume: true,
    onNotice: (m) => notices.push(m),
  });
  assert.equal(notices.length, 1);
  assert.match(notices[0], /checksum.*using the previous intact one, .*checkpoint\.step-3/);
  assert.deepEqual(
    resumed.history.map((r) => r.loss),
    full.history.slice(3).map((r) => r.loss),
    "steps 3..9 as in the uninterrupted run",
  );
  await Deno.remove(dirA, { recursive: true });
  await Deno.remove(dirB, { recursive: true });
});

Deno.test("resume validates the checkpoint's fields", async () => {
  const dir = await Deno.makeTempDir();
  await run({ steps: 4, outDir: dir });
  const nets = toyNets();
  const saved = await loadCheckpoint(`${dir}/checkpoint`, { nets }) as Record<string, unknown>;
  const cases: [Record<string, unknown>, RegExp, new (m: string) => Error][] = [
    [{ step: "abc" }, /step must be an integer >= 0, received "abc"/, CheckpointError],
    [{ step: -5 }, /step must be an integer >= 0, received -5/, CheckpointError],
    [{ step: 1000 }, /at step 1000, past the 10 steps asked for/, RangeError],
    [{ prng: [1] }, /prng must be two integers/, CheckpointError],
    [{ optimizer: null }, /optimizer must hold its slots/, CheckpointError],
  ];
  for (const [edit, pattern, kind] of cases) {
    // written through saveCheckpoint, so the checksums match: only the fields are wrong
    await saveCheckpoint(`${dir}/checkpoint`, { ...saved, ...edit }, { keep: 1 });
    await assert.rejects(
      () => run({ steps: 10, outDir: dir, resume: true }),
      (e: Error) => e instanceof kind && pattern.test(e.message),
      JSON.stringify(edit),
    );
  }
  tf.dispose(
    [
      (saved.state as ToyState).queue,
      (saved.state as ToyState).ema,
      ...Object.values((saved.optimizer as { slots: Record<string, tf.Tensor[]> }).slots).flat(),
    ],
  );
  nets.net.dispose();
  await Deno.remove(dir, { recursive: true });
});
