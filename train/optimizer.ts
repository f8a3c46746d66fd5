import { tf } from "../backend/tf.ts";

/** An optimizer's slots (momentum buffers, moments) and step count, as plain data to checkpoint. */
export interface OptimizerState {
  /** Which optimizer wrote the state (`sgd`, `adamw`, `lars`). */
  name: string;
  /** Number of updates applied so far. */
  iterations: number;
  /** Slot tensors by slot name, one per variable in the order of the variable list. */
  slots: Record<string, tf.Tensor[]>;
}

/**
 * An optimizer over an explicit list of variables, with state that can be saved and restored.
 * `apply` takes the gradients (same order as `variables`) and the learning rate of this step.
 */
export interface Optimizer {
  /** `sgd`, `adamw` or `lars`. */
  readonly name: string;
  /** The variables it updates, in a fixed order. */
  readonly variables: readonly tf.Variable[];
  /** Updates applied so far. */
  readonly iterations: number;
  /**
   * Applies one update with learning rate `lr`; `grads[i]` belongs to `variables[i]` (or null).
   * An array gives each variable its own rate (`lr[i]` for `variables[i]`: parameter groups).
   */
  apply(grads: (tf.Tensor | null)[], lr: number | readonly number[]): void;
  /** A copy of the state (new tensors owned by the caller). */
  getState(): OptimizerState;
  /** Replaces the state with a copy of `state` (shapes must match the variables). */
  setState(state: OptimizerState): void;
  /** Frees the slot tensors. */
  dispose(): void;
}

/**
 * Whether a variable is excluded from weight decay (and from LARS adaptation): biases and
 * BatchNorm/LayerNorm parameters, recognized by rank (at most 1) or by name.
 *
 * @param variable a variable of a net
 * @returns true for biases and normalization parameters
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { excludedFromWeightDecay } from "./optimizer.ts";
 * import assert from "node:assert/strict";
 * const kernel = tf.variable(tf.zeros([3, 4]), true, "dense/kernel");
 * const bias = tf.variable(tf.zeros([4]), true, "dense/bias");
 * assert.equal(excludedFromWeightDecay(kernel), false);
 * assert.equal(excludedFromWeightDecay(bias), true);
 * tf.dispose([kernel, bias]);
 * ```
 */
export function excludedFromWeightDecay(variable: tf.Variable): boolean {
  if (variable.rank <= 1) return true;
  return /(^|\/)(bias|gamma|beta)(_\d+)?$|batch_?norm|layer_?norm/i.test(variable.name);
}

/** Shared machinery: slots as non-trainable variables, checks, state copy. */
export abstract class SlotOptimizer implements Optimizer {
  abstract readonly name: string;
  readonly variables: readonly tf.Variable[];
  protected slots: Record<string, tf.Variable[]> = {};
  protected iter = 0;

  constructor(variables: readonly tf.Variable[], slotNames: readonly string[], label: string) {
    if (!Array.isArray(variables) || variables.some((v) => !(v instanceof tf.Variable))) {
      throw new TypeError(`Cannot create ${label}: expected an array of tf.Variable`);
    }
    this.variables = [...variables];
    for (const slot of slotNames) {
      this.slots[slot] = this.variables.map((v) =>
        tf.tidy(() => tf.variable(tf.zerosLike(v), false))
      );
    }
  }

  get iterations(): number {
    return this.iter;
  }

  apply(grads: (tf.Tensor | null)[], lr: number | readonly number[]): void {
    if (grads.length !== this.variables.length) {
      throw new TypeError(
        `Cannot apply ${this.name}: expected ${this.variables.length} gradients, received ${grads.length}`,
      );
    }
    const rates = typeof lr === "number" ? this.variables.map(() => lr) : lr;
    if (rates.length !== this.variables.length) {
      throw new TypeError(
        `Cannot apply ${this.name}: expected ${this.variables.length} learning rates, received ${rates.length}`,
      );
    }
    for (const r of rates) {
      if (!Number.isFinite(r) || r < 0) {
        throw new RangeError(
          `Cannot apply ${this.name}: lr must be finite and >= 0, received ${r}`,
        );
      }
    }
    this.iter++;
    tf.tidy(() => {
      for (let i = 0; i < this.variables.length; i++) {
        const g = grads[i];
        if (g == null) continue;
        this.update(i, this.variables[i], g, rates[i]);
      }
    });
  }

  /** Updates variable `i` in place from its gradient (inside a tidy). */
  protected abstract update(i: number, v: tf.Variable, g: tf.Tensor, lr: number): void;

  getState(): OptimizerState {
    const slots: Record<string, tf.Tensor[]> = {};
    for (const [k, vs] of Object.entries(this.slots)) slots[k] = vs.map((v) => tf.clone(v));
    return { name: this.name, iterations: this.iter, slots };
  }

  setState(state: OptimizerState): void {
    if (state.name !== this.name) {
      throw new TypeError(
        `Cannot restore ${this.name} state: it was written by ${state.name}`,
      );
    }
    for (const [k, vs] of Object.entries(this.slots)) {
      const saved = state.slots[k];
      if (!saved || saved.length !== vs.length) {
        throw new TypeError(
          `Cannot restore ${this.name} slot "${k}": expected ${vs.length} tensors, received ${
            saved?.length ?? 0
          }`,
        );
      }
      vs.forEach((v, i) => {
        if (v.shape.join(",") !== saved[i].shape.join(",")) {
          throw new TypeError(
            `Cannot restore ${this.name} slot "${k}" ${i}: expected shape [${v.shape}], received [${
              saved[i].shape
            }]`,
          );
        }
      });
    }
    for (const [k, vs] of Object.entries(this.slots)) {
      vs.forEach((v, i) => tf.tidy(() => v.assign(tf.cast(state.slots[k][i], v.dtype))));
    }
    this.iter = state.iterations;
  }

  dispose(): void {
    for (const vs of Object.values(this.slots)) tf.dispose(vs);
    this.slots = {};
  }
}
