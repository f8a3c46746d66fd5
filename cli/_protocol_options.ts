/**
 * The options of `deno task protocol`: the command line, its usage text, and which of them are
 * training settings of the source.
 *
 * @module
 */
import { METHOD_NAMES } from "../methods/mod.ts";
import { camelCase, type OptionSpec, type ParsedOptions } from "./_args.ts";

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
    name: "scale",
    type: "number",
    description: "fraction of the reference sizes (800,000 unlabeled, 40,000 labeled)",
    default: 1,
    min: 0,
    minExclusive: true,
    max: 1,
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
    name: "resume",
    type: "boolean",
    description: "continue <out>/<run-name>: skip finished stages, resume the interrupted one",
  },
  { name: "quiet", type: "boolean", description: "no progress output" },
];

export const USAGE = "Usage: deno task protocol [options]\n\n" +
  "The source's protocol: self-supervised pretraining, head training on the frozen encoder, full\n" +
  "fine-tuning, and a supervised baseline, at 1%, 10% and 100% of the labeled set; writes\n" +
  "<out>/<run-name>/{report.md, results.json, plots/}. Example (minutes on a CPU):\n" +
  "  deno task protocol --scale 0.001 --epochs-scale 0.5 --widths 16,32,64";

/** Options that `--resume` takes from the command line instead of the saved run. */
export const RUNTIME_OPTIONS = ["resume", "quiet", "backend", "out", "runName"];

/**
 * Options that are not training settings of the source: data and sizes (the report states them
 * against the reference sizes), bookkeeping and output.
 */
export const NOT_SOURCE_SETTINGS = [
  "dataset",
  "scale",
  "unlabeled",
  "labeled",
  "test",
  "umapPoints",
  "backend",
  "seed",
  "runName",
  "out",
  "checkpointEvery",
  "resume",
  "quiet",
];

/**
 * The training settings of `o` that differ from the source's defaults, as
 * `--flag value (source: default)`, in `--help` order.
 *
 * @param o options as {@linkcode parseOptions} returns them for {@linkcode PROTOCOL_OPTIONS}
 * @returns one entry per differing option
 *
 * @example
 * ```ts
 * import { PROTOCOL_OPTIONS, sourceDifferences } from "./_protocol_options.ts";
 * import { parseOptions } from "./_args.ts";
 * import assert from "node:assert/strict";
 * const o = parseOptions(["--finetune-lr", "3e-4", "--seed", "3"], PROTOCOL_OPTIONS);
 * assert.deepEqual(sourceDifferences(o), ["--finetune-lr 0.0003 (source: 0.00003)"]);
 * ```
 */
export function sourceDifferences(o: ParsedOptions): string[] {
  const out: string[] = [];
  for (const spec of PROTOCOL_OPTIONS) {
    const key = camelCase(spec.name);
    if (NOT_SOURCE_SETTINGS.includes(key) || o[key] === undefined || o[key] === spec.default) {
      continue;
    }
    const source = spec.default !== undefined ? String(spec.default) : spec.defaultText ?? "unset";
    out.push(`--${spec.name} ${o[key]} (source: ${source})`);
  }
  return out;
}
