/**
 * `deno task pretrain`: self-supervised pretraining from the command line. Every option is listed
 * by `--help`; unknown options and bad values are errors. A run writes `runs/<name>/config.json`,
 * `metrics.jsonl`, `checkpoint/` and `results.json`, and prints the encoder's kNN accuracy
 * against the same encoder at random initialization when the data has labels.
 *
 * @example
 * ```ts ignore
 * // deno task pretrain --method simclr --dataset mnist --steps 300
 * ```
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { type BackendName, useBackend } from "../backend/use_backend.ts";
import {
  createMethod,
  formatRecipe,
  METHOD_NAMES,
  RECIPE_NAMES,
  recipeLrGroups,
  type RecipeName,
  resolveRecipe,
} from "../methods/mod.ts";
import type { CreateMethodOptions } from "../methods/mod.ts";
import { exportEncoder } from "../eval/export_encoder.ts";
import {
  type Dataset,
  fashionMnist,
  imageFolder,
  Loader,
  mnist,
  mnistLines,
  syntheticTextLines,
} from "../data/mod.ts";
import type { InMemoryDataset } from "../data/in_memory.ts";
import { mnistAugment, simclrAugment, textAugment } from "../augment/mod.ts";
import {
  knnMonitor,
  knnRawPixels,
  OPTIMIZER_NAMES,
  SCHEDULE_NAMES,
  train,
  type TrainOptions,
  treeTensors,
} from "../train/mod.ts";
import {
  givenOptions,
  type OptionSpec,
  type ParsedOptions,
  runCommand,
  UsageError,
} from "./_args.ts";
import {
  checkRunName,
  formatCounts,
  guardFreshRun,
  type ImageCounts,
  readRunJson,
  resumeOptions,
} from "./_runs.ts";
import { broadcastText, dataParallel, initWorld, launchedUnderMpi } from "../distributed/mod.ts";

/** The datasets `--dataset` accepts (`folder:<dir>` names an image folder). */
export const PRETRAIN_DATASETS = [
  "mnist",
  "fashion-mnist",
  "synthetic-text",
  "mnist-lines",
  "folder:",
] as const;

/**
 * The default run's budget: steps when neither --steps nor --epochs is given. 600 steps of 64
 * take about 90 s on a quiet 2-core machine and, with {@linkcode SIMCLR_TUNED}, put the SimCLR
 * encoder 5.1 points above raw pixels on the kNN monitor, mean of 3 seeds (400 steps: 4.8; the
 * difference is within this evaluation's seed noise; bench/RESULTS.md, "Learning gap").
 */
export const DEFAULT_STEPS = 600;

/**
 * SimCLR's settings in the tuned recipe (the default `deno task pretrain`), measured on MNIST
 * against a PyTorch twin (bench/RESULTS.md, "Learning gap"): NT-Xent temperature 0.2 (SimCLR's
 * Table 5 range; +0.6 kNN points over 0.5 in the twin) and the paper's plain projection head,
 * Dense -> ReLU -> Dense (with the official code's BatchNorm head the encoder scored 4.9 points
 * lower at 300 steps in the twin, 1.0 in selfsup).
 */
export const SIMCLR_TUNED = { temperature: 0.2, headBatchNorm: false } as const;

