import { tf } from "../backend/tf.ts";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { Method, Replicas, StepContext } from "../methods/types.ts";
import { pcg32, type Prng, tensorSeed } from "../data/prng.ts";
import { adamw } from "./adamw.ts";
import { lars } from "./lars.ts";
import { sgd } from "./sgd.ts";
import type { Optimizer, OptimizerState } from "./optimizer.ts";
import { lrSchedule, type ScheduleName } from "./schedule.ts";
import { clipByGlobalNorm } from "./clip.ts";
import { hasCheckpoint, readCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { encoderSummary, exportRunEncoder, writeRunConfig } from "./_run_files.ts";
import { treeTensors } from "./serialize.ts";
import { MetricsLog, type MetricsRecord } from "./metrics_log.ts";
import { type ProgressReporter, progressReporter } from "./progress.ts";
import { CheckpointError, NonFiniteStateError, TrainingDivergedError } from "./errors.ts";
import { rejectUnknownKeys } from "./_validate.ts";
import { dataParallel } from "../distributed/data_parallel.ts";
import { launchedUnderMpi } from "../distributed/world.ts";

/** The optimizers `train` can build by name. */
export const OPTIMIZER_NAMES = ["sgd", "adamw", "lars"] as const;

/** An optimizer's name. */
export type OptimizerName = typeof OPTIMIZER_NAMES[number];

/** What `train` trains: a method with its nets and initial state (as `createMethod` returns). */
export interface TrainSetup<Nets, State> {
  /** The method: views, step, trainable, afterUpdate. */
  method: Method<Nets, State>;
  /** Its nets (models, variables); updated in place. */
  nets: Nets;
  /** Its initial state (queues, prototypes...). */
  state: State;
  /**
   * The backbone (what `createMethod` returns as `encoder`): with `outDir`, its shapes go in
   * `config.json` and it is exported to `outDir/encoder/` at the end. Omitted: neither.
   */
  encoder?: tfl.LayersModel;
}

/** One batch as the loop consumes it (the data loader's `Batch` fits). */
export interface TrainBatch {
  /** Images: a `[B,H,W,C]` tensor in [0, 1], or uint8 bytes with `shape`. */
  images: tf.Tensor4D | Uint8Array;
  /** `[B,H,W,C]` of uint8 `images`. */
  shape?: [number, number, number, number];
  /** The epoch this batch belongs to (from 0). */
  epoch?: number;
}

/** A source of batches, optionally with a resumable position (the loader's `position()`). */
export type BatchSource = (AsyncIterable<TrainBatch> | Iterable<TrainBatch>) & {
  position?: () => unknown;
};

/** Builds the batch source, continuing from `position` when resuming (undefined: from start). */
export type BatchSourceFactory = (position: unknown) => BatchSource;

/** Options for {@linkcode train}. */
export interface TrainOptions<Nets = unknown> {
  /** Total number of optimizer steps (a resumed run counts the steps already done). */
  steps: number;
  /**
   * Steps per epoch, for batches that carry no `epoch` and for the per-epoch monitor.
   * @default steps
   */
  stepsPerEpoch?: number;
  /**
   * `sgd` (momentum 0.8, our source's), `adamw` or `lars`.
   * @default "sgd"
   */
  optimizer?: OptimizerName;
  /**
   * Peak learning rate.
   * @default 0.05
   */
  lr?: number;
  /**
   * Learning-rate schedule.
   * @default "cosine"
   */
  schedule?: ScheduleName;
  /**
   * Linear warmup steps.
   * @default 0
   */
  warmupSteps?: number;
  /**
   * Floor of the cosine schedule (SwAV, Barlow Twins and VICReg decay to 1/1000 of the peak).
   * @default 0
   */
  minLr?: number;
  /**
   * Weight decay (L2 for sgd/lars, decoupled for adamw); never on biases or normalization.
   * @default 0 for sgd, 0.01 for adamw, 1e-6 for lars
   */
  weightDecay?: number;
  /**
   * Momentum of sgd/lars.
   * @default 0.8 for sgd, 0.9 for lars
   */
  momentum?: number;
  /**
   * Adam's moment decays `[beta1, beta2]` (adamw only; a recipe's, e.g. DCGAN's 0.5).
   * @default [0.9, 0.999]
   */
  adamBetas?: [number, number];
  /**
   * Nesterov momentum (sgd only).
   * @default false
   */
  nesterov?: boolean;
  /**
   * LARS trust coefficient η (lars only; solo-learn's CIFAR recipes use 0.02).
   * @default 0.001
   */
  larsEta?: number;
  /**
   * LARS: cap the local rate `η ||w|| / ||g||` at the scheduled lr instead of multiplying the two
   * (lars only; solo-learn's `clip_lr`).
   * @default false
   */
  larsClip?: boolean;
  /**
   * Clip gradients to this global L2 norm; omitted: no clipping (the norm is still logged).
   */
  clipNorm?: number;
  /**
   * Parameter groups with their own learning rate: each group's variables get the scheduled
   * rate times `scale`, or with `constant` the peak `lr` times `scale` at every step (SimSiam's
   * fixed predictor lr, arXiv:2011.10566; Barlow Twins' bias lr, arXiv:2103.03230). A variable
   * in no group follows the schedule; the first group that holds a variable wins.
   * @default []
   */
  lrGroups?: LrGroup[];
  /**
   * Seed of the per-step view seeds.
   * @default 0
   */
  seed?: number;
  /**
   * Run directory: `config.json` (the method, the encoder's shapes, these options and `config`;
   * kept when the folder has one), `metrics.jsonl`, `checkpoint/` and, at the end, `encoder/`
   * (the encoder as a tfjs LayersModel, for `loadEncoder` or a browser) go there. Omitted:
   * nothing is written.
   */
  outDir?: string;
  /**
   * Write a checkpoint every this many steps (0: only at the end). Needs `outDir`.
   * @default 0
   */
  checkpointEvery?: number;
  /**
   * Continue from `outDir/checkpoint` when it exists (same losses as an uninterrupted run). The
   * checkpoint's checksums are verified; a damaged one is replaced by the newest intact older
   * one, which `onNotice` is told.
   * @default false
   */
  resume?: boolean;
  /**
   * Checkpoints kept on disk (the newest and the ones before it), to fall back to when the
   * newest is found damaged.
   * @default 2
   */
  keepCheckpoints?: number;
  /**
   * Told one-line notices (a checkpoint refused on resume and the one used instead).
   * @default a `console.warn` line
   */
  onNotice?: (message: string) => void;
  /** The run's configuration, stored in each checkpoint. */
  config?: Record<string, unknown>;
  /** A monitor (e.g. kNN accuracy) run every `evaluateEvery` steps and at the end. */
  evaluate?: (nets: Nets, context: StepContext) => Promise<Record<string, number>>;
  /**
   * Steps between evaluations.
   * @default stepsPerEpoch
   */
  evaluateEvery?: number;
  /**
   * Also evaluate before the first step (the random-init baseline); skipped when resuming.
   * @default false
   */
  evaluateAtStart?: boolean;
  /**
   * Show progress: a bar with ETA on a terminal, plain lines otherwise.
   * @default true
   */
  progress?: boolean;
  /** Overrides the progress display's output (tests). */
  log?: (text: string) => void;
  /** Called with each step's record after it is logged. */
  onStep?: (record: MetricsRecord) => void;
  /**
   * Data-parallel training (`distributed/`'s `dataParallel()`): each rank trains on its shard
   * of every global batch, gradients averaged before the optimizer step; only rank 0 writes
   * metrics, checkpoints and progress and runs `evaluate`.
   * @default {dataParallel() when launched by mpirun with more than one rank, else none}
   */
  distributed?: DataParallel | null;
}

/** The hooks {@linkcode train} calls in a data-parallel run (built by `dataParallel()`). */
export interface DataParallel {
  /** This process's rank, from 0. */
  readonly rank: number;
  /** Number of ranks. */
  readonly size: number;
  /** What a method step sees of the other ranks (`StepContext.replicas`). */
  readonly replicas: Replicas;
  /** Once before the first step (after a resume): sync batch norm, rank 0's weights to all. */
  prepare(nets: unknown): void;
  /** This rank's rows of a global batch. */
  shard(images: tf.Tensor4D): tf.Tensor4D;
  /** The gradients averaged over ranks (new tensors; nulls stay null). */
  reduceGradients(grads: (tf.Tensor | null)[]): (tf.Tensor | null)[];
  /** Numbers (loss, metrics) averaged over ranks. */
  reduceNumbers(values: number[]): number[];
  /** Ends every rank of the job (a rank that fails alone would leave the others waiting). */
  abort(code: number): never;
}

const TRAIN_OPTION_KEYS = [
  "steps",
  "stepsPerEpoch",
  "optimizer",
  "lr",
  "schedule",
  "warmupSteps",
  "minLr",
  "weightDecay",
  "momentum",
  "nesterov",
  "larsEta",
  "larsClip",
  "adamBetas",
  "clipNorm",
  "lrGroups",
  "seed",
  "outDir",
  "checkpointEvery",
  "resume",
  "keepCheckpoints",
  "onNotice",
  "config",
  "evaluate",
  "evaluateEvery",
  "evaluateAtStart",
  "progress",
  "log",
  "onStep",
  "distributed",
] as const;

/** A parameter group of {@linkcode TrainOptions.lrGroups}. */
export interface LrGroup {
  /** The variables of the group (a subset of the method's trainable variables). */
  variables: readonly tf.Variable[];
  /** Multiplies the group's rate. @default 1 */
  scale?: number;
  /** The peak rate at every step instead of the schedule. @default false */
  constant?: boolean;
}

/** What {@linkcode train} returns. */
export interface TrainResult<State> {
  /** Steps done in total (including those before a resume). */
  steps: number;
  /** The step records of this call. */
  history: MetricsRecord[];
  /** The evaluation records of this call. */
  evaluations: MetricsRecord[];
  /** The final method state (owned by the caller). */
  state: State;
  /** Mean images per second over this call. */
  imagesPerSecond: number;
  /** The checkpoint written last, if any. */
  checkpoint: string | null;
  /** The folder the encoder was exported to at the end (`outDir/encoder`), if any. */
  encoder: string | null;
}

function checkInt(name: string, v: unknown, min: number): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new RangeError(`Cannot train: ${name} must be an integer >= ${min}, received ${v}`);
  }
}

