import type { tf } from "../backend/tf.ts";

/** What a method step returns: the loss, metrics (still tensors: no read-back) and next state. */
export interface StepResult<State> {
  /** The scalar the optimizer minimizes. */
  loss: tf.Scalar;
  /** Scalars to log, e.g. `zStd` (collapse monitor) and `top1` (positive's accuracy). */
  metrics: Record<string, tf.Scalar>;
  /** The method state after this step (queues, prototypes...); the input state is not mutated. */
  state: State;
}

/** Context the loop passes to a step. */
export interface StepContext {
  /** Fraction of training done, in [0, 1] (momentum schedules, prototype freezing). */
  progress: number;
  /** Global step index, from 0. */
  step: number;
  /** Epoch index, from 0. */
  epoch: number;
}

/**
 * A self-supervised method: data plus a pure step. The loop in `train/` calls
 * `optimizer.minimize(() => step(...).loss, trainable(nets))`, then `afterUpdate`, and never
 * mentions a method by name.
 */
export interface Method<Nets, State> {
  /** The method's name, as `--method` spells it. */
  readonly name: string;
  /** Builds the views a step consumes from a batch of images `[B,H,W,C]` in [0, 1]. */
  views(images: tf.Tensor4D, seed: number): tf.Tensor4D[];
  /** One step: loss, metrics and the next state, computed inside `tf.tidy`. */
  step(nets: Nets, views: tf.Tensor4D[], state: State, context: StepContext): StepResult<State>;
  /** The variables the optimizer updates. */
  trainable(nets: Nets): tf.Variable[];
  /** Called after each optimizer update (EMA/momentum encoders, queue pushes, renormalizing). */
  afterUpdate?(nets: Nets, state: State, context: StepContext): State;
}
