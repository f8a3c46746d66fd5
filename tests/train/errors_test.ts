/**
 * Issue 17: the three error classes of train/errors.ts, their mirror test, with no tensors (a
 * mutant costs one short `deno test`): each message written out in full for every branch (a
 * checkpoint with and without its step, step 0, no checkpoint; one and several non-finite values),
 * the fields, the names and `cause`. Where `train` and `saveCheckpoint` throw them is tested in
 * `faults_test.ts`, `train_diverged_test.ts` and the checkpoint tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CheckpointError, NonFiniteStateError, TrainingDivergedError } from "../../train/errors.ts";

const ADVICE = "Try a lower --lr or a higher --temperature, a longer --warmup, or --clip-norm";

Deno.test("TrainingDivergedError: the message for a checkpoint with its step, and the fields", () => {
  const e = new TrainingDivergedError(12, "loss", NaN, "runs/x/checkpoint", 10);
  assert.ok(e instanceof Error);
  assert.equal(e.name, "TrainingDivergedError");
  assert.equal(
    e.message,
    "Training diverged at step 12: the loss is NaN; the update was not applied and the last " +
      "good checkpoint is runs/x/checkpoint (step 10), resumable with a lower --lr. " + ADVICE,
  );
  assert.equal(e.step, 12);
  assert.equal(e.quantity, "loss");
  assert.ok(Number.isNaN(e.value));
  assert.equal(e.checkpoint, "runs/x/checkpoint");
  assert.equal(e.checkpointStep, 10);
  assert.match(String(e), /^TrainingDivergedError: Training diverged at step 12/);
});

Deno.test("TrainingDivergedError: step 0 is named, no step given or null names none", () => {
  const zero = new TrainingDivergedError(3, "gradient norm", Infinity, "ck", 0);
  assert.equal(
    zero.message,
    "Training diverged at step 3: the gradient norm is Infinity; the update was not applied and " +
      "the last good checkpoint is ck (step 0), resumable with a lower --lr. " + ADVICE,
  );
  assert.equal(zero.checkpointStep, 0);
  const expected = "Training diverged at step 7: the loss is -Infinity; the update was not " +
    "applied and the last good checkpoint is ck, resumable with a lower --lr. " + ADVICE;
  const unknown = new TrainingDivergedError(7, "loss", -Infinity, "ck");
  assert.equal(unknown.message, expected);
  assert.equal(unknown.checkpointStep, null);
  assert.equal(unknown.value, -Infinity);
  assert.equal(new TrainingDivergedError(7, "loss", -Infinity, "ck", null).message, expected);
});

Deno.test("TrainingDivergedError: without a checkpoint the message says none was written", () => {
  const e = new TrainingDivergedError(0, "state (2 values, first in w)", NaN, null);
  assert.equal(
    e.message,
    "Training diverged at step 0: the state (2 values, first in w) is NaN; the update was not " +
      "applied and no checkpoint was written. " + ADVICE,
  );
  assert.equal(e.checkpoint, null);
  assert.equal(e.checkpointStep, null);
  assert.equal(e.step, 0);
  assert.equal(e.quantity, "state (2 values, first in w)");
  // a step without a checkpoint path is not named either
  assert.equal(
    new TrainingDivergedError(0, "loss", NaN, null, 5).message,
    e.message.replace(
      "the state (2 values, first in w)",
      "the loss",
    ),
  );
});

Deno.test("CheckpointError: message, name and cause", () => {
  const cause = new Error("disk");
  const e = new CheckpointError("Cannot resume runs/x: tensors.bin checksum mismatch", { cause });
  assert.ok(e instanceof Error);
  assert.equal(e.name, "CheckpointError");
  assert.equal(e.message, "Cannot resume runs/x: tensors.bin checksum mismatch");
  assert.equal(e.cause, cause);
  assert.equal(String(e), "CheckpointError: Cannot resume runs/x: tensors.bin checksum mismatch");
  assert.equal(new CheckpointError("m").cause, undefined);
});

Deno.test("NonFiniteStateError: one value, several values, the fields", () => {
  const one = new NonFiniteStateError("nets.encoder/dense/kernel", Infinity, 1);
  assert.ok(one instanceof Error);
  assert.equal(one.name, "NonFiniteStateError");
  assert.equal(
    one.message,
    "Cannot save a checkpoint: the state holds 1 non-finite or overflowing value, the first " +
      "Infinity in nets.encoder/dense/kernel",
  );
  assert.equal(one.where, "nets.encoder/dense/kernel");
  assert.equal(one.value, Infinity);
  assert.equal(one.count, 1);
  const many = new NonFiniteStateError("nets.encoder/bn/moving_variance", NaN, 135);
  assert.equal(
    many.message,
    "Cannot save a checkpoint: the state holds 135 non-finite or overflowing values, the first " +
      "NaN in nets.encoder/bn/moving_variance",
  );
  assert.equal(many.count, 135);
  assert.ok(Number.isNaN(many.value));
  assert.equal(many.where, "nets.encoder/bn/moving_variance");
  assert.match(
    new NonFiniteStateError("w", NaN, 0).message,
    /holds 0 non-finite or overflowing values,/,
  );
});