function checkNumber(name: string, v: unknown, min: number, exclusive = false): void {
  if (typeof v !== "number" || !Number.isFinite(v) || (exclusive ? v <= min : v < min)) {
    throw new RangeError(
      `Cannot train: ${name} must be a finite number ${
        exclusive ? ">" : ">="
      } ${min}, received ${v}`,
    );
  }
}

/** Builds an optimizer by name with the loop's options. */
function buildOptimizer(
  name: OptimizerName,
  variables: tf.Variable[],
  o: {
    weightDecay?: number;
    momentum?: number;
    nesterov?: boolean;
    adamBetas?: [number, number];
    larsEta?: number;
    larsClip?: boolean;
  },
): Optimizer {
  switch (name) {
    case "sgd":
      return sgd(variables, {
        momentum: o.momentum ?? 0.8,
        nesterov: o.nesterov ?? false,
        weightDecay: o.weightDecay ?? 0,
      });
    case "adamw":
      return adamw(variables, {
        weightDecay: o.weightDecay ?? 0.01,
        ...(o.adamBetas ? { beta1: o.adamBetas[0], beta2: o.adamBetas[1] } : {}),
      });
    case "lars":
      return lars(variables, {
        momentum: o.momentum ?? 0.9,
        weightDecay: o.weightDecay ?? 1e-6,
        ...(o.larsEta !== undefined ? { eta: o.larsEta } : {}),
        ...(o.larsClip !== undefined ? { clip: o.larsClip } : {}),
      });
  }
}

