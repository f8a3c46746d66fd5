/**
 * `train()`'s defaults that no other loop test leaves unset (issue 17, Stryker on
 * train/train.ts:446-537): progress is shown unless `progress: false`; a resume that falls back
 * to an older checkpoint is told on stderr as `selfsup: <notice>` when no `onNotice` is given; an
 * unknown option is refused under the name "train".
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { train, type TrainOptions } from "../../train/mod.ts";
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

async function run(options: Partial<TrainOptions<ToyNets>> & { steps: number }) {
  const nets = toyNets();
  try {
    const result = await train(
      { method: toyMethod(), nets, state: toyState() },
      toyLoaderFactory(),
      options,
    );
    tf.dispose([result.state.queue, result.state.ema]);
    return result;
  } finally {
    nets.net.dispose();
  }
}

const { progress: _off, ...base } = TOY_TRAIN_BASE;

Deno.test("train shows progress by default and not with progress: false", async () => {
  const shown: string[] = [];
  await run({ ...base, steps: 3, log: (t) => shown.push(t) });
  assert.ok(shown.length > 0, "no progress line without the progress option");
  assert.match(shown.join(""), /\b3\/3\b/);
  const hidden: string[] = [];
  await run({ ...base, steps: 3, progress: false, log: (t) => hidden.push(t) });
  assert.deepEqual(hidden, []);
});

Deno.test("train without onNotice tells a resume's fallback on stderr as 'selfsup: <notice>'", async () => {
  const dir = await Deno.makeTempDir();
  const warn = console.warn;
  const warned: unknown[][] = [];
  try {
    await run({ ...TOY_TRAIN_BASE, steps: 6, outDir: dir, checkpointEvery: 3 }); // at 3 and 6
    const bin = `${dir}/checkpoint/tensors.bin`;
    await Deno.writeFile(bin, new Uint8Array((await Deno.stat(bin)).size));
    console.warn = (...args: unknown[]) => warned.push(args);
    await run({ ...TOY_TRAIN_BASE, steps: 8, outDir: dir, resume: true });
  } finally {
    console.warn = warn;
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(warned.length, 1, JSON.stringify(warned));
  assert.equal(warned[0].length, 1);
  assert.match(
    String(warned[0][0]),
    /^selfsup: .*checksum.*using the previous intact one, .*checkpoint\.step-3/,
  );
});

Deno.test("train refuses an unknown option under its own name", async () => {
  await assert.rejects(
    () => run({ ...TOY_TRAIN_BASE, steps: 1, stepz: 2 } as TrainOptions<ToyNets>),
    (e: unknown) =>
      e instanceof TypeError && /^Cannot train: unknown option "stepz"; expected/.test(e.message),
  );
});
