/**
 * `deno task protocol`: the full evaluation protocol of our source, end to end.
 *
 * 1. Self-supervised pretraining of each method (SimCLR and SimSiam by default): SGD momentum
 *    0.8, lr 3e-4, batch 96, 10 epochs over the unlabeled set (800,000 images).
 * 2. Head training on the frozen encoder: AdamW lr 3e-4, batch 8, 10 epochs over the labeled set
 *    (40,000); the head is the source's two dense layers, per frame with CTC for text lines.
 * 3. Full fine-tuning of encoder and head: AdamW lr 3e-5, batch 8, 40 epochs.
 *
 * Baseline: the same encoder and head trained from scratch, AdamW lr 3e-4, batch 8, 50 epochs.
 * Stages 2, 3 and the baseline run at 1%, 10% and 100% of the labeled set. Every stage leaves
 * its result under `runs/<name>/`, so `--resume` skips finished stages and continues an
 * interrupted pretraining from its checkpoint. The run writes `results.json`, `report.md` and
 * SVG plots (loss curves, accuracy and CER against labeled-set size, UMAP of embeddings).
 *
 * `[0]` the source document, section "训练流程" (SimCLR/SimSiam on 800k lines, then 40k labels).
 *
 * @example
 * ```ts ignore
 * // deno task protocol --scale 0.001 --epochs-scale 0.5 --widths 16,32,64
 * ```
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import * as tfl from "@tensorflow/tfjs-layers";
import { type BackendName, useBackend } from "../backend/use_backend.ts";
import { withSeed } from "../backend/with_seed.ts";
import { createMethod, METHOD_NAMES } from "../methods/mod.ts";
import type { CreateMethodOptions } from "../methods/mod.ts";
import { Loader } from "../data/mod.ts";
import { mnistAugment, simclrAugment, textAugment } from "../augment/mod.ts";
import { hasCheckpoint, train, type TrainOptions, treeTensors } from "../train/mod.ts";
import {
  ctcHead,
  exportEncoder,
  extractFeatures,
  fineTune,
  loadEncoder,
  plotUmap,
  trainSupervised,
} from "../eval/mod.ts";
import { mlpHead, sequenceEncoder } from "../models/mod.ts";
import {
  camelCase,
  givenOptions,
  type OptionSpec,
  type ParsedOptions,
  runCommand,
  UsageError,
} from "./_args.ts";
import {
  loadProtocolData,
  type MemorySet,
  prefix,
  type ProtocolData,
  type ProtocolSizes,
} from "./_protocol_data.ts";
import { checkRunName, formatCounts, guardFreshRun, resumeOptions } from "./_runs.ts";
import {
  broadcastText,
  dataParallel,
  initWorld,
  launchedUnderMpi,
  type World,
} from "../distributed/mod.ts";
import {
  type ArmRecord,
  compareAtSmallest,
  type PretrainRecord,
  type ProtocolResults,
  reportMarkdown,
  writePlots,
} from "./_protocol_report.ts";

export type { ArmRecord, Comparison, PretrainRecord, ProtocolResults } from "./_protocol_report.ts";

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

const USAGE = "Usage: deno task protocol [options]\n\n" +
  "The source's protocol: self-supervised pretraining, head training on the frozen encoder, full\n" +
  "fine-tuning, and a supervised baseline, at 1%, 10% and 100% of the labeled set; writes\n" +
  "<out>/<run-name>/{report.md, results.json, plots/}. Example (minutes on a CPU):\n" +
  "  deno task protocol --scale 0.001 --epochs-scale 0.5 --widths 16,32,64";

/** Options that `--resume` takes from the command line instead of the saved run. */
const RUNTIME_OPTIONS = ["resume", "quiet", "backend", "out", "runName"];

/**
 * Options that are not training settings of the source: data and sizes (the report states them
 * against the reference sizes), bookkeeping and output.
 */
