/**
 * Resuming from an edited or foreign checkpoint (issue 17, Stryker on train/train.ts:335-445:
 * `checkSaved`): each field of the saved training state refused with its exact message, and the
 * inclusive ends accepted (an accepted state goes on to the optimizer's restore, which refuses
 * these hand-written slots with its own message).
 *
 * @module
 */
import assert from "node:assert/strict";
import { CheckpointError, saveCheckpoint, train } from "../../train/mod.ts";
import { setupBackend } from "../_utils.ts";
import { TOY_TRAIN_BASE, toyLoaderFactory, toyMethod, toyNets, toyState } from "./_toy.ts";

await setupBackend();

/** Resumes a 4-step run from a checkpoint holding `contents`; the error it ends with. */
async function resumeFrom(contents: unknown): Promise<{ error: Error; dir: string }> {
  const dir = await Deno.makeTempDir();
  await saveCheckpoint(`${dir}/checkpoint`, contents);
  const nets = toyNets();
  try {
    await train({ method: toyMethod(), nets, state: toyState() }, toyLoaderFactory(), {
      ...TOY_TRAIN_BASE,
      steps: 4,
      outDir: dir,
      resume: true,
    });
  } catch (e) {
    return { error: e as Error, dir };
  } finally {
    nets.net.dispose();
    await Deno.remove(dir, { recursive: true });
  }
  throw new assert.AssertionError({ message: "the resume did not fail" });
}

const VALID = { prng: [1, 2], optimizer: { slots: {} }, loader: null };

Deno.test("train refuses to resume from a checkpoint whose saved state is edited, naming the field and the value", async () => {
  const cases: [unknown, string][] = [
    [null, "expected a saved training state, received null"],
    ["x", 'expected a saved training state, received "x"'],
    [{ ...VALID, step: -1 }, "step must be an integer >= 0, received -1"],
    [{ ...VALID, step: 1.5 }, "step must be an integer >= 0, received 1.5"],
    [{ ...VALID, step: "2" }, 'step must be an integer >= 0, received "2"'],
    [{ ...VALID }, "step must be an integer >= 0, received undefined"],
    [{ ...VALID, step: 1, prng: [1] }, "prng must be two integers, received [1]"],
    [{ ...VALID, step: 1, prng: [1, 2, 3] }, "prng must be two integers, received [1,2,3]"],
    [{ ...VALID, step: 1, prng: [1, 2.5] }, "prng must be two integers, received [1,2.5]"],
    [{ ...VALID, step: 1, prng: [2.5, 1] }, "prng must be two integers, received [2.5,1]"],
    [{ ...VALID, step: 1, prng: ["1", 2] }, 'prng must be two integers, received ["1",2]'],
    [{ ...VALID, step: 1, prng: "12" }, 'prng must be two integers, received "12"'],
    [{ ...VALID, step: 1, optimizer: null }, "optimizer must hold its slots, received null"],
    [{ ...VALID, step: 1, optimizer: "sgd" }, 'optimizer must hold its slots, received "string"'],
    [{ ...VALID, step: 1, optimizer: {} }, 'optimizer must hold its slots, received "object"'],
    [
      { ...VALID, step: 1, optimizer: { slots: 5 } },
      'optimizer must hold its slots, received "object"',
    ],
    [{ ...VALID, step: 1, loader: 5 }, "loader must be a position object or null, received 5"],
    [
      { ...VALID, step: 1, loader: "p" },
      'loader must be a position object or null, received "p"',
    ],
  ];
  for (const [contents, want] of cases) {
    const { error, dir } = await resumeFrom(contents);
    assert.ok(error instanceof CheckpointError, `${JSON.stringify(contents)}: ${error}`);
    assert.equal(error.message, `Cannot resume from ${dir}/checkpoint: ${want}`);
  }
  const past = await resumeFrom({ ...VALID, step: 5 });
  assert.ok(past.error instanceof RangeError);
  assert.equal(
    past.error.message,
    `Cannot resume from ${past.dir}/checkpoint: it is at step 5, past the 4 steps asked for`,
  );
});

Deno.test("train accepts a saved state at step 0 and at the last step, with a loader position that is null, absent or an object", async () => {
  const { loader: _, ...noLoader } = VALID;
  for (
    const contents of [
      { ...VALID, step: 0 },
      { ...VALID, step: 4 },
      { ...noLoader, step: 1 },
      { ...VALID, step: 1, loader: {} },
    ]
  ) {
    const { error } = await resumeFrom(contents);
    // past checkSaved: the optimizer's restore refuses these hand-written slots
    assert.match(error.message, /^Cannot restore sgd state/, JSON.stringify(contents));
  }
});
