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
  /** What was not finite: `loss` or `gradNorm`. */
  readonly quantity: string;
  /** The value seen. */
  readonly value: number;
  /** The last good checkpoint, if one was written. */
  readonly checkpoint: string | null;

  /**
   * Creates the error.
   *
   * @param step the global step that diverged
   * @param quantity what was not finite
   * @param value the value seen
   * @param checkpoint the last good checkpoint, or null
   */
  constructor(step: number, quantity: string, value: number, checkpoint: string | null) {
    super(
      `Training diverged at step ${step}: the ${quantity} is ${value}; the update was not ` +
        `applied and ${
          checkpoint ? `the last good checkpoint is ${checkpoint}` : "no checkpoint was written"
        }. Try a lower --lr, a longer --warmup or --clip-norm`,
    );
    this.name = "TrainingDivergedError";
    this.step = step;
    this.quantity = quantity;
    this.value = value;
    this.checkpoint = checkpoint;
  }
}