function toImages(batch: TrainBatch): tf.Tensor4D {
  if (batch.images instanceof tf.Tensor) {
    if (batch.images.rank !== 4) {
      throw new TypeError(
        `Cannot train: batch images must have shape [B,H,W,C], received [${batch.images.shape}]`,
      );
    }
    return tf.clone(batch.images);
  }
  if (batch.images instanceof Uint8Array && batch.shape?.length === 4) {
    const n = batch.shape.reduce((a, b) => a * b, 1);
    if (n !== batch.images.length) {
      throw new TypeError(
        `Cannot train: batch shape [${batch.shape}] needs ${n} bytes, received ${batch.images.length}`,
      );
    }
    return tf.tensor4d(Float32Array.from(batch.images, (b) => b / 255), batch.shape);
  }
  throw new TypeError(
    "Cannot train: a batch needs images as a tf.Tensor4D, or a Uint8Array with a 4-d shape",
  );
}

/** This rank's shard of a global batch (the global batch disposed). */
function shardOf(distributed: DataParallel, images: tf.Tensor4D): tf.Tensor4D {
  try {
    return distributed.shard(images);
  } finally {
    images.dispose();
  }
}

/** Validates the fields of a loaded checkpoint (an edited or foreign file must not resume). */
function checkSaved(saved: unknown, path: string, steps: number): unknown {
  const s = saved as Record<string, unknown> | null;
  const bad = (what: string, v: unknown) =>
    new CheckpointError(
      `Cannot resume from ${path}: ${what}, received ${JSON.stringify(v) ?? String(v)}`,
    );
  if (!s || typeof s !== "object") throw bad("expected a saved training state", s);
  if (typeof s.step !== "number" || !Number.isInteger(s.step) || s.step < 0) {
    throw bad("step must be an integer >= 0", s.step);
  }
  if (s.step > steps) {
    throw new RangeError(
      `Cannot resume from ${path}: it is at step ${s.step}, past the ${steps} steps asked for`,
    );
  }
  const prng = s.prng as unknown[];
  if (
    !Array.isArray(prng) || prng.length !== 2 ||
    !prng.every((v) => typeof v === "number" && Number.isInteger(v))
  ) throw bad("prng must be two integers", prng);
  const opt = s.optimizer as Record<string, unknown> | null;
  if (!opt || typeof opt !== "object" || !opt.slots || typeof opt.slots !== "object") {
    throw bad("optimizer must hold its slots", opt === null ? null : typeof opt);
  }
  if (s.loader !== null && s.loader !== undefined && typeof s.loader !== "object") {
    throw bad("loader must be a position object or null", s.loader);
  }
  return s;
}

