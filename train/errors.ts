/**
 * Thrown by `train` when the loss (or the gradient norm) becomes NaN or infinite. The update of
 * that step is not applied (only the BatchNorm running statistics of its forward pass changed in
 * memory) and nothing is written for it: the last checkpoint on disk is the last good one.
 *
 * @example
 * ```ts
 * import { TrainingDivergedError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const e = new TrainingDivergedError(12, "loss", NaN, "runs/x/checkpoint");
 * assert.equal(e.step, 12);
 * assert.match(e.message, /step 12/);
 * ```
 */
export class TrainingDivergedError extends Error {
  /** The global step at which the value stopped being finite. */
  readonly step: number;
  /** What was not finite: `loss`, `gradient norm`, or `state (<count> values, first in <where>)`. */
  readonly quantity: string;
  /** The value seen. */
  readonly value: number;
  /** The last good checkpoint, if one was written (every checkpoint holds only finite values). */
  readonly checkpoint: string | null;
  /** The step that checkpoint holds, when known. */
  readonly checkpointStep: number | null;

  /**
   * Creates the error.
   *
   * @param step the global step that diverged
   * @param quantity what was not finite
   * @param value the value seen
   * @param checkpoint the last good checkpoint, or null
   * @param checkpointStep the step it holds
   */
  constructor(
    step: number,
    quantity: string,
    value: number,
    checkpoint: string | null,
    checkpointStep: number | null = null,
  ) {
    super(
      `Training diverged at step ${step}: the ${quantity} is ${value}; the update was not ` +
        `applied and ${
          checkpoint
            ? `the last good checkpoint is ${checkpoint}${
              checkpointStep !== null ? ` (step ${checkpointStep})` : ""
            }, resumable with a lower --lr`
            : "no checkpoint was written"
        }. Try a lower --lr or a higher --temperature, a longer --warmup, or --clip-norm`,
    );
    this.name = "TrainingDivergedError";
    this.step = step;
    this.quantity = quantity;
    this.value = value;
    this.checkpointStep = checkpointStep;
    this.checkpoint = checkpoint;
  }
}

/**
 * Thrown when no intact checkpoint can be read: files missing, a checksum that does not match,
 * fields out of range. The message names every checkpoint tried and why it was refused.
 *
 * @example
 * ```ts
 * import { CheckpointError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const e = new CheckpointError("Cannot resume runs/x/checkpoint: tensors.bin checksum mismatch");
 * assert.equal(e.name, "CheckpointError");
 * ```
 */
export class CheckpointError extends Error {
  /**
   * Creates the error.
   *
   * @param message what was expected and what was found, and where
   * @param options standard error options (`cause`)
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CheckpointError";
  }
}

/**
 * Thrown by `saveCheckpoint` instead of writing a state that holds a NaN or infinite value
 * (weights, batch-norm statistics, optimizer slots, method state): such a checkpoint could
 * never be resumed usefully.
 *
 * @example
 * ```ts
 * import { NonFiniteStateError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const e = new NonFiniteStateError("nets.encoder/bn/moving_variance", NaN, 135);
 * assert.match(e.message, /135 non-finite or overflowing values/);
 * ```
 */
export class NonFiniteStateError extends Error {
  /** Where the first non-finite value is (the tree path and weight name). */
  readonly where: string;
  /** That value. */
  readonly value: number;
  /** How many non-finite values the state holds. */
  readonly count: number;

  /**
   * Creates the error.
   *
   * @param where the first tensor holding a non-finite value
   * @param value the value
   * @param count how many non-finite values in all
   */
  constructor(where: string, value: number, count: number) {
    super(
      `Cannot save a checkpoint: the state holds ${count} non-finite or overflowing value${
        count === 1 ? "" : "s"
      }, the first ${value} in ${where}`,
    );
    this.name = "NonFiniteStateError";
    this.where = where;
    this.value = value;
    this.count = count;
  }
}
