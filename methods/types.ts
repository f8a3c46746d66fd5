import type { tf } from "../backend/tf.ts";
import type * as tfl from "@tensorflow/tfjs-layers";

/** What a method step returns: the loss, metrics (still tensors: no read-back) and next state. */
export interface StepResult<State> {
  /** The scalar the optimizer minimizes. */
  loss: tf.Scalar;
  /** Scalars to log, e.g. `zStd` (collapse monitor) and `top1` (positive's accuracy). */
  metrics: Record<string, tf.Scalar>;
  /**
   * The method state after this step (queues, pending keys...); the input state is not mutated.
   * It may hold tensors of the input state (unchanged) and tensors made in the step; the caller
   * owns both and disposes the input state's tensors that the new state no longer holds.
   */
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
  /**
   * The other ranks of a data-parallel run (`distributed/`'s `dataParallel`); absent in a single
   * process. Steps with cross-sample state use it: gathered negatives, MoCo's keys, SwAV's Sinkhorn.
   */
  replicas?: Replicas;
}

/**
 * Collectives over the ranks of a data-parallel run, as a step sees them. Each rank holds one
 * shard of the global batch; the loop averages the ranks' gradients, so a step's loss is its
 * share of the global loss (the mean of the ranks' losses is the single-process loss).
 */
export interface Replicas {
  /** This process's rank, from 0. */
  readonly rank: number;
  /** Number of ranks. */
  readonly size: number;
  /** Whether contrastive losses see the negatives of every rank (SimCLR across TPU cores). */
  readonly gatherNegatives: boolean;
  /**
   * Every rank's `x` concatenated along axis 0 in rank order (all ranks' shapes equal). Its
   * gradient is summed over the ranks and each rank keeps its own rows.
   */
  allGather<T extends tf.Tensor>(x: T): T;
}

/**
 * A self-supervised method: data plus a pure step. The loop in `train/` calls
 * `optimizer.minimize(() => step(...).loss, trainable(nets))`, then `afterUpdate`, and never
 * mentions a method by name.
 *
 * Ownership: the step runs inside gradient recording, which disposes every tensor it makes
 * except the loss, so the loop `tf.keep`s the returned metrics and state. Updates that must not
 * be differentiated (queue pushes, momentum/EMA encoders, prototype re-normalization) happen in
 * `afterUpdate`, from values the step stashed in the state. After each call the loop disposes
 * the previous state's tensors that the new state does not hold (see `disposeStaleState`).
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
  /**
   * The variables this step updates, a subset of `trainable(nets)` (e.g. a GAN alternating
   * discriminator and generator updates); the others get no gradient and no update. Omitted: all.
   */
  trainableAt?(nets: Nets, context: StepContext): tf.Variable[];
  /** Called after each optimizer update (EMA/momentum encoders, queue pushes, renormalizing). */
  afterUpdate?(nets: Nets, state: State, context: StepContext): State;
}

/** A method with its networks and initial state, ready for the loop. */
export interface MethodSetup<Nets = unknown, State = unknown> {
  /** The method. */
  method: Method<Nets, State>;
  /** Its networks (functional `tf.LayersModel`s). */
  nets: Nets;
  /** Its initial state. */
  state: State;
  /** The backbone used downstream (kNN, probes, fine-tuning). */
  encoder: tfl.LayersModel;
}

/** An augmentation: a batch of images and a seed to a batch of views. */
export type ViewAugmentation = (images: tf.Tensor4D, seed: number) => tf.Tensor4D;

/** Which encoder a method trains: a built-in one by name, or any functional model. */
export type EncoderSpec = "resnet18" | "convnet" | "sequence" | tfl.LayersModel;

/** Which family of heads: the papers' or the source document's (sequence task). */
export type HeadStyle = "paper" | "source";

/** Options every method takes. */
export interface BaseMethodOptions {
  /**
   * The encoder: `"resnet18"` (CIFAR stem), `"convnet"` (28x28), `"sequence"` (CRNN frames
   * `[B, L, D]`, which switches on sequence mode) or a functional `tf.LayersModel` (sequence mode
   * when its output has rank 3).
   */
  encoder: EncoderSpec;
  /** Image shape `[height, width, channels]`. */
  inputShape: [number, number, number];
  /** Seed of every initializer and of the method's own randomness. */
  seed: number;
  /** View augmentation. @default {simclrAugment()} for images, `textAugment()` for sequences */
  augment?: ViewAugmentation;
  /** Widths of a built-in encoder. @default {the encoder's own default} */
  widths?: number[];
  /**
   * Heads: the papers' or the source's (projector/predictor/SimCLR head of the sequence task).
   * @default {"source" in sequence mode, else "paper"}
   */
  heads?: HeadStyle;
  /** Output size of the projection head. @default {per method, from its paper} */
  projectionDim?: number;
  /** Hidden size of the heads. @default {per method, from its paper} */
  hiddenDim?: number;
}