/** Disposes the tensors of `previous` that `next` does not hold. */
function disposeReplaced(previous: unknown, next: unknown): void {
  const keep = new Set(treeTensors(next));
  for (const t of treeTensors(previous)) if (!keep.has(t) && !t.isDisposed) t.dispose();
}

/**
 * The one training loop: for each batch, `method.views(images, seed)`, the gradient of
 * `method.step(...).loss` over `method.trainable(nets)`, optional clipping, the optimizer update
 * at the scheduled learning rate, then `method.afterUpdate`. It knows no method by name.
 *
 * With `outDir` it appends a record per step to `metrics.jsonl` (loss, lr, gradNorm, the step's
 * metrics such as zStd and top1, imagesPerSecond) and writes atomic checkpoints (nets, method
 * state, optimizer state, loader position, PRNG state, config) every `checkpointEvery` steps and
 * at the end; with `resume` it continues from the checkpoint and repeats the losses of an
 * uninterrupted run exactly. A NaN or infinite loss or gradient norm throws
 * {@linkcode TrainingDivergedError} before that update is applied, leaving the last good
 * checkpoint as it was. Tensor count stays constant across steps.
 *
 * @param setup the method, its nets and initial state
 * @param data batches, or a factory `position => batches` (needed to resume a loader)
 * @param options steps, optimizer, schedule, checkpoints, monitor
 * @returns the steps done, history, final state and throughput
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { train } from "./train.ts";
 * import assert from "node:assert/strict";
 * const w = tf.variable(tf.tensor2d([[2]]));
 * const method = {
 *   name: "toy",
 *   views: (x: tf.Tensor4D) => [tf.clone(x)],
 *   step: (nets: { w: tf.Variable }, views: tf.Tensor4D[], state: null) => ({
 *     loss: tf.tidy(() => tf.sum(tf.square(tf.matMul(tf.reshape(views[0], [-1, 1]), nets.w)))) as tf.Scalar,
 *     metrics: {},
 *     state,
 *   }),
 *   trainable: (nets: { w: tf.Variable }) => [nets.w],
 * };
 * const batches = Array.from({ length: 5 }, () => ({ images: tf.ones([2, 1, 1, 1]) as tf.Tensor4D }));
 * const result = await train({ method, nets: { w }, state: null }, batches, {
 *   steps: 5, lr: 0.1, schedule: "constant", progress: false,
 * });
 * assert.ok(result.history[4].loss < result.history[0].loss);
 * tf.dispose([w, ...batches.map((b) => b.images)]);
 * ```
 */