/** Every option of `deno task pretrain`, in `--help` order. */
export const PRETRAIN_OPTIONS: readonly OptionSpec[] = [
  {
    name: "method",
    type: "string",
    description: "self-supervised method",
    default: "simclr",
    choices: METHOD_NAMES,
  },
  {
    name: "dataset",
    type: "string",
    description: "training images (folder:<dir> for an image folder)",
    default: "mnist",
    choices: PRETRAIN_DATASETS,
  },
  {
    name: "encoder",
    type: "string",
    description: "encoder architecture",
    choices: ["convnet", "resnet18", "sequence"],
    defaultText: "convnet for MNIST-like data, sequence for text lines, resnet18 for folders",
  },
  {
    name: "widths",
    type: "string",
    description: "comma-separated channel widths of the encoder",
    defaultText: "16,32,64 for convnet (fast on a CPU), else the encoder's own",
  },
  {
    name: "steps",
    type: "integer",
    description: "optimizer steps (overrides --epochs)",
    min: 1,
    defaultText: `${DEFAULT_STEPS} unless --epochs is given`,
  },
  {
    name: "epochs",
    type: "number",
    description: "passes over --train-size images",
    min: 0,
    minExclusive: true,
  },
  { name: "batch-size", type: "integer", description: "images per step", default: 64, min: 2 },
  {
    name: "train-size",
    type: "integer",
    description: "use only the first N training images",
    min: 1,
    defaultText: "all (synthetic lines: 20000)",
  },
  {
    name: "recipe",
    type: "string",
    description: "training recipe: the method's paper (lr x batch/256), the source's, or tuned",
    choices: RECIPE_NAMES,
    defaultText: "tuned for simclr, paper for methods with one, else tuned",
  },
  {
    name: "lr",
    type: "number",
    description: "peak learning rate",
    min: 0,
    minExclusive: true,
    defaultText: "the recipe's",
  },
  {
    name: "optimizer",
    type: "string",
    description: "optimizer",
    defaultText: "the recipe's",
    choices: OPTIMIZER_NAMES,
  },
  {
    name: "momentum",
    type: "number",
    description: "optimizer momentum (sgd, lars)",
    min: 0,
    max: 0.999,
    defaultText: "the recipe's",
  },
  { name: "nesterov", type: "boolean", description: "Nesterov momentum (sgd)" },
  {
    name: "schedule",
    type: "string",
    description: "learning-rate schedule",
    defaultText: "the recipe's",
    choices: SCHEDULE_NAMES,
  },
  {
    name: "warmup",
    type: "integer",
    description: "linear warmup steps",
    min: 0,
    defaultText: "the recipe's fraction of the steps",
  },
  {
    name: "weight-decay",
    type: "number",
    description: "weight decay (never on biases or BatchNorm)",
    min: 0,
    defaultText: "the recipe's",
  },
  {
    name: "clip-norm",
    type: "number",
    description: "clip gradients to this global norm",
    min: 0,
    minExclusive: true,
  },
  {
    name: "temperature",
    type: "number",
    description: "softmax temperature (contrastive methods)",
    min: 0,
    minExclusive: true,
    defaultText: "per method (simclr's tuned default run: 0.2)",
  },
  {
    name: "projection-dim",
    type: "integer",
    description: "output size of the projection head",
    min: 1,
    defaultText: "per method",
  },
  {
    name: "hidden-dim",
    type: "integer",
    description: "hidden size of the heads",
    min: 1,
    defaultText: "per method",
  },
  {
    name: "heads",
    type: "string",
    description: "head family",
    choices: ["paper", "source"],
    defaultText: "source for sequences, else paper",
  },
  {
    name: "queue-size",
    type: "integer",
    description: "MoCo/SwAV queue length",
    min: 0,
    defaultText: "per method",
  },
  {
    name: "ema-momentum",
    type: "number",
    description: "momentum of the key/target encoder (MoCo, BYOL)",
    min: 0,
    max: 1,
    defaultText: "per method",
  },
  {
    name: "prototypes",
    type: "integer",
    description: "SwAV prototypes",
    min: 1,
    defaultText: "per method",
  },
  {
    name: "knn-bank",
    type: "integer",
    description: "labeled training images in the kNN monitor's bank (0: no monitor)",
    default: 2000,
    min: 0,
  },
  {
    name: "knn-queries",
    type: "integer",
    description: "held-out test images the kNN monitor classifies",
    default: 1000,
    min: 1,
  },
  {
    name: "knn-k",
    type: "integer",
    description: "neighbours voting in the kNN monitor",
    default: 200,
    min: 1,
  },
  {
    name: "eval-every",
    type: "integer",
    description: "steps between kNN evaluations",
    min: 1,
    defaultText: "one epoch",
  },
  {
    name: "backend",
    type: "string",
    description: "TensorFlow.js backend (auto: the fastest that works, native here)",
    defaultText: "$SELFSUP_BACKEND, else auto",
    choices: ["auto", "tensorflow", "native", "webgpu", "wasm", "cpu"],
  },
  {
    name: "seed",
    type: "integer",
    description: "seed of initialization, shuffling and views",
    default: 0,
    min: 0,
  },
  {
    name: "run-name",
    type: "string",
    description: "name of the run folder",
    defaultText: "<method>-<dataset>-<time>",
  },
  { name: "out", type: "string", description: "folder that holds the runs", default: "runs" },
  {
    name: "checkpoint-every",
    type: "integer",
    description: "steps between checkpoints (0: only at the end)",
    default: 100,
    min: 0,
  },
  {
    name: "keep-checkpoints",
    type: "integer",
    description: "checkpoints kept on disk, to fall back to when the newest is damaged",
    default: 2,
    min: 1,
  },
  {
    name: "resume",
    type: "boolean",
    description: "continue runs/<run-name> from its checkpoint with its saved config",
  },
  { name: "quiet", type: "boolean", description: "no progress output" },
  {
    name: "export",
    type: "string",
    description: "also write the encoder (tfjs LayersModel) to this folder; " +
      "<out>/<run-name>/encoder/ always has it",
  },
  {
    name: "sync-bn",
    type: "boolean",
    description: "under mpirun: batch norm over the global batch (synchronized across ranks)",
  },
  {
    name: "local-negatives",
    type: "boolean",
    description: "under mpirun: contrastive negatives from each rank's own shard only",
  },
];

