import { tf } from "../backend/tf.ts";
import { excludedFromWeightDecay, type Optimizer, SlotOptimizer } from "./optimizer.ts";

/** Options for {@linkcode lars}. */
export interface LarsOptions {
  /**
   * Momentum coefficient.
   * @default 0.9
   */
  momentum?: number;
  /**
   * L2 weight decay added to the gradient before the trust ratio (SimCLR uses 1e-6); skipped
   * for biases and normalization parameters.
   * @default 1e-6
   */
  weightDecay?: number;
  /**
   * Trust coefficient η: the local learning rate is `η * ||w|| / ||g + wd * w||`.
   * @default 0.001
   */
  eta?: number;
  /**
   * Clip the local learning rate at the global one: `min(η ||w|| / ||g + wd w||, lr)` (LARC's
   * clipping, solo-learn's `clip_lr`), so η bounds each step relative to `||w||` and the schedule
   * still caps it.
   * @default false
   */
  clip?: boolean;
}

class Lars extends SlotOptimizer {
  readonly name = "lars";
  constructor(variables: readonly tf.Variable[], private readonly options: Required<LarsOptions>) {
    super(variables, ["momentum"], "lars");
  }
  protected update(i: number, w: tf.Variable, grad: tf.Tensor, lr: number): void {
    const { momentum, weightDecay, eta, clip } = this.options;
    let g = grad;
    let scaledLr: tf.Tensor | number = lr;
    if (!excludedFromWeightDecay(w)) {
      if (weightDecay > 0) g = tf.add(g, tf.mul(w, weightDecay));
      const wNorm = tf.norm(w);
      const gNorm = tf.norm(g);
      // trust ratio eta * ||w|| / ||g||, or 1 when either norm is zero; clipped, the local rate
      // eta * ||w|| / ||g|| capped at lr (lr itself when either norm is zero)
      const usable = tf.logicalAnd(tf.greater(wNorm, 0), tf.greater(gNorm, 0));
      const trust = tf.div(tf.mul(wNorm, eta), tf.maximum(gNorm, 1e-30));
      scaledLr = clip
        ? tf.where(usable, tf.minimum(trust, lr), tf.fill(wNorm.shape, lr))
        : tf.mul(tf.where(usable, trust, tf.onesLike(wNorm)), lr);
    }
    const buf = this.slots.momentum[i];
    const next = tf.add(tf.mul(buf, momentum), tf.mul(g, scaledLr)); // v = mu v + lr_local g
    buf.assign(next);
    w.assign(tf.sub(w, next));
  }
}

/**
 * LARS (You et al. 2017, arXiv:1708.03888) as SimCLR's implementation has it: a layer-wise trust
 * ratio `η ||w|| / ||g + wd w||` scales the learning rate, with heavy-ball momentum; biases and
 * normalization parameters get neither weight decay nor adaptation. With `clip` the local rate is
 * `min(η ||w|| / ||g + wd w||, lr)` instead (solo-learn's `clip_lr`).
 *
 * @param variables the variables to update
 * @param options momentum, weight decay and trust coefficient
 * @returns an optimizer with checkpointable state
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { lars } from "./lars.ts";
 * import assert from "node:assert/strict";
 * const w = tf.variable(tf.tensor2d([[3, 4]])); // ||w|| = 5
 * const opt = lars([w], { momentum: 0, weightDecay: 0, eta: 0.1 });
 * const g = tf.tensor2d([[0, 10]]); // ||g|| = 10, trust ratio 0.1 * 5 / 10 = 0.05
 * opt.apply([g], 1);
 * assert.ok(Math.abs(w.dataSync()[1] - 3.5) < 1e-5);
 * opt.dispose();
 * tf.dispose([w, g]);
 * ```
 */
export function lars(variables: readonly tf.Variable[], options: LarsOptions = {}): Optimizer {
  const { momentum = 0.9, weightDecay = 1e-6, eta = 0.001, clip = false } = options;
  if (!(momentum >= 0 && momentum < 1)) {
    throw new RangeError(`Cannot create lars: momentum must be in [0, 1), received ${momentum}`);
  }
  if (!(weightDecay >= 0)) {
    throw new RangeError(`Cannot create lars: weightDecay must be >= 0, received ${weightDecay}`);
  }
  if (!(eta > 0)) throw new RangeError(`Cannot create lars: eta must be > 0, received ${eta}`);
  if (typeof clip !== "boolean") {
    throw new TypeError(`Cannot create lars: clip must be a boolean, received ${clip}`);
  }
  return new Lars(variables, { momentum, weightDecay, eta, clip });
}
