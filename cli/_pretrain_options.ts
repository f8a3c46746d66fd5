/**
 * The options of `deno task pretrain`: every flag with its help text, default and range, the
 * datasets `--dataset` accepts, the default budget and SimCLR's tuned settings, and what
 * `--resume` may change.
 *
 * @module
 */
import { METHOD_NAMES, RECIPE_NAMES } from "../methods/mod.ts";
import { OPTIMIZER_NAMES, SCHEDULE_NAMES } from "../train/mod.ts";
import type { OptionSpec } from "./_args.ts";

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
    description:
      "training recipe: the method's paper (lr x batch/256), the source's, tuned, or solo-learn's CIFAR (LARS trust 0.02, clipped)",
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
    name: "colorization-prior",
    type: "string",
    description: "colorization's rebalancing prior: running (the batches' running histogram), " +
      "all (over the training set before training, as Zhang et al.) or N (over the first N " +
      "training images)",
    default: "running",
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

/** The opening of `deno task pretrain --help`. */
export const PRETRAIN_USAGE = "Usage: deno task pretrain [options]\n\n" +
  "Self-supervised pretraining of an encoder; writes <out>/<run-name>/{config.json, metrics.jsonl,\n" +
  "checkpoint/, results.json}. Example:\n" +
  "  deno task pretrain --method simsiam --dataset mnist --steps 500 --batch-size 128";

/** Settings `--resume` may change (applied with a notice); any other given flag must match. */
export const RESUME_MUTABLE = ["steps", "lr", "clipNorm", "warmup", "keepCheckpoints"];