const USAGE = "Usage: deno task pretrain [options]\n\n" +
  "Self-supervised pretraining of an encoder; writes <out>/<run-name>/{config.json, metrics.jsonl,\n" +
  "checkpoint/, results.json}. Example:\n" +
  "  deno task pretrain --method simsiam --dataset mnist --steps 500 --batch-size 128";

interface Data {
  train: Dataset;
  labeled?: InMemoryDataset;
  test?: InMemoryDataset;
  kind: "digits" | "text" | "folder";
  label: string;
  images?: ImageCounts;
}

async function loadData(name: string, o: ParsedOptions): Promise<Data> {
  const seed = o.seed as number;
  const size = o.trainSize as number | undefined;
  const head = <T extends Dataset>(ds: T): T =>
    size === undefined || size >= ds.length ? ds : subset(ds, size);
  if (name === "mnist" || name === "fashion-mnist") {
    const load = name === "mnist" ? mnist : fashionMnist;
    const [train, test] = await Promise.all([load("train"), load("test")]);
    return {
      train: head(train),
      labeled: train,
      test,
      kind: "digits",
      label: name === "mnist" ? "MNIST" : "Fashion-MNIST",
    };
  }
  if (name === "synthetic-text") {
    return {
      train: syntheticTextLines({ length: size ?? 20000, seed }),
      kind: "text",
      label: "synthetic text lines",
    };
  }
  if (name === "mnist-lines") {
    return {
      train: await mnistLines({ split: "train", seed, ...(size ? { length: size } : {}) }),
      kind: "text",
      label: "MNIST digit lines",
    };
  }
  const dir = name.slice("folder:".length);
  if (!dir) throw new UsageError('--dataset folder:<dir> needs a folder, received "folder:"');
  const ds = await imageFolder(dir);
  const images = {
    loaded: ds.length,
    skipped: ds.skipped,
    reasons: { ...ds.skippedBy },
    ignored: ds.ignored,
  };
  console.error(`${dir}: ${formatCounts(images)}`);
  return { train: head(ds), kind: "folder", label: dir, images };
}

/** `{ [key]: o[key] }` when the user set it, else `{}`. */
function pick(o: ParsedOptions, key: string): Record<string, unknown> {
  return o[key] === undefined ? {} : { [key]: o[key] };
}

function subset<T extends Dataset>(ds: T, n: number): T {
  return { ...ds, name: `${ds.name}[:${n}]`, length: n, get: (i: number) => ds.get(i) };
}

function imagesOf(ds: InMemoryDataset, n: number): { images: tf.Tensor4D; labels: Uint8Array } {
  const count = Math.min(n, ds.length);
  const [h, w, c] = ds.shape;
  const bytes = ds.images.subarray(0, count * h * w * c);
  return {
    images: tf.tensor4d(Float32Array.from(bytes, (b) => b / 255), [count, h, w, c]),
    labels: ds.labels.slice(0, count),
  };
}

/** What a finished run reports (also written to `results.json`). */
export interface PretrainResults {
  method: string;
  dataset: string;
  encoder: string;
  backend: string;
  steps: number;
  finalLoss: number;
  seconds: number;
  imagesPerSecond: number;
  knnTop1: number | null;
  knnTop1RandomInit: number | null;
  /** The same kNN on the raw pixels of the same bank and queries (the trivial baseline). */
  knnTop1RawPixels: number | null;
  runDir: string;
}

/**
 * Runs `deno task pretrain` with `args`; returns the exit code (0 done, 1 failed or diverged,
 * 2 bad command line) after printing to stdout/stderr.
 *
 * @param args the command-line arguments
 * @returns the exit code
 *
 * @example
 * ```ts
 * import { pretrainMain } from "./pretrain.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await pretrainMain(["--bogus"]), 2);
 * ```
 */