export async function train<Nets, State>(
  setup: TrainSetup<Nets, State>,
  data: BatchSource | BatchSourceFactory,
  options: TrainOptions<Nets>,
): Promise<TrainResult<State>> {
  rejectUnknownKeys(options, TRAIN_OPTION_KEYS, "train");
  const { method, nets } = setup;
  if (
    !method || typeof method.step !== "function" || typeof method.views !== "function" ||
    typeof method.trainable !== "function"
  ) {
    throw new TypeError("Cannot train: setup.method must have views, step and trainable");
  }
  const {
    steps,
    optimizer: optimizerName = "sgd",
    lr = 0.05,
    schedule = "cosine",
    warmupSteps = 0,
    clipNorm,
    seed = 0,
    outDir,
    checkpointEvery = 0,
    resume = false,
    keepCheckpoints = 2,
    onNotice = (m: string) => console.warn(`selfsup: ${m}`),
    config = {},
    evaluate,
    evaluateAtStart = false,
    progress = true,
    log,
    onStep,
  } = options;
  const distributed = options.distributed === undefined
    ? (launchedUnderMpi() ? dataParallel() : null)
    : options.distributed;
  const writer = !distributed || distributed.rank === 0;
  checkInt("steps", steps, 1);
  const stepsPerEpoch = options.stepsPerEpoch ?? steps;
  checkInt("stepsPerEpoch", stepsPerEpoch, 1);
  const evaluateEvery = options.evaluateEvery ?? stepsPerEpoch;
  checkInt("evaluateEvery", evaluateEvery, 1);
  checkInt("checkpointEvery", checkpointEvery, 0);
  checkInt("keepCheckpoints", keepCheckpoints, 1);
  checkInt("seed", Math.abs(seed), 0);
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(optimizerName)) {
    throw new RangeError(
      `Cannot train: optimizer must be one of ${
        OPTIMIZER_NAMES.join(", ")
      }, received "${optimizerName}"`,
    );
  }
  if (clipNorm !== undefined) checkNumber("clipNorm", clipNorm, 0, true);
  if (options.weightDecay !== undefined) checkNumber("weightDecay", options.weightDecay, 0);
  if ((checkpointEvery > 0 || resume) && !outDir) {
    throw new TypeError("Cannot train: checkpointEvery and resume need outDir");
  }
  const lrAt = lrSchedule({
    name: schedule,
    lr,
    totalSteps: steps,
    warmupSteps,
    minLr: options.minLr ?? 0,
  });

  const variables = method.trainable(nets);
  if (!Array.isArray(variables) || variables.length === 0) {
    throw new TypeError(
      `Cannot train ${method.name}: trainable(nets) must return a non-empty array of tf.Variable`,
    );
  }
  const optimizer = buildOptimizer(optimizerName, variables, options);
  const groupOf = variables.map((v) =>
    (options.lrGroups ?? []).find((g) => g.variables.includes(v)) ?? null
  );
  for (const g of options.lrGroups ?? []) {
    if (g.scale !== undefined) checkNumber("lrGroups scale", g.scale, 0);
  }
  const ratesAt = (at: number): number | number[] => {
    const scheduled = lrAt(at);
    if (groupOf.every((g) => g === null)) return scheduled;
    return groupOf.map((g) => g ? (g.constant ? lr : scheduled) * (g.scale ?? 1) : scheduled);
  };
  let state = setup.state;
  let prng: Prng = pcg32(seed);
  let step = 0;
  let loaderPosition: unknown = undefined;
  const checkpointDir = outDir ? `${outDir}/checkpoint` : null;
  let lastCheckpoint: string | null = null;
  let lastCheckpointStep: number | null = null;

  try {
    if (resume && checkpointDir && (await hasCheckpoint(checkpointDir))) {
      const loaded = await readCheckpoint(checkpointDir, { nets, state }, {
        onFallback: onNotice,
      });
      const saved = checkSaved(loaded.contents, loaded.path, steps) as {
        step: number;
        state: State;
        optimizer: OptimizerState;
        prng: [number, number];
        loader: unknown;
      };
      disposeReplaced(state, saved.state);
      state = saved.state;
      optimizer.setState(saved.optimizer);
      tf.dispose(Object.values(saved.optimizer.slots).flat());
      prng = pcg32(0, saved.prng);
      step = saved.step;
      loaderPosition = saved.loader;
      lastCheckpointStep = step;
      lastCheckpoint = loaded.path;
    }
    distributed?.prepare(nets);
    if (outDir && writer) {
      await writeRunConfig(outDir, {
        method: method.name,
        encoder: setup.encoder ? encoderSummary(setup.encoder) : null,
        train: {
          steps,
          stepsPerEpoch,
          optimizer: optimizerName,
          lr,
          schedule,
          warmupSteps,
          minLr: options.minLr ?? 0,
          weightDecay: options.weightDecay ?? null,
          momentum: options.momentum ?? null,
          nesterov: options.nesterov ?? null,
          ...(options.larsEta !== undefined ? { larsEta: options.larsEta } : {}),
          ...(options.larsClip !== undefined ? { larsClip: options.larsClip } : {}),
          clipNorm: clipNorm ?? null,
          seed,
        },
        config,
      });
    }
    const metrics = outDir && writer
      ? await (async () => {
        await Deno.mkdir(outDir, { recursive: true });
        return MetricsLog.open(`${outDir}/metrics.jsonl`, step > 0 ? { keepBefore: step } : {});
      })()
      : null;

    const startStep = step;
    const source = typeof data === "function" ? data(loaderPosition) : data;
    const reporter: ProgressReporter | null = progress && writer
      ? progressReporter(steps, { write: log, start: startStep })
      : null;
    const history: MetricsRecord[] = [];
    const evaluations: MetricsRecord[] = [];
    let imagesSeen = 0;
    const t0 = performance.now();
    let epoch = Math.floor(step / stepsPerEpoch);

    const runEvaluation = async (at: number) => {
      if (!evaluate || !writer) return;
      const figures = await evaluate(nets, { progress: at / steps, step: at, epoch });
      const record: MetricsRecord = { kind: "eval", step: at, epoch, ...figures };
      evaluations.push(record);
      await metrics?.append(record);
      reporter?.line(
        `eval at step ${at}: ${
          Object.entries(figures).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(" ")
        }`,
      );
    };
    const writeCheckpoint = async () => {
      if (!checkpointDir || !writer) return;
      const optimizerState = optimizer.getState();
      try {
        await saveCheckpoint(checkpointDir, {
          step,
          epoch,
          nets,
          state,
          optimizer: optimizerState,
          prng: prng.state(),
          loader: loaderPosition ?? null,
          config,
          method: method.name,
        }, { keep: keepCheckpoints });
      } catch (e) {
        // weights, batch-norm statistics or optimizer slots went non-finite while the loss was
        // still finite: nothing is written, the last checkpoint stays the last good one
        if (e instanceof NonFiniteStateError) {
          throw new TrainingDivergedError(
            step,
            `state (${e.count} values, first in ${e.where})`,
            e.value,
            lastCheckpoint,
            lastCheckpointStep,
          );
        }
        throw e;
      } finally {
        tf.dispose(Object.values(optimizerState.slots).flat());
      }
      lastCheckpoint = checkpointDir;
      lastCheckpointStep = step;
    };

    if (evaluateAtStart && step === 0) await runEvaluation(0);

    // Without a saved position, a deterministic source is replayed past the steps already done.
    let skip = typeof data === "function" && loaderPosition != null ? 0 : startStep;
    for await (const batch of (step < steps ? source : []) as AsyncIterable<TrainBatch>) {
      if (skip > 0) {
        skip--;
        continue;
      }
      const tStep = performance.now();
      epoch = batch.epoch ?? Math.floor(step / stepsPerEpoch);
      const context: StepContext = distributed
        ? { progress: step / steps, step, epoch, replicas: distributed.replicas }
        : { progress: step / steps, step, epoch };
      // every rank draws the same seed (the PRNG is checkpointed); each shard its own views
      const viewSeed = (tensorSeed(prng) + (distributed?.rank ?? 0) * 104729) % 0x7fffffff;
      const images = distributed ? shardOf(distributed, toImages(batch)) : toImages(batch);
      const batchSize = images.shape[0];
      let views: tf.Tensor4D[] = [];
      let stepMetrics: Record<string, tf.Scalar> = {};
      let next: State = state;
      let loss: tf.Scalar | null = null;
      let grads: Record<string, tf.Tensor> = {};
      try {
        views = method.views(images, viewSeed);
        const out = tf.variableGrads(() => {
          const result = method.step(nets, views, state, context);
          for (const m of Object.values(result.metrics)) tf.keep(m);
          for (const t of treeTensors(result.state)) tf.keep(t);
          stepMetrics = result.metrics;
          next = result.state;
          return result.loss;
        }, method.trainableAt?.(nets, context) ?? variables);
        loss = out.value;
        grads = out.grads;
      } catch (e) {
        tf.dispose([images, ...views]);
        throw e;
      }
      tf.dispose([images, ...views.filter((v) => v !== images)]);
      let lossValue = loss.dataSync()[0];
      let gradList: (tf.Tensor | null)[] = variables.map((v) => grads[v.name] ?? null);
      if (distributed) gradList = distributed.reduceGradients(gradList);
      const clipped = clipByGlobalNorm(gradList, clipNorm ?? Infinity);
      if (distributed) tf.dispose(gradList.filter((g): g is tf.Tensor => g !== null));
      tf.dispose(Object.values(grads));
      const figures: Record<string, number> = {};
      for (const [k, m] of Object.entries(stepMetrics)) figures[k] = m.dataSync()[0];
      if (distributed) {
        const names = Object.keys(figures);
        const mean = distributed.reduceNumbers([lossValue, ...names.map((k) => figures[k])]);
        lossValue = mean[0];
        names.forEach((k, i) => figures[k] = mean[i + 1]);
      }
      tf.dispose([loss, ...Object.values(stepMetrics)]);
      const bad = !Number.isFinite(lossValue)
        ? { what: "loss", value: lossValue }
        : !Number.isFinite(clipped.norm)
        ? { what: "gradient norm", value: clipped.norm }
        : null;
      if (bad) {
        tf.dispose(clipped.grads.filter((g): g is tf.Tensor => g !== null));
        disposeReplaced(next, state);
        throw new TrainingDivergedError(
          step,
          bad.what,
          bad.value,
          lastCheckpoint,
          lastCheckpointStep,
        );
      }
      const rate = lrAt(step);
      optimizer.apply(clipped.grads, ratesAt(step));
      tf.dispose(clipped.grads.filter((g): g is tf.Tensor => g !== null));
      disposeReplaced(state, next);
      state = next;
      if (method.afterUpdate) {
        const after = method.afterUpdate(nets, state, context);
        disposeReplaced(state, after);
        state = after;
      }
      if (typeof (source as BatchSource).position === "function") {
        loaderPosition = (source as BatchSource).position!();
      }
      const seconds = (performance.now() - tStep) / 1000;
      imagesSeen += batchSize * (distributed?.size ?? 1);
      const record: MetricsRecord = {
        kind: "step",
        step,
        epoch,
        loss: lossValue,
        lr: rate,
        gradNorm: clipped.norm,
        ...figures,
        imagesPerSecond: batchSize * (distributed?.size ?? 1) / Math.max(seconds, 1e-9),
      };
      history.push(record);
      await metrics?.append(record);
      onStep?.(record);
      step++;
      reporter?.update(step, { loss: lossValue, lr: rate, ...figures });
      if (evaluate && (step % evaluateEvery === 0 || step === steps)) await runEvaluation(step);
      if (checkpointEvery > 0 && step % checkpointEvery === 0 && step !== steps) {
        await writeCheckpoint();
      }
      if (step >= steps) break; // before pulling another batch: the loader position stays exact
    }
    if (step === startStep && step < steps) {
      throw new RangeError(
        `Cannot train: the data source yielded no batch (needed ${steps - startStep} more steps)`,
      );
    }
    if (checkpointDir && step > startStep) await writeCheckpoint();
    const encoderDir = outDir && writer && setup.encoder
      ? await exportRunEncoder(outDir, setup.encoder)
      : null;
    reporter?.done();
    return {
      steps: step,
      history,
      evaluations,
      state,
      imagesPerSecond: imagesSeen / Math.max((performance.now() - t0) / 1000, 1e-9),
      checkpoint: lastCheckpoint,
      encoder: encoderDir,
    };
  } catch (e) {
    // the caller still owns the tensors of the state it passed in; the rest are the loop's
    disposeReplaced(state, setup.state);
    throw e;
  } finally {
    optimizer.dispose();
  }
}
