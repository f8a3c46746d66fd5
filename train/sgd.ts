import { tf } from "../backend/tf.ts";
import { excludedFromWeightDecay, type Optimizer, SlotOptimizer } from "./optimizer.ts";

/** Options for {@linkcode sgd}. */
export interface SgdOptions {
  /**
   * Momentum coefficient; 0 is plain SGD. Our source protocol trains with 0.8.
   * @default 0.8
   */
  momentum?: number;
  /**
   * Nesterov momentum (Sutskever et al. 2013), as PyTorch computes it.
   * @default false
   */
  nesterov?: boolean;
  /**
   * L2 weight decay added to the gradient (`g + wd * w`), skipped for biases and normalization
   * parameters.
   * @default 0
   */
  weightDecay?: number;
}

class Sgd extends SlotOptimizer {
  readonly name = "sgd";
  constructor(variables: readonly tf.Variable[], private readonly options: Required<SgdOptions>) {
    super(variables, options.momentum > 0 ? ["momentum"] : [], "sgd");
  }
  protected update(i: number, v: tf.Variable, grad: tf.Tensor, lr: number): void {
    const { momentum, nesterov, weightDecay } = this.options;
    let g = grad;
    if (weightDecay > 0 && !excludedFromWeightDecay(v)) g = tf.add(g, tf.mul(v, weightDecay));
    let step = g;
    if (momentum > 0) {
      const buf = this.slots.momentum[i];
      const next = tf.add(tf.mul(buf, momentum), g); // buf = mu * buf + g
      buf.assign(next);
      step = nesterov ? tf.add(g, tf.mul(next, momentum)) : next;
    }
    v.assign(tf.sub(v, tf.mul(step, lr)));
  }
}

/**
 * Stochastic gradient descent with (optionally Nesterov) momentum, in PyTorch's convention:
 * `buf = momentum * buf + g`, `w -= lr * buf` (or `lr * (g + momentum * buf)` with Nesterov).
 *
 * @param variables the variables to update
 * @param options momentum, Nesterov and weight decay
 * @returns an optimizer with checkpointable state
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { sgd } from "./sgd.ts";
 * import assert from "node:assert/strict";
 * const w = tf.variable(tf.tensor1d([1]));
 * const opt = sgd([w], { momentum: 0 });
 * const g = tf.tensor1d([2]);
 * opt.apply([g], 0.1);
 * assert.ok(Math.abs(w.dataSync()[0] - 0.8) < 1e-6);
 * opt.dispose();
 * tf.dispose([w, g]);
 * ```
 */
export function sgd(variables: readonly tf.Variable[], options: SgdOptions = {}): Optimizer {
  const { momentum = 0.8, nesterov = false, weightDecay = 0 } = options;
  if (!(momentum >= 0 && momentum < 1)) {
    throw new RangeError(`Cannot create sgd: momentum must be in [0, 1), received ${momentum}`);
  }
  if (!(weightDecay >= 0)) {
    throw new RangeError(`Cannot create sgd: weightDecay must be >= 0, received ${weightDecay}`);
  }
  if (nesterov && momentum === 0) {
    throw new RangeError("Cannot create sgd: nesterov needs momentum > 0, received 0");
  }
  return new Sgd(variables, { momentum, nesterov, weightDecay });
}