export function pretrainMain(args: string[]): Promise<number> {
  return runCommand(
    args,
    PRETRAIN_OPTIONS,
    USAGE,
    async (o) => (await pretrain(o, givenOptions(args, PRETRAIN_OPTIONS))) ? 0 : 1,
  );
}

/** Settings `--resume` may change (applied with a notice); any other given flag must match. */
const RESUME_MUTABLE = ["steps", "lr", "clipNorm", "warmup", "keepCheckpoints"];

async function pretrain(cli: ParsedOptions, given: ReadonlySet<string>): Promise<PretrainResults> {
  let o = cli;
  // under mpirun: every rank runs this command; --batch-size is per rank, rank 0 writes and talks
  const world = launchedUnderMpi() ? initWorld() : null;
  const ranks = world?.size ?? 1;
  const lead = (world?.rank ?? 0) === 0;
  if (!lead) o = { ...o, quiet: true };
  if (o.runName !== undefined) checkRunName(String(o.runName));
  if (o.resume) {
    if (!o.runName) throw new UsageError("--resume needs --run-name (the run to continue)");
    const dir = `${o.out}/${o.runName}`;
    o = await resumeOptions(dir, "pretrain", lead ? cli : { ...cli, quiet: true }, given, {
      runtime: ["resume", "quiet", "backend", "out", "runName", "verbose", "export"],
      mutable: RESUME_MUTABLE,
      checkpoint: `${dir}/checkpoint`,
    });
    // the same kernels give the same losses
    const saved = await readRunJson<{ resolved?: { backend?: string } }>(`${dir}/config.json`);
    o.backend = cli.backend ?? saved?.resolved?.backend;
    const done = await readRunJson<PretrainResults>(`${dir}/results.json`);
    if (done && !(given.has("steps") && (o.steps as number) > done.steps)) {
      console.log(`run ${dir} is already complete (${done.steps} steps); nothing to resume`);
      return done;
    }
  }
  // no --backend: useBackend reads SELFSUP_BACKEND, else auto
  const backend = await useBackend(o.backend as BackendName | undefined, {
    quiet: !!o.quiet,
    verbose: !!o.verbose,
  });
  const method = o.method as string;
  const datasetName = o.dataset as string;
  const data = await loadData(datasetName, o);
  const [h, w, c] = data.train.shape;
  const encoder = (o.encoder as string | undefined) ??
    (data.kind === "text" ? "sequence" : data.kind === "folder" ? "resnet18" : "convnet");
  // the global batch: --batch-size per rank, times the ranks of mpirun
  const batchSize = (o.batchSize as number) * ranks;
  if (batchSize > data.train.length) {
    throw new UsageError(
      `--batch-size must be at most the ${data.train.length} training images, received ${batchSize}${
        ranks > 1 ? ` (${o.batchSize} on each of ${ranks} ranks)` : ""
      }`,
    );
  }
  const stepsPerEpoch = Math.floor(data.train.length / batchSize);
  const steps = (o.steps as number | undefined) ??
    (o.epochs !== undefined
      ? Math.max(1, Math.round((o.epochs as number) * stepsPerEpoch))
      : DEFAULT_STEPS);
  const recipe = resolveRecipe(method, {
    batchSize,
    steps,
    recipe: o.recipe as RecipeName | undefined,
    optimizer: o.optimizer as "sgd" | "adamw" | "lars" | undefined,
    lr: o.lr as number | undefined,
    momentum: o.momentum as number | undefined,
    nesterov: o.nesterov ? true : undefined,
    weightDecay: o.weightDecay as number | undefined,
    schedule: o.schedule as "cosine" | undefined,
    warmupSteps: o.warmup as number | undefined,
    emaMomentum: o.emaMomentum as number | undefined,
  });
  const { optimizer, lr, warmupSteps: warmup } = recipe;
  if (o.emaMomentum !== undefined && recipe.emaMomentum === undefined) {
    throw new UsageError(
      `--ema-momentum needs a method with a momentum encoder, received ${method}`,
    );
  }
  if (warmup > steps) {
    throw new UsageError(`--warmup must be at most --steps (${steps}), received ${warmup}`);
  }
  let runName = (o.runName as string | undefined) ??
    `${method}-${datasetName.replace(/[^a-z0-9-]/gi, "_")}-${
      new Date().toISOString().replace(/[:.]/g, "-")
    }`;
  if (world) runName = broadcastText(runName, world); // the ranks' clocks differ
  const runDir = `${o.out}/${runName}`;
  if (!o.resume && lead) {
    // nothing lost: not another task's run, not a checkpoint (an interrupted save's included)
    await guardFreshRun(runDir, [`${runDir}/checkpoint`]);
  }
  // Digits: mnistAugment for every method (the papers' flips and color ops do not fit grayscale
  // digits); text: the text preset; folders: each method's paper views.
  const augment = data.kind === "digits"
    ? mnistAugment()
    : data.kind === "text"
    ? textAugment()
    : recipe.augment === "simclr" || recipe.augment === "data"
    ? simclrAugment()
    : undefined;
  if (data.kind !== "folder" && recipe.augment !== "method") recipe.augment = "data";
  const methodOptions: CreateMethodOptions = {
    encoder: encoder as "convnet",
    inputShape: [h, w, c],
    seed: o.seed as number,
    ...(augment ? { augment } : {}),
  };
  // SimCLR with the tuned recipe: the default run's measured temperature and head
  const simclrTuned = method === "simclr" && recipe.recipe === "tuned";
  const extra: Record<string, unknown> = {
    widths: o.widths === undefined
      ? (encoder === "convnet" ? [16, 32, 64] : undefined)
      : String(o.widths).split(",").map((s) => {
        const v = Number(s);
        if (!Number.isInteger(v) || v < 1) {
          throw new UsageError(
            `--widths must be positive integers separated by commas, received "${o.widths}"`,
          );
        }
        return v;
      }),
    temperature: o.temperature ?? (simclrTuned ? SIMCLR_TUNED.temperature : undefined),
    headBatchNorm: simclrTuned ? SIMCLR_TUNED.headBatchNorm : undefined,
    projectionDim: o.projectionDim,
    hiddenDim: o.hiddenDim,
    heads: o.heads,
    queueSize: o.queueSize,
    momentum: (method.startsWith("moco") || method === "byol") ? recipe.emaMomentum : undefined,
    prototypes: o.prototypes,
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v !== undefined) (methodOptions as unknown as Record<string, unknown>)[k] = v;
  }
  const setup = createMethod(method, methodOptions);

  const config = {
    command: "pretrain",
    options: o,
    resolved: {
      backend,
      encoder,
      steps,
      stepsPerEpoch,
      lr,
      warmup,
      recipe,
      ...(simclrTuned ? { simclr: { ...SIMCLR_TUNED, ...pick(o, "temperature") } } : {}),
      trainImages: data.train.length,
      ...(data.images ? { images: data.images } : {}),
      inputShape: [h, w, c],
      ...(world ? { ranks, batchPerRank: o.batchSize } : {}),
      // createMethod(method, methodOptions) rebuilds the nets (the augmentation is a function:
      // the dataset's preset, rebuilt from options)
      methodOptions: { ...methodOptions, augment: undefined },
    },
  };
  if (lead) {
    await Deno.mkdir(runDir, { recursive: true });
    await Deno.writeTextFile(`${runDir}/config.json`, JSON.stringify(config, null, 2) + "\n");
  }

  const heldOut = data.labeled && data.test && (o.knnBank as number) > 0
    ? {
      bank: imagesOf(data.labeled, o.knnBank as number),
      queries: imagesOf(data.test, o.knnQueries as number),
    }
    : null;
  const heldOutSets = heldOut
    ? {
      trainImages: heldOut.bank.images,
      trainLabels: heldOut.bank.labels,
      testImages: heldOut.queries.images,
      testLabels: heldOut.queries.labels,
    }
    : null;
  // k beyond the bank votes with the whole bank: report the k actually used
  const knnK = Math.min(o.knnK as number, heldOut?.bank.labels.length ?? Infinity);
  if (heldOut && knnK < (o.knnK as number) && !o.quiet) {
    console.error(`--knn-k ${o.knnK} is more than the ${knnK} bank images: using k=${knnK}`);
  }
  const monitor = heldOutSets ? knnMonitor(setup.encoder, heldOutSets, { k: knnK }) : null;
  const rawPixels = heldOutSets ? knnRawPixels(heldOutSets, { k: knnK }) : null;

  const loaderSeed = o.seed as number;
  const trainOptions: TrainOptions<unknown> = {
    steps,
    stepsPerEpoch,
    optimizer,
    lr,
    schedule: recipe.schedule,
    warmupSteps: warmup,
    minLr: recipe.minLr,
    weightDecay: recipe.weightDecay,
    momentum: recipe.momentum,
    nesterov: recipe.nesterov,
    lrGroups: recipeLrGroups(recipe, setup.nets, setup.method.trainable(setup.nets)),
    seed: o.seed as number,
    outDir: runDir,
    checkpointEvery: o.checkpointEvery as number,
    keepCheckpoints: (o.keepCheckpoints as number | undefined) ?? 2,
    resume: !!o.resume,
    config,
    progress: !o.quiet,
    evaluateAtStart: true,
    evaluateEvery: (o.evalEvery as number | undefined) ?? stepsPerEpoch,
    distributed: world
      ? dataParallel({ world, syncBatchNorm: !!o.syncBn, gatherNegatives: !o.localNegatives })
      : null,
  };
  if (o.clipNorm !== undefined) trainOptions.clipNorm = o.clipNorm as number;
  if (monitor) trainOptions.evaluate = () => monitor();

  if (!o.quiet) {
    console.error(
      `pretraining ${method} (${encoder} encoder) on ${data.label} [${h}x${w}x${c}], ${steps} steps of ${batchSize}${
        ranks > 1 ? ` (${ranks} ranks x ${o.batchSize})` : ""
      } ` +
        `on ${backend}; writing ${runDir}`,
    );
    console.error(formatRecipe(recipe));
    if (simclrTuned) {
      console.error(
        `simclr (tuned): NT-Xent temperature ${
          o.temperature ?? SIMCLR_TUNED.temperature
        }, projection head Dense -> ReLU -> Dense (the paper's, no BatchNorm)`,
      );
    }
  }
  const t0 = performance.now();
  try {
    const result = await train(
      setup as unknown as Parameters<typeof train>[0],
      (position) =>
        new Loader(data.train, {
          batchSize,
          seed: loaderSeed,
          epochs: Infinity,
          ...(position ? { position: position as never } : {}),
        }),
      trainOptions,
    );
    if (!lead) {
      tf.dispose(treeTensors(result.state));
      return { method, steps: result.steps, runDir } as PretrainResults;
    }
    const evals = result.evaluations;
    const all = await readEvals(`${runDir}/metrics.jsonl`);
    const initial = all.find((r) => r.step === 0)?.knnTop1 ?? null;
    const final = evals.length > 0 ? evals[evals.length - 1].knnTop1 as number : null;
    const lastLoss = result.history.length > 0
      ? result.history[result.history.length - 1].loss as number
      : NaN;
    const results: PretrainResults = {
      method,
      dataset: datasetName,
      encoder,
      backend,
      steps: result.steps,
      finalLoss: lastLoss,
      seconds: (performance.now() - t0) / 1000,
      imagesPerSecond: result.imagesPerSecond,
      knnTop1: final,
      knnTop1RandomInit: initial as number | null,
      knnTop1RawPixels: rawPixels,
      runDir,
    };
    await Deno.writeTextFile(`${runDir}/results.json`, JSON.stringify(results, null, 2) + "\n");
    console.log(`run written to ${runDir}`);
    if (result.encoder) {
      console.log(`encoder: ${result.encoder} (tfjs LayersModel: loadEncoder, a browser)`);
    }
    if (o.export) {
      await exportEncoder(setup.encoder, o.export as string);
      console.log(`encoder also written to ${o.export}`);
    }
    console.log(
      `${method}: ${result.steps} steps, final loss ${lastLoss.toFixed(4)}, ${
        result.imagesPerSecond.toFixed(1)
      } images/s on ${backend}`,
    );
    if (final !== null) {
      console.log(
        `kNN top-1 (k=${knnK}) on ${
          heldOut!.queries.labels.length
        } held-out ${data.label} test images: ` +
          `${(100 * final).toFixed(1)}%` +
          (initial !== null
            ? ` vs ${(100 * (initial as number)).toFixed(1)}% for the random-init encoder`
            : "") +
          (rawPixels !== null ? ` and ${(100 * rawPixels).toFixed(1)}% for raw pixels` : ""),
      );
    }
    tf.dispose(treeTensors(result.state));
    return results;
  } finally {
    if (heldOut) tf.dispose([heldOut.bank.images, heldOut.queries.images]);
  }
}

async function readEvals(path: string): Promise<Record<string, number>[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l)).filter((r) =>
    r.kind === "eval"
  );
}

if (import.meta.main) {
  Deno.exit(await pretrainMain(Deno.args));
}