const NOT_SOURCE_SETTINGS = [
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
 * import { PROTOCOL_OPTIONS, sourceDifferences } from "./protocol.ts";
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

/** Resolved settings of a run. */
interface Plan {
  name: string;
  dir: string;
  methods: string[];
  dataset: string;
  sizes: ProtocolSizes;
  labeledSizes: number[];
  fractions: number[];
  encoder: "sequence" | "convnet" | "resnet18";
  widths?: number[];
  epochs: { pretrain: number; head: number; fineTune: number; supervised: number };
  o: ParsedOptions;
}

function list(text: string, flag: string): string[] {
  const items = text.split(",").map((s) => s.trim());
  if (items.some((s) => s.length === 0)) {
    // "simclr,,simsiam" or a trailing comma: a typo, not a list of two
    throw new UsageError(
      `--${flag} must be a comma-separated list without empty entries, received "${text}"`,
    );
  }
  return items;
}

function plan(o: ParsedOptions): Plan {
  const methods = list(o.methods as string, "methods");
  for (const m of methods) {
    if (!METHOD_NAMES.includes(m)) {
      throw new UsageError(
        `--methods must list some of ${METHOD_NAMES.join(", ")}, received "${m}"`,
      );
    }
  }
  if (new Set(methods).size !== methods.length) {
    throw new UsageError(`--methods must not repeat a method, received "${o.methods}"`);
  }
  const fractions = list(o.fractions as string, "fractions").map((s) => {
    const v = Number(s);
    if (!(v > 0 && v <= 1)) {
      throw new UsageError(`--fractions must be numbers in (0, 1], received "${o.fractions}"`);
    }
    return v;
  }).sort((a, b) => a - b);
  const widths = o.widths === undefined
    ? undefined
    : list(o.widths as string, "widths").map((s) => {
      const v = Number(s);
      if (!Number.isInteger(v) || v < 1) {
        throw new UsageError(
          `--widths must be positive integers separated by commas, received "${o.widths}"`,
        );
      }
      return v;
    });
  const scale = o.scale as number;
  const pretrainBatch = o.pretrainBatch as number;
  const minLabeled = o.minLabeled as number;
  const unlabeled = (o.unlabeled as number | undefined) ??
    Math.max(pretrainBatch, Math.round(REFERENCE_SIZES.unlabeled * scale));
  const labeled = (o.labeled as number | undefined) ??
    Math.max(minLabeled, Math.round(REFERENCE_SIZES.labeled * scale));
  const test = (o.test as number | undefined) ??
    Math.min(2000, Math.max(200, Math.round(labeled / 4)));
  if (unlabeled < pretrainBatch) {
    throw new UsageError(
      `--unlabeled must hold at least one pretraining batch (${pretrainBatch}), received ${unlabeled}`,
    );
  }
  const labeledSizes = [
    ...new Set(
      fractions.map((f) => Math.min(labeled, Math.max(minLabeled, Math.round(f * labeled)))),
    ),
  ];
  const es = o.epochsScale as number;
  const scaled = (e: number) => Math.max(1, Math.round(e * es));
  const dataset = o.dataset as string;
  if (dataset === "folder:") {
    throw new UsageError('--dataset folder:<dir> needs a folder, received "folder:"');
  }
  const encoder = (o.encoder as Plan["encoder"] | undefined) ??
    (dataset.startsWith("folder:") ? "convnet" : "sequence");
  const name = (o.runName as string | undefined) ??
    `protocol-${dataset.replace(/[^a-z0-9-]/gi, "_")}-${
      new Date().toISOString().replace(/[:.]/g, "-")
    }`;
  return {
    name,
    dir: `${o.out}/${name}`,
    methods,
    dataset,
    sizes: { unlabeled, labeled, test },
    labeledSizes,
    fractions,
    encoder,
    ...(widths ? { widths } : {}),
    epochs: {
      pretrain: (o.pretrainEpochs as number) * es,
      head: scaled(o.headEpochs as number),
      fineTune: scaled(o.finetuneEpochs as number),
      supervised: scaled(o.supervisedEpochs as number),
    },
    o,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(value, null, 2) + "\n");
  await Deno.rename(tmp, path);
}

/** A fresh copy of a saved model. */
async function load(dir: string): Promise<tfl.LayersModel> {
  return await loadEncoder(dir);
}

/** Everything a stage needs. */
interface Context {
  p: Plan;
  data: ProtocolData;
  backend: string;
  say: (line: string) => void;
  quiet: boolean;
  /** The mpirun job (null in one process): every rank pretrains, rank 0 alone writes. */
  world: World | null;
}

function buildEncoder(p: Plan, shape: [number, number, number]): tfl.LayersModel {
  const [h, w, c] = shape;
  if (p.encoder === "sequence") {
    return sequenceEncoder({ inputShape: [h, w, c], ...(p.widths ? { widths: p.widths } : {}) });
  }
  // the method's own builder makes convnet/resnet18 exactly as pretraining does
  const setup = createMethod("simclr", {
    encoder: p.encoder,
    inputShape: shape,
    seed: p.o.seed as number,
    ...(p.widths ? { widths: p.widths } : {}),
  });
  return setup.encoder;
}

function buildHead(p: Plan, data: ProtocolData, featureDim: number): tfl.LayersModel {
  const hidden = p.o.headHidden as number;
  if (data.task === "sequence") {
    return ctcHead(data.charset!.length, featureDim, { hiddenUnits: hidden });
  }
  return mlpHead(featureDim, [{ units: hidden, after: ["relu"] }, { units: data.numClasses! }], {
    name: "mlp_head",
  });
}

/**
 * The randomly initialized encoder and head, saved once: pretraining starts from this encoder and
 * the baseline from the same weights, so pretraining is the only difference between the arms.
 */
async function initialModels(ctx: Context): Promise<{ featureDim: number; sequence: boolean }> {
  const { p, data } = ctx;
  const encDir = `${p.dir}/init/encoder`, headDir = `${p.dir}/init/head`;
  if (!(await exists(`${headDir}/model.json`))) {
    // every initializer seeded: the same --seed gives the same nets, hence the same results
    const seed = p.o.seed as number;
    const encoder = withSeed(seed, () => buildEncoder(p, data.shape));
    const shape = encoder.outputs[0].shape;
    const featureDim = shape[shape.length - 1] as number;
    const head = withSeed(seed + 1, () => buildHead(p, data, featureDim));
    if (data.task === "sequence" && shape.length !== 3) {
      throw new UsageError(
        `--encoder ${p.encoder} gives [B, D] features; text lines need the sequence encoder`,
      );
    }
    await exportEncoder(encoder, encDir);
    await exportEncoder(head, headDir);
    encoder.dispose();
    head.dispose();
  }
  const encoder = await load(encDir);
  const shape = encoder.outputs[0].shape;
  encoder.dispose();
  return { featureDim: shape[shape.length - 1] as number, sequence: shape.length === 3 };
}

async function stepLosses(path: string): Promise<number[]> {
  const text = await Deno.readTextFile(path);
  const byStep = new Map<number, number>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    if (r.kind === "step" && typeof r.loss === "number") byStep.set(r.step, r.loss);
  }
  return [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

function disposeModels(x: unknown, keep: Set<unknown>, seen = new Set<unknown>()): void {
  if (!x || typeof x !== "object" || seen.has(x)) return;
  seen.add(x);
  if (x instanceof tfl.LayersModel) {
    if (!keep.has(x)) {
      try {
        x.dispose();
      } catch {
        // a model that shares its layers with one disposed before
      }
    }
    return;
  }
  if (Array.isArray(x)) x.forEach((v) => disposeModels(v, keep, seen));
  else if (Object.getPrototypeOf(x) === Object.prototype) {
    Object.values(x).forEach((v) => disposeModels(v, keep, seen));
  }
}

/** Stage 1 for one method; skipped when `done.json` exists. */
async function pretrainStage(ctx: Context, method: string): Promise<PretrainRecord> {
  const { p, data, say, world } = ctx;
  const dir = `${p.dir}/pretrain-${method}`;
  const done = await readJson<PretrainRecord>(`${dir}/done.json`);
  if (done) {
    say(`stage 1 ${method}: finished earlier (${done.steps} steps), skipped`);
    return done;
  }
  // under mpirun: --pretrain-batch per rank, the global batch that times the ranks
  const ranks = world?.size ?? 1;
  const lead = (world?.rank ?? 0) === 0;
  const batchSize = (p.o.pretrainBatch as number) * ranks;
  if (batchSize > data.unlabeled.length) {
    throw new UsageError(
      `--unlabeled must hold at least one global pretraining batch (${batchSize}: ${p.o.pretrainBatch} on each of ${ranks} ranks), received ${data.unlabeled.length}`,
    );
  }
  const stepsPerEpoch = Math.floor(data.unlabeled.length / batchSize);
  const steps = Math.max(1, Math.round(p.epochs.pretrain * stepsPerEpoch));
  // any intact checkpoint, also one a save killed between its renames left as checkpoint.step-N
  const resumed = await hasCheckpoint(`${dir}/checkpoint`);
  const augment = data.task === "sequence"
    ? textAugment()
    : data.shape[0] <= 28
    ? mnistAugment()
    : simclrAugment();
  const encoder = await load(`${p.dir}/init/encoder`);
  const options: CreateMethodOptions = {
    encoder,
    inputShape: data.shape,
    seed: p.o.seed as number,
    augment,
  };
  const setup = createMethod(method, options);
  const lr = p.o.pretrainLr as number;
  say(
    `stage 1 ${method}: ${steps} steps of ${batchSize} (${
      p.epochs.pretrain.toFixed(2)
    } epochs of ${data.unlabeled.length}${
      ranks > 1 ? `; ${ranks} ranks x ${p.o.pretrainBatch}` : ""
    }), SGD momentum ${p.o.momentum} lr ${lr}${resumed ? ", resuming from its checkpoint" : ""}`,
  );
  const trainOptions: TrainOptions<unknown> = {
    steps,
    stepsPerEpoch,
    optimizer: "sgd",
    lr,
    momentum: p.o.momentum as number,
    schedule: "constant",
    weightDecay: 0,
    seed: p.o.seed as number,
    outDir: dir,
    checkpointEvery: p.o.checkpointEvery as number,
    resume: resumed,
    config: {
      command: "protocol",
      stage: "pretrain",
      method,
      options: p.o,
      ...(world ? { ranks, batchPerRank: p.o.pretrainBatch } : {}),
    },
    progress: !ctx.quiet,
    distributed: world ? dataParallel({ world }) : null,
  };
  const t0 = performance.now();
  const result = await train(
    setup as unknown as Parameters<typeof train>[0],
    (position) =>
      new Loader(data.unlabeled, {
        batchSize,
        seed: p.o.seed as number,
        epochs: Infinity,
        concurrency: 4,
        ...(position ? { position: position as never } : {}),
      }),
    trainOptions,
  );
  const seconds = (performance.now() - t0) / 1000;
  if (!lead) {
    // the other ranks' part ends here: rank 0 exports the encoder and records the stage
    tf.dispose(
      treeTensors(result.state).filter((t) => !(t instanceof tf.Variable) && !t.isDisposed),
    );
    disposeModels([setup.nets, setup.encoder], new Set());
    return { method, steps: result.steps } as PretrainRecord;
  }
  await exportEncoder(setup.encoder, `${dir}/encoder`);
  const losses = await stepLosses(`${dir}/metrics.jsonl`);
  const record: PretrainRecord = {
    method,
    steps: result.steps,
    epochs: p.epochs.pretrain,
    batchSize,
    lr,
    finalLoss: losses.length > 0 ? losses[losses.length - 1] : NaN,
    losses,
    seconds,
    resumed,
  };
  tf.dispose(
    treeTensors(result.state).filter((t) => !(t instanceof tf.Variable) && !t.isDisposed),
  );
  disposeModels([setup.nets, setup.encoder], new Set());
  await writeJson(`${dir}/done.json`, record);
  say(
    `stage 1 ${method}: done, final loss ${record.finalLoss.toFixed(4)} in ${seconds.toFixed(1)} s`,
  );
  return record;
}

/** One labeled arm: head, fine-tune or supervised, at one labeled size; skipped when done. */
async function armStage(
  ctx: Context,
  stage: ArmRecord["stage"],
  method: string | null,
  n: number,
): Promise<ArmRecord> {
  const { p, data, say } = ctx;
  const arm = stage === "supervised" ? "supervised" : `ssl-${method}+${stage}`;
  const id = stage === "supervised" ? `supervised-${n}` : `${stage}-${method}-${n}`;
  const file = `${p.dir}/arms/${id}.json`;
  const done = await readJson<ArmRecord>(file);
  if (done) {
    say(`${arm} n=${n}: finished earlier, skipped`);
    return done;
  }
  await Deno.mkdir(`${p.dir}/arms`, { recursive: true });
  const encoder = await load(
    stage === "supervised" ? `${p.dir}/init/encoder` : `${p.dir}/pretrain-${method}/encoder`,
  );
  // the fine-tuning arm starts from the head that stage 2 trained (the source's order)
  const head = await load(
    stage === "fine-tune" ? `${p.dir}/arms/head-${method}-${n}/head` : `${p.dir}/init/head`,
  );
  const [lr, epochs] = stage === "head"
    ? [p.o.headLr as number, p.epochs.head]
    : stage === "fine-tune"
    ? [p.o.finetuneLr as number, p.epochs.fineTune]
    : [p.o.supervisedLr as number, p.epochs.supervised];
  const batchSize = p.o.batchSize as number;
  say(`${arm} n=${n}: ${epochs} epochs, AdamW lr ${lr}, batch ${batchSize}`);
  const every = Math.max(1, Math.round(epochs / 5));
  const t0 = performance.now();
  const fit = stage === "supervised" ? trainSupervised : fineTune;
  const r = await fit(encoder, head, prefix(data.labeled, n), {
    lr,
    epochs,
    batchSize,
    weightDecay: p.o.weightDecay as number,
    seed: p.o.seed as number,
    trainEncoder: stage !== "head",
    test: data.test,
    onEpoch: (e, loss) => {
      if (!ctx.quiet && ((e + 1) % every === 0 || e === 0)) {
        say(`  ${arm} n=${n} epoch ${e + 1}/${epochs}: loss ${loss.toFixed(4)}`);
      }
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  if (stage === "head") await exportEncoder(head, `${p.dir}/arms/${id}/head`);
  encoder.dispose();
  head.dispose();
  const m = r.metrics!;
  const record: ArmRecord = {
    arm,
    stage,
    method,
    labeled: n,
    fraction: n / data.labeled.length,
    epochs,
    lr,
    batchSize,
    accuracy: m.accuracy,
    cer: m.cer ?? null,
    testCount: m.count,
    losses: r.losses,
    seconds,
  };
  await writeJson(file, record);
  say(
    `${arm} n=${n}: accuracy ${(100 * m.accuracy).toFixed(1)}%${
      m.cer !== undefined ? `, CER ${m.cer.toFixed(3)}` : ""
    } on ${m.count} test images (${seconds.toFixed(1)} s)`,
  );
  return record;
}

/** UMAP of mean-pooled test embeddings of each pretrained encoder and of the random init. */
async function umapStage(ctx: Context): Promise<ProtocolResults["umap"]> {
  const { p, data, say } = ctx;
  const count = Math.min(p.o.umapPoints as number, data.test.length);
  if (count < 10) return null;
  const set: MemorySet = prefix(data.test, count);
  const charset = data.charset;
  const labels = set.samples.map((s) =>
    data.task === "sequence" ? charset!.indexOf(s.text![0]) : s.label ?? 0
  );
  const classNames = data.task === "sequence" ? Array.from(charset!) : undefined;
  const plots: string[] = [];
  const encoders: [string, string][] = [
    ["random-init", `${p.dir}/init/encoder`],
    ...p.methods.map((m): [string, string] => [m, `${p.dir}/pretrain-${m}/encoder`]),
  ];
  for (const [name, dir] of encoders) {
    const file = `umap_${name.replace(/[^a-z0-9]/gi, "_")}.svg`;
    const encoder = await load(dir);
    const features = await extractFeatures(encoder, set, { pool: "mean", batchSize: 64 });
    await plotUmap(features, labels, `${p.dir}/plots/${file}`, {
      seed: p.o.seed as number,
      title: `${
        name === "random-init" ? "random-init" : `${name}-pretrained`
      } encoder: ${count} test ${
        data.task === "sequence" ? "lines by first character" : "images by label"
      }`,
      ...(classNames ? { classNames } : {}),
      nNeighbors: Math.min(15, count - 1),
    });
    features.dispose();
    encoder.dispose();
    plots.push(file);
    say(`umap: plots/${file}`);
  }
  return {
    plots,
    coloring: data.task === "sequence"
      ? "each point is one test line's embedding, the mean of its frame features [L, D] over the " +
        "L frames (the frozen encoder after stage 1, or at random init); the color is the line's " +
        "first character. Frames carry no character alignment, so a per-frame coloring would " +
        "need a trained recognizer's alignment; the first character is the ground-truth label " +
        "nearest to one line."
      : "each point is one test image's pooled embedding, colored by its class.",
  };
}

/**
 * Runs `deno task protocol` with `args`; returns the exit code (0 done, 1 failed or diverged, 2
 * bad command line) after printing to stdout/stderr.
 *
 * @param args the command-line arguments
 * @returns the exit code
 *
 * @example
 * ```ts
 * import { protocolMain } from "./protocol.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await protocolMain(["--bogus"]), 2);
 * ```
 */
export function protocolMain(args: string[]): Promise<number> {
  return runCommand(args, PROTOCOL_OPTIONS, USAGE, async (o) => {
    await runProtocol(o, givenOptions(args, PROTOCOL_OPTIONS));
    return 0;
  });
}

/**
 * Runs the protocol with parsed options and returns its results (also written to
 * `<out>/<run-name>/results.json` with `report.md` and `plots/`).
 *
 * @param cli options as {@linkcode parseOptions} returns them for {@linkcode PROTOCOL_OPTIONS}
 * @param given the options given explicitly (with `--resume`, any that differs from the saved
 *   run is refused)
 * @returns the results
 */
export async function runProtocol(
  cli: ParsedOptions,
  given: ReadonlySet<string> = new Set(),
): Promise<ProtocolResults> {
  // under mpirun: every rank runs this command and pretrains its shard; rank 0 writes and talks
  const world = launchedUnderMpi() ? initWorld() : null;
  if (!world || world.size === 1) return await protocolRun(cli, given, world);
  try {
    return await protocolRun(cli, given, world);
  } catch (e) {
    // one rank failing alone (rank 0 refusing an existing run, a failed arm) would leave the
    // others waiting at a barrier: end the whole job
    console.error(`rank ${world.rank}: ${e instanceof Error ? e.message : e}`);
    return world.abort(e instanceof UsageError ? 2 : 1);
  }
}

async function protocolRun(
  cli: ParsedOptions,
  given: ReadonlySet<string>,
  world: World | null,
): Promise<ProtocolResults> {
  let o = cli;
  const lead = (world?.rank ?? 0) === 0;
  if (!lead) o = { ...o, quiet: true };
  if (o.runName !== undefined) checkRunName(String(o.runName));
  if (o.resume) {
    if (!o.runName) throw new UsageError("--resume needs --run-name (the run to continue)");
    o = await resumeOptions(
      `${o.out}/${o.runName}`,
      "protocol",
      lead ? cli : { ...cli, quiet: true },
      given,
      {
        runtime: [...RUNTIME_OPTIONS, "verbose"],
        mutable: [],
      },
    );
  }
  const p = plan(o);
  if (world) {
    // the ranks' clocks differ: rank 0's name for all
    p.name = broadcastText(p.name, world);
    p.dir = `${o.out}/${p.name}`;
  }
  if (!o.resume && lead) {
    await guardFreshRun(p.dir, p.methods.map((m) => `${p.dir}/pretrain-${m}/checkpoint`));
  }
  const quiet = !!o.quiet;
  const say = (line: string) => {
    if (!quiet) console.error(`[protocol] ${line}`);
  };
  const t0 = performance.now();
  const backend = await useBackend(o.backend as BackendName, { quiet });
  const config = {
    command: "protocol",
    options: o,
    resolved: {
      sizes: p.sizes,
      labeledSizes: p.labeledSizes,
      epochs: p.epochs,
      encoder: p.encoder,
      widths: p.widths ?? null,
    },
  };
  // data errors (a missing folder, too few images) surface before anything is written
  const tData = performance.now();
  const data = await loadProtocolData(p.dataset, p.sizes, o.seed as number);
  say(
    `data ready in ${
      ((performance.now() - tData) / 1000).toFixed(1)
    } s: ${data.label} [${data.shape}]`,
  );
  if (data.images && lead) {
    console.error(`${data.label}: ${formatCounts(data.images)}`);
    (config.resolved as Record<string, unknown>).images = data.images;
  }
  if (lead) {
    await Deno.mkdir(`${p.dir}/plots`, { recursive: true });
    if (!o.resume) await writeJson(`${p.dir}/config.json`, config);
  }
  say(
    `${p.dir}: ${p.dataset}, ${p.sizes.unlabeled} unlabeled / ${p.sizes.labeled} labeled (arms at ${
      p.labeledSizes.join(", ")
    }) / ${p.sizes.test} test, methods ${p.methods.join(", ")}, backend ${backend}`,
  );
  const ctx: Context = { p, data, backend, say, quiet, world };
  // rank 0 saves the initial nets; the others wait for them (they pretrain from that encoder)
  const init = lead ? await initialModels(ctx) : null;
  world?.barrier();
  if (!lead) {
    // stage 1 is the data-parallel one; the labeled arms, UMAP and the report are rank 0's alone
    for (const m of p.methods) await pretrainStage(ctx, m);
    world!.barrier(); // until rank 0 has written the run, so mpirun sees every rank end together
    return { name: p.name } as ProtocolResults;
  }
  if (data.task === "sequence" && !init!.sequence) {
    throw new UsageError(
      `--encoder ${p.encoder} gives [B, D] features; text lines need --encoder sequence`,
    );
  }

  const pretraining: PretrainRecord[] = [];
  for (const m of p.methods) pretraining.push(await pretrainStage(ctx, m));
  const arms: ArmRecord[] = [];
  for (const n of p.labeledSizes) {
    for (const m of p.methods) {
      arms.push(await armStage(ctx, "head", m, n));
      arms.push(await armStage(ctx, "fine-tune", m, n));
    }
    arms.push(await armStage(ctx, "supervised", null, n));
  }
  const umap = await umapStage(ctx);
  const partial = { pretraining, arms, task: data.task };
  const plots = await writePlots(`${p.dir}/plots`, partial);
  const results: ProtocolResults = {
    name: p.name,
    dataset: p.dataset,
    task: data.task,
    backend,
    encoder: `${p.encoder}${p.widths ? ` (widths ${p.widths.join(",")})` : ""}, feature dim ${
      init!.featureDim
    }`,
    sizes: { ...p.sizes, labeledSizes: p.labeledSizes },
    split: data.split,
    options: o,
    pretraining,
    arms,
    comparison: compareAtSmallest(arms),
    umap,
    plots,
    seconds: (performance.now() - t0) / 1000,
    sourceDifferences: sourceDifferences(o),
  };
  await writeJson(`${p.dir}/results.json`, results);
  await Deno.writeTextFile(`${p.dir}/report.md`, reportMarkdown(results));
  say(`report: ${p.dir}/report.md (${results.seconds.toFixed(1)} s)`);
  world?.barrier(); // the other ranks wait here for the run to be written
  for (const c of results.comparison) {
    console.log(
      `${c.method} fine-tuned vs supervised at ${c.labeled} labeled: ${
        (100 * c.sslAccuracy).toFixed(1)
      }% vs ${(100 * c.supervisedAccuracy).toFixed(1)}%` + (c.cerMargin !== null
        ? `, CER ${c.sslCer!.toFixed(3)} vs ${c.supervisedCer!.toFixed(3)}`
        : "") +
        ` -> ${c.beats ? "SSL beats" : "SSL does not beat"} the baseline`,
    );
  }
  return results;
}

if (import.meta.main) {
  Deno.exit(await protocolMain(Deno.args));
}
