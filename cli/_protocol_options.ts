/**
 * The options of `deno task protocol`: the command line, its usage text, and which of them are
 * training settings of the source.
 *
 * @module
 */
import { METHOD_NAMES } from "../methods/mod.ts";
import type { OptionSpec } from "./_args.ts";

/** The reference protocol's set sizes `[0]`: 800k unlabeled, 40k labeled. */
export const REFERENCE_SIZES = { unlabeled: 800_000, labeled: 40_000 } as const;

/** Every option of `deno task protocol`, in `--help` order. */
export const PROTOCOL_OPTIONS: readonly OptionSpec[] = [
  {
    name: "methods",
    type: "string",
    description: `comma-separated self-supervised methods (${METHOD_NAMES.join(", ")})`,
    default: "simclr,simsiam",
  },
  {
    name: "dataset",
    type: "string",
    description: "data: synthetic text lines, MNIST digit lines, or folder:<dir> (image folder)",
    default: "synthetic-text",
    choices: ["synthetic-text", "mnist-lines", "folder:"],
  },
  {
    name: "config",
    type: "string",
    description: "training settings: the source's exactly, or the ones tuned for this scale " +
      "(explicit options override either)",
    default: "source",
    choices: ["source", "tuned"],
  },
  {
    name: "scale",
    type: "string",
    description: "sizes: full (the reference 800,000 unlabeled, 40,000 labeled), machine (sized " +
      "for a 2-core CPU: 50,000 / 5,000, arms at 500-5,000, 1,200 test), or a fraction in (0, 1] " +
      "of the reference",
    default: "full",
  },
  {
    name: "unlabeled",
    type: "integer",
    description: "unlabeled pretraining images (overrides --scale)",
    min: 1,
    defaultText: "800000 x scale, at least one pretraining batch",
  },
  {
    name: "labeled",
    type: "integer",
    description: "labeled images (overrides --scale)",
    min: 1,
    defaultText: "40000 x scale, at least --min-labeled",
  },
  {
    name: "test",
    type: "integer",
    description: "held-out test images",
    min: 1,
    defaultText: "labeled / 4, between 200 and 2000",
  },
  {
    name: "fractions",
    type: "string",
    description: "comma-separated fractions of the labeled set the arms train on",
    default: "0.01,0.1,1",
  },
  {
    name: "min-labeled",
    type: "integer",
    description: "smallest labeled subset (small fractions are raised to it)",
    default: 8,
    min: 1,
  },
  {
    name: "epochs-scale",
    type: "number",
    description: "multiplies every stage's epochs (labeled stages: rounded, at least 1)",
    default: 1,
    min: 0,
    minExclusive: true,
  },
  {
    name: "pretrain-epochs",
    type: "number",
    description: "stage 1 epochs over the unlabeled set",
    default: 10,
    min: 0,
    minExclusive: true,
  },
  {
    name: "head-epochs",
    type: "integer",
    description: "stage 2 epochs",
    default: 10,
    min: 1,
  },
  {
    name: "finetune-epochs",
    type: "integer",
    description: "stage 3 epochs",
    default: 40,
    min: 1,
  },
  {
    name: "supervised-epochs",
    type: "integer",
    description: "baseline epochs",
    default: 50,
    min: 1,
  },
  {
    name: "pretrain-batch",
    type: "integer",
    description: "stage 1 batch size",
    default: 96,
    min: 2,
  },
  {
    name: "pretrain-lr",
    type: "number",
    description: "stage 1 learning rate (SGD)",
    default: 3e-4,
    min: 0,
    minExclusive: true,
  },
  {
    name: "momentum",
    type: "number",
    description: "stage 1 SGD momentum",
    default: 0.8,
    min: 0,
    max: 0.999,
  },
  {
    name: "batch-size",
    type: "integer",
    description: "batch size of the labeled stages (head, fine-tune, baseline)",
    default: 8,
    min: 1,
  },
  {
    name: "head-lr",
    type: "number",
    description: "stage 2 learning rate (AdamW)",
    default: 3e-4,
    min: 0,
    minExclusive: true,
  },
  {
    name: "finetune-lr",
    type: "number",
    description: "stage 3 learning rate (AdamW)",
    default: 3e-5,
    min: 0,
    minExclusive: true,
  },
  {
    name: "supervised-lr",
    type: "number",
    description: "baseline learning rate (AdamW)",
    default: 3e-4,
    min: 0,
    minExclusive: true,
  },
  {
    name: "weight-decay",
    type: "number",
    description: "AdamW decoupled weight decay of the labeled stages",
    default: 0.01,
    min: 0,
  },
  {
    name: "encoder",
    type: "string",
    description: "encoder architecture",
    choices: ["sequence", "convnet", "resnet18"],
    defaultText: "sequence for text lines, convnet for folders of classes",
  },
  {
    name: "widths",
    type: "string",
    description: "comma-separated channel widths of the encoder",
    defaultText: "the encoder's own (sequence: 32,64,128,128)",
  },
  {
    name: "head-hidden",
    type: "integer",
    description: "hidden units of the two-layer head",
    default: 128,
    min: 1,
  },
  {
    name: "umap-points",
    type: "integer",
    description: "test images in the UMAP plots (0: no UMAP)",
    default: 500,
    min: 0,
  },
  {
    name: "backend",
    type: "string",
    description: "TensorFlow.js backend",
    default: "auto",
    choices: ["auto", "tensorflow", "native", "webgpu", "wasm", "cpu"],
  },
  {
    name: "seed",
    type: "integer",
    description: "seed of data, shuffling and views",
    default: 0,
    min: 0,
  },
  {
    name: "seeds",
    type: "string",
    description: "comma-separated seeds: every stage and arm runs once per seed (data fixed by " +
      "--seed), results as mean +- std",
    defaultText: "--seed alone",
  },
  {
    name: "estimate",
    type: "boolean",
    description: "time a few steps of every stage, print the estimated wall time and exit",
  },
  {
    name: "report",
    type: "boolean",
    description: "write report.md and results.json of <out>/<run-name> from the stages " +
      "finished so far (runs nothing)",
  },
  {
    name: "run-name",
    type: "string",
    description: "name of the run folder",
    defaultText: "protocol-<dataset>-<time>",
  },
  { name: "out", type: "string", description: "folder that holds the runs", default: "runs" },
  {
    name: "checkpoint-every",
    type: "integer",
    description: "pretraining steps between checkpoints (0: only at the end)",
    default: 50,
    min: 0,
  },
  {
    name: "import",
    type: "string",
    description: "comma-separated report folders (each with a results.json, e.g. " +
      "docs/protocol/<name>): the seeds of --seeds finished there are taken as they are and not " +
      "run again; refused when a report's settings differ from this run's",
  },
  {
    name: "report-dir",
    type: "string",
    description: "also write results.json, report.md, config.json and plots/ here after every " +
      "finished seed (a folder to commit, e.g. docs/protocol/<name>)",
  },
  {
    name: "resume",
    type: "boolean",
    description: "continue <out>/<run-name>: skip finished stages, resume the interrupted one",
  },
  { name: "quiet", type: "boolean", description: "no progress output" },
];

export const USAGE = "Usage: deno task protocol [options]\n\n" +
  "The source's protocol: self-supervised pretraining, head training on the frozen encoder, full\n" +
  "fine-tuning, and a supervised baseline, at several labeled-set sizes and seeds; writes\n" +
  "<out>/<run-name>/{report.md, results.json, config.json, plots/}. Examples:\n" +
  "  deno task protocol --scale 0.001 --epochs-scale 0.5 --widths 16,32,64   (minutes)\n" +
  "  deno task protocol --scale machine --config tuned --seeds 0,1,2 --estimate";

/** Options that `--resume` takes from the command line instead of the saved run. */
export const RUNTIME_OPTIONS = [
  "resume",
  "quiet",
  "backend",
  "out",
  "runName",
  "estimate",
  "report",
  "reportDir",
];
