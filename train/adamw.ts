import { tf } from "../backend/tf.ts";
import { excludedFromWeightDecay, type Optimizer, SlotOptimizer } from "./optimizer.ts";

/** Options for {@linkcode adamw}. */
export interface AdamWOptions {
  /**
   * Exponential decay of the first moment.
   * @default 0.9
   */
  beta1?: number;
  /**
   * Exponential decay of the second moment.
   * @default 0.999
   */
  beta2?: number;
  /**
   * Added to the denominator.
   * @default 1e-8
   */
  epsilon?: number;
  /**
   * Decoupled weight decay (Loshchilov & Hutter 2019, arXiv:1711.05101): `w -= lr * wd * w`,
   * separate from the adaptive step; skipped for biases and normalization parameters.
   * @default 0.01
   */
  weightDecay?: number;
}

class AdamW extends SlotOptimizer {
  readonly name = "adamw";
  constructor(variables: readonly tf.Variable[], private readonly options: Required<AdamWOptions>) {
    super(variables, ["m", "v"], "adamw");
  }
  protected update(i: number, w: tf.Variable, g: tf.Tensor, lr: number): void {
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    const t = this.iter;
    const m = this.slots.m[i], v = this.slots.v[i];
    const mNext = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
    const vNext = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
    m.assign(mNext);
    v.assign(vNext);
    const mHat = tf.div(mNext, 1 - beta1 ** t);
    const vHat = tf.div(vNext, 1 - beta2 ** t);
    let next: tf.Tensor = w;
    if (weightDecay > 0 && !excludedFromWeightDecay(w)) next = tf.mul(w, 1 - lr * weightDecay);
    next = tf.sub(next, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), epsilon)), lr));
    w.assign(next);
  }
}

/**
 * Adam with decoupled weight decay (AdamW, Loshchilov & Hutter 2019, arXiv:1711.05101), as
 * PyTorch's `torch.optim.AdamW`: the decay multiplies the weights by `1 - lr * wd` before the
 * bias-corrected Adam step. tfjs has no AdamW.
 *
 * @param variables the variables to update
 * @param options betas, epsilon and weight decay
 * @returns an optimizer with checkpointable state
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { adamw } from "./adamw.ts";
 * import assert from "node:assert/strict";
 * const w = tf.variable(tf.tensor2d([[1]]));
 * const opt = adamw([w], { weightDecay: 0 });
 * const g = tf.tensor2d([[5]]);
 * opt.apply([g], 0.1); // the first Adam step moves by lr * sign(g)
 * assert.ok(Math.abs(w.dataSync()[0] - 0.9) < 1e-5);
 * opt.dispose();
 * tf.dispose([w, g]);
 * ```
 */
export function adamw(variables: readonly tf.Variable[], options: AdamWOptions = {}): Optimizer {
  const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0.01 } = options;
  for (const [name, value] of [["beta1", beta1], ["beta2", beta2]] as const) {
    if (!(value >= 0 && value < 1)) {
      throw new RangeError(`Cannot create adamw: ${name} must be in [0, 1), received ${value}`);
    }
  }
  if (!(epsilon > 0)) {
    throw new RangeError(`Cannot create adamw: epsilon must be > 0, received ${epsilon}`);
  }
  if (!(weightDecay >= 0)) {
    throw new RangeError(`Cannot create adamw: weightDecay must be >= 0, received ${weightDecay}`);
  }
  return new AdamW(variables, { beta1, beta2, epsilon, weightDecay });
}
