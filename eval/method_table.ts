import { tf } from "../backend/tf.ts";
import * as tfl from "@tensorflow/tfjs-layers";
import { type Augmentation, fashionAugment, mnistAugment } from "../augment/mod.ts";
import { fashionMnist, Loader, mnist } from "../data/mod.ts";
import type { InMemoryDataset } from "../data/in_memory.ts";
import {
  createMethod,
  type CreateMethodOptions,
  formatRecipe,
  type MethodSetup,
  type Recipe,
  type RecipeName,
  resolveRecipe,
  type ResolveRecipeOptions,
} from "../methods/mod.ts";
import { convNet, mlpHead } from "../models/mod.ts";
import { withSeed } from "../backend/with_seed.ts";
import { type BatchSource, recipeTrainOptions, train, treeTensors } from "../train/mod.ts";
import { extractFeatures } from "./extract_features.ts";
import { knnAccuracies } from "./knn_accuracies.ts";
import { linearProbe } from "./linear_probe.ts";

/** The self-supervised methods and pretext tasks the table trains, in table order. */
export const TABLE_METHODS = [
  "simclr",
  "moco-v1",
  "moco-v2",
  "moco-v3",
  "swav",
  "simsiam",
  "byol",
  "barlow-twins",
  "vicreg",
  "rotation",
  "relative-patch",
  "jigsaw",
  "colorization",
  "denoising-autoencoder",
] as const;

/**
 * The pretext tasks among {@linkcode TABLE_METHODS} (issue 14's paper-exact versions, each at its
 * `createMethod` defaults): their rows are of kind `pretext`, the others `ssl`.
 */
export const TABLE_PRETEXT_TASKS: readonly string[] = [
  "rotation",
  "relative-patch",
  "jigsaw",
  "colorization",
  "denoising-autoencoder",
];

/** A row's kind: `baseline` for raw pixels, random init and supervised, else `pretext` or `ssl`. */
export function tableRowKind(method: string): TableRow["kind"] {
  if (method === "raw pixels" || method === "random init" || method === "supervised") {
    return "baseline";
  }
  return TABLE_PRETEXT_TASKS.includes(method) ? "pretext" : "ssl";
}

/**
 * What a trained method's encoder reads downstream, from the table's images (`[B, H, W, C]` in
 * [0, 1]): the images themselves, except for colorization, whose encoder was trained on the L
 * channel (L / 100 of the image in CIE Lab; gray images pseudo-coloured first, as its views do)
 * and is evaluated on it, as Zhang et al. 2016 evaluate their network on grayscale input.
 *
 * @param setup the method as `createMethod` built it
 * @returns the encoder's input for a batch (a new tensor), or `undefined` for the images as they are
 */
export function tableEncoderInput(
  setup: MethodSetup,
): ((images: tf.Tensor4D) => tf.Tensor4D) | undefined {
  if (setup.method.name !== "colorization") return undefined;
  return (images) => {
    const views = setup.method.views(images, 0) as tf.Tensor4D[];
    tf.dispose(views.slice(1));
    return views[0];
  };
}

/** The datasets of the table. */
export const TABLE_DATASETS = ["mnist", "fashion-mnist"] as const;

/** A dataset of the table. */
export type TableDataset = typeof TABLE_DATASETS[number];

/**
 * Small-encoder adaptations of the papers' settings, the same for every budget (see
 * bench/RESULTS.md "Method table"): Barlow Twins' and VICReg's 8192-wide projectors scaled to
 * 4x the 64 features; MoCo v1/v2's queue of 65536 cut to 4096 (lightly's CIFAR-10 benchmark
 * bank); SwAV's `small` preset (100 prototypes, 2 local crops, no queue) with the prototypes
 * frozen for 1/200 of the run (the paper's first epoch of 200: a run of under one epoch would
 * never train them). Colorization's class-rebalancing prior is computed over `trainImages` (the
 * table's whole training set) before training, as Zhang et al. 2016 compute theirs over
 * ImageNet's, not the running estimate of its default.
 */
export function tableMethodOptions(
  method: string,
  steps: number,
  trainImages?: tf.Tensor4D,
): Record<string, unknown> {
  if (method === "colorization") return trainImages ? { priorImages: trainImages } : {};
  if (method === "barlow-twins" || method === "vicreg") return { scaledProjector: true };
  if (method === "moco-v1" || method === "moco-v2") return { queueSize: 4096 };
  if (method === "swav") {
    return { preset: "small", freezePrototypesIterations: Math.round(steps / 200) };
  }
  return {};
}

/** The view presets of the table: `mnist` = `mnistAugment`, `fashion` = `fashionAugment`. */
export const TABLE_VIEWS = ["mnist", "fashion"] as const;

/** A view preset of the table. */
export type TableViews = typeof TABLE_VIEWS[number];

/**
 * Each dataset's default views: `mnistAugment` (tuned for digits) on MNIST, `fashionAugment`
 * (crops and flips, no affine warp, blur or noise) on Fashion-MNIST (bench/RESULTS.md,
 * "Fashion-MNIST views and encoder features").
 */
export const TABLE_DEFAULT_VIEWS: Readonly<Record<TableDataset, TableViews>> = {
  mnist: "mnist",
  "fashion-mnist": "fashion",
};

/** What the table's kNN and probe read from an encoder (see `features` of the options). */
export type TableFeatures = "pooled" | "map";

/**
 * Each dataset's default encoder features: pooled on MNIST, the map before the pooling on
 * Fashion-MNIST, where the 64 pooled features of the 16-32-64 ConvNet stay below raw pixels' kNN
 * for every SSL method measured and the 4 x 4 map (1024 values) does not (bench/RESULTS.md,
 * "Fashion-MNIST views and encoder features"; measured on Fashion-MNIST only).
 */
export const TABLE_DEFAULT_FEATURES: Readonly<Record<TableDataset, TableFeatures>> = {
  mnist: "pooled",
  "fashion-mnist": "map",
};

/** The augmentation of a view preset. */
export function tableAugment(views: TableViews): Augmentation {
  if (views === "mnist") return mnistAugment();
  if (views === "fashion") return fashionAugment();
  throw new RangeError(
    `Cannot build the table's views: expected one of ${
      TABLE_VIEWS.join(", ")
    }, received "${views}"`,
  );
}

/** Options for {@linkcode runMethodTable}. */
export interface MethodTableOptions {
  /** Datasets. @default {both} */
  datasets?: readonly TableDataset[];
  /** Methods (any of {@linkcode TABLE_METHODS}). @default {all} */
  methods?: readonly string[];
  /** Optimizer steps of every pretraining and of the supervised baseline. */
  steps: number;
  /** Images per step. @default 64 */
  batchSize?: number;
  /** Seeds; each row reports mean and std over them. @default [0] */
  seeds?: readonly number[];
  /** Encoder widths (the pretrain CLI's convnet). @default [16, 32, 64] */
  widths?: number[];
  /**
   * Views of every pretraining and of the supervised baseline, per dataset: a preset's name, or
   * (for experiments) an augmentation and the name the report gives it.
   * @default {@linkcode TABLE_DEFAULT_VIEWS}
   */
  views?: Partial<Record<TableDataset, TableViews | { name: string; augment: Augmentation }>>;
  /**
   * Extra options of every method (e.g. SimCLR's `temperature`), after the table's own; for
   * experiments. @default {none}
   */
  methodOptions?: Record<string, unknown>;
  /**
   * Recipe overrides of every pretraining (e.g. `lr`), as `resolveRecipe` takes them; for
   * experiments. @default {none}
   */
  recipeOptions?: Partial<ResolveRecipeOptions>;
  /**
   * What the kNN and the probe read from an encoder, per dataset: its pooled features, or the
   * flattened map before its global pooling (4 x 4 x 64 = 1024 values for the 16-32-64 ConvNet at
   * 28 px).
   * @default {@linkcode TABLE_DEFAULT_FEATURES}
   */
  features?: Partial<Record<TableDataset, TableFeatures>>;
  /** Epochs of the linear probe over the 60k training features. @default 10 */
  probeEpochs?: number;
  /** Recipe family of every method. @default {each method's default (`defaultRecipeName`)} */
  recipe?: RecipeName;
  /** Leave out the baselines (raw pixels, random init, supervised). @default false */
  skipBaselines?: boolean;
  /**
   * Leave out the supervised baseline only (raw pixels and random init still run): for a report
   * of rows measured against random init, where a training per seed would be spent on a row it
   * does not read.
   * @default false
   */
  skipSupervised?: boolean;
  /** Progress lines. @default {none} */
  log?: (line: string) => void;
  /**
   * Show each pretraining's and supervised training's progress with its ETA (`train()`'s
   * display: a bar on a terminal, plain lines otherwise): `true` writes it to stderr, a function
   * receives its text.
   * @default false
   */
  progress?: boolean | ((text: string) => void);
  /**
   * Called after every seed of a row, with the row as it stands (the seeds done so far) and every
   * row so far, so a caller can write a partial report that `previous` reads back.
   */
  onRow?: (row: TableRow, rows: TableRow[]) => void | Promise<void>;
  /**
   * Called with every trained encoder (each method's and the supervised baseline's, per seed)
   * and the random-init one, after the table scored it and before it is disposed: a caller can
   * save it (`exportEncoder`) or read it again (bench/knn_variants.ts).
   */
  onEncoder?: (
    encoder: tfl.LayersModel,
    info: { dataset: TableDataset; method: string; seed: number },
  ) => void | Promise<void>;
  /**
   * Reads each method's encoder while it pretrains (bench/pretext_curve.ts: the probe along
   * training): `read` is called every `every` steps, after the last step, and before the first
   * with `atStart`, with the encoder and the steps done. Not called for the supervised baseline.
   * @default {none}
   */
  duringTraining?: {
    every: number;
    atStart?: boolean;
    read: (
      encoder: tfl.LayersModel,
      info: { dataset: TableDataset; method: string; seed: number; step: number },
    ) => void | Promise<void>;
  };
  /**
   * Rows of an earlier, interrupted run of the same configuration (steps, batch, probe epochs,
   * recipe): a seed of a (dataset, method) found there is read back instead of run again, so a
   * killed table continues where it stopped. Seeds that failed there (not in `seeds`) run again;
   * its rows that this run does not reach or does not run are kept (in the reports to `onRow` and
   * in the result, after the run's own). Each seed run joins the row read back by
   * {@linkcode joinSeeds}, the rule `--from` merges reports by: a row made with another recipe
   * takes no seed of this run (its error says so).
   * @default {none: everything runs}
   */
  previous?: readonly TableRow[];
  /**
   * Loads a dataset split (tests pass small sets).
   * @default {the library's `mnist` / `fashionMnist` loaders}
   */
  loadDataset?: (dataset: TableDataset, split: "train" | "test") => Promise<InMemoryDataset>;
}

/** One row of the table: a method or baseline on a dataset, one value per seed. */
export interface TableRow {
  /** Dataset. */
  dataset: TableDataset;
  /** Method name, or `raw pixels`, `random init`, `supervised`. */
  method: string;
  /** `baseline`, `ssl` (contrastive / non-contrastive) or `pretext`. */
  kind: "baseline" | "ssl" | "pretext";
  /** Seeds, in the order of the values. */
  seeds: number[];
  /** kNN top-1 at k = 20 (tau 0.1, cosine, 60k bank, 10k queries). */
  knn20: number[];
  /** kNN top-1 at k = 200. */
  knn200: number[];
  /** Linear-probe top-1 on the 10k test images. */
  linear: number[];
  /** Wall seconds of pretraining (0 for raw pixels / random init). */
  trainSeconds: number[];
  /** Last logged loss of pretraining. */
  finalLoss: number[];
  /** Collapse monitor at the end of pretraining, where the method logs one. */
  zStd: number[];
  /**
   * The course of each seed's pretraining (one entry per seed, `null` for a seed read back from a
   * report made before curves were kept): 20 points, each the mean of its stretch of steps.
   */
  curves?: (CurvePoint[] | null)[];
  /** The resolved recipe, in one line. */
  recipe?: string;
  /** What failed, when a seed of the row threw (the other rows still run). */
  error?: string;
}

/** Options for {@linkcode joinSeeds}. */
export interface JoinSeedsOptions {
  /**
   * What the two rows are called in an error (e.g. the reports they come from).
   * @default {["the row", "the seeds added"]}
   */
  names?: [string, string];
}

/**
 * One row from two rows of a method on a dataset: `row`'s seeds, then `more`'s, each with its
 * figures and its course (`null` for a seed without one; no `curves` where no seed has one), the
 * recipe of either (they must not differ) and the errors of both. The one rule by which a row of
 * the table gains seeds: {@linkcode runMethodTable} adds every seed it runs to the row it read
 * back from `previous` with it, and `deno task table --from` merges reports' rows with it.
 *
 * @param row a row, e.g. seed 0's
 * @param more the seeds to add: a row of the same dataset and method, e.g. seed 1's
 * @param options what the two rows are called in an error
 * @returns a new row; `row` and `more` are left as they were
 * @throws {RangeError} when `more` is of another dataset or method, holds a seed that `row` holds
 * too, or was made with another recipe: the row could not say which it shows
 *
 * @example
 * ```ts
 * import { joinSeeds, type TableRow } from "./method_table.ts";
 * import assert from "node:assert/strict";
 * const seed = (s: number, v: number): TableRow => ({
 *   dataset: "mnist", method: "byol", kind: "ssl", seeds: [s], knn20: [v], knn200: [v],
 *   linear: [v], trainSeconds: [1], finalLoss: [0.5], zStd: [0.1],
 * });
 * const row = joinSeeds(seed(0, 0.8), seed(1, 0.9));
 * assert.deepEqual(row.seeds, [0, 1]);
 * assert.deepEqual(row.linear, [0.8, 0.9]);
 * assert.throws(() => joinSeeds(row, seed(1, 0.7)), RangeError);
 * ```
 */
export function joinSeeds(
  row: TableRow,
  more: TableRow,
  options: JoinSeedsOptions = {},
): TableRow {
  const { names: [a, b] = ["the row", "the seeds added"] } = options;
  const what = `${row.dataset} ${row.method}`;
  if (more.dataset !== row.dataset || more.method !== row.method) {
    throw new RangeError(
      `Cannot join table rows: expected seeds of ${what}, received ${more.dataset} ${more.method}`,
    );
  }
  const twice = more.seeds.filter((s) => row.seeds.includes(s));
  if (twice.length) {
    throw new RangeError(
      `Cannot join table rows: ${what} seed ${
        twice.join(", ")
      } is in both ${a} and ${b}; a row holds each seed once`,
    );
  }
  if (row.recipe && more.recipe && row.recipe !== more.recipe) {
    throw new RangeError(
      `Cannot join table rows: ${what} was made with another recipe in ${a} (${row.recipe}) ` +
        `than in ${b} (${more.recipe}); its seeds cannot share a row`,
    );
  }
  // a seed of a report made before courses were kept has none
  const courses = (r: TableRow) => r.seeds.map((_, i) => r.curves?.[i] ?? null);
  const curves = [...courses(row), ...courses(more)];
  const recipe = row.recipe || more.recipe;
  const error = [row.error, more.error].filter((e) => e).join("; ");
  const { curves: _curves, recipe: _recipe, error: _error, ...kept } = row;
  return {
    ...kept,
    seeds: [...row.seeds, ...more.seeds],
    knn20: [...row.knn20, ...more.knn20],
    knn200: [...row.knn200, ...more.knn200],
    linear: [...row.linear, ...more.linear],
    trainSeconds: [...row.trainSeconds, ...more.trainSeconds],
    finalLoss: [...row.finalLoss, ...more.finalLoss],
    zStd: [...row.zStd, ...more.zStd],
    ...(curves.some((c) => c !== null) ? { curves } : {}),
    ...(recipe ? { recipe } : {}),
    ...(error ? { error } : {}),
  };
}

/** One point of a pretraining's course: means over a stretch of steps. */
export interface CurvePoint {
  /** Steps done at the end of the stretch. */
  step: number;
  /** Mean loss over the stretch. */
  loss: number;
  /** Mean collapse monitor over the stretch, where the method logs one. */
  zStd?: number;
  /** Learning rate at the last step of the stretch. */
  lr: number;
  /**
   * Mean pretext accuracy over the stretch, where the method logs one (`top1`: rotation, jigsaw,
   * relative patch, colorization), each batch's before its update.
   */
  top1?: number;
}

/**
 * A training history in `points` stretches of equal length (the last one takes the remainder):
 * the mean loss and zStd of each, and the rate at its last step.
 *
 * @param history the step records of `train`
 * @param points how many stretches
 * @returns one point per stretch (fewer when the history is shorter)
 */
export function trainingCurve(
  history: readonly Record<string, unknown>[],
  points = 20,
): CurvePoint[] {
  const size = Math.max(1, Math.floor(history.length / points));
  const out: CurvePoint[] = [];
  for (let start = 0; start < history.length; start += size) {
    // the remainder joins the last stretch
    const end = history.length - start < 2 * size ? history.length : start + size;
    const part = history.slice(start, end);
    const avg = (k: string) => part.reduce((s, r) => s + (r[k] as number), 0) / part.length;
    out.push({
      step: start + part.length,
      loss: avg("loss"),
      ...(part[0].zStd !== undefined ? { zStd: avg("zStd") } : {}),
      lr: part.at(-1)!.lr as number,
      ...(part[0].top1 !== undefined ? { top1: avg("top1") } : {}),
    });
    if (end === history.length) break;
  }
  return out;
}

interface Split {
  images: tf.Tensor4D;
  labels: Int32Array;
}

function toSplit(ds: InMemoryDataset): Split {
  const [h, w, c] = ds.shape;
  return {
    images: tf.tidy(() =>
      tf.div(tf.tensor4d(ds.images, [ds.length, h, w, c], "int32"), 255) as tf.Tensor4D
    ),
    labels: Int32Array.from(ds.labels),
  };
}

interface Scores {
  knn20: number;
  knn200: number;
  linear: number;
}

/** kNN at k 20 / 200 and a linear probe on standardized features. */
async function score(
  trainFeatures: tf.Tensor2D,
  testFeatures: tf.Tensor2D,
  train: Split,
  test: Split,
  probeEpochs: number,
  seed: number,
): Promise<Scores> {
  const [knn20, knn200] = knnAccuracies(
    trainFeatures,
    train.labels,
    testFeatures,
    test.labels,
    [20, 200],
    { temperature: 0.1 },
  );
  // standardized with the training features' statistics, as linear evaluation's BN does
  const [a, b] = tf.tidy(() => {
    const { mean, variance } = tf.moments(trainFeatures, 0);
    const sd = tf.sqrt(tf.add(variance, 1e-6));
    return [tf.div(tf.sub(trainFeatures, mean), sd), tf.div(tf.sub(testFeatures, mean), sd)];
  });
  try {
    const probe = await linearProbe(
      { features: a, labels: Array.from(train.labels) },
      { features: b, labels: Array.from(test.labels) },
      { lr: 1e-2, epochs: probeEpochs, batchSize: 256, seed, numClasses: 10 },
    );
    probe.head.dispose();
    return { knn20, knn200, linear: probe.accuracy };
  } finally {
    tf.dispose([a, b]);
  }
}

/** The encoder up to its last layer before the global pooling (the same weights). */
export function prePoolEncoder(encoder: tfl.LayersModel): tfl.LayersModel {
  const last = encoder.layers.at(-1)!;
  if (!/pool/i.test(last.getClassName())) {
    throw new TypeError(
      `Cannot take the pre-pool map: the encoder's last layer must be a pooling layer, received ${last.getClassName()}`,
    );
  }
  return tfl.model({ inputs: encoder.inputs, outputs: last.input as tfl.SymbolicTensor });
}

/**
 * Features of both splits, the pre-pool model (for `map`) built once for the two; `input` (see
 * {@linkcode tableEncoderInput}) turns each chunk of images into the encoder's input first.
 */
async function features(
  encoder: tfl.LayersModel,
  splits: [tf.Tensor4D, tf.Tensor4D],
  kind: "pooled" | "map" = "pooled",
  input?: (images: tf.Tensor4D) => tf.Tensor4D,
): Promise<tf.Tensor2D[]> {
  const model = kind === "map" ? prePoolEncoder(encoder) : encoder;
  const pool = kind === "map" ? "flatten" : "mean";
  const out: tf.Tensor2D[] = [];
  for (const x of splits) {
    if (!input) {
      out.push(await extractFeatures(model, x, { batchSize: 500, pool }) as tf.Tensor2D);
      continue;
    }
    // chunk by chunk, so the converted copy of a split is never whole in memory
    const parts: tf.Tensor2D[] = [];
    try {
      for (let i = 0; i < x.shape[0]; i += 2000) {
        const chunk = tf.slice(x, [i, 0, 0, 0], [Math.min(2000, x.shape[0] - i), -1, -1, -1]);
        const converted = tf.tidy(() => input(chunk));
        chunk.dispose();
        parts.push(
          await extractFeatures(model, converted, { batchSize: 500, pool }) as tf.Tensor2D,
        );
        converted.dispose();
      }
      out.push(tf.concat(parts, 0) as tf.Tensor2D);
    } finally {
      tf.dispose(parts);
    }
  }
  return out;
}

/** Trains `setup` for `steps` on the training images; returns loss, zStd and seconds. */
async function pretrain(
  setup: MethodSetup,
  recipe: Recipe,
  data: InMemoryDataset,
  seed: number,
  progress: boolean | ((text: string) => void),
  source: BatchSource = new Loader(data, { batchSize: recipe.batchSize, seed, epochs: Infinity }),
  during?: { every: number; atStart?: boolean; read: (step: number) => void | Promise<void> },
): Promise<{ loss: number; zStd: number; seconds: number; curve: CurvePoint[] }> {
  const t0 = performance.now();
  const result = await train(
    setup as never,
    source,
    {
      ...recipeTrainOptions(recipe, setup.nets, setup.method.trainable(setup.nets)),
      stepsPerEpoch: Math.floor(data.length / recipe.batchSize),
      seed,
      progress: progress !== false,
      ...(typeof progress === "function" ? { log: progress } : {}),
      ...(during
        ? {
          evaluate: async (_nets: unknown, context: { step: number }) => {
            await during.read(context.step);
            return {};
          },
          evaluateEvery: during.every,
          evaluateAtStart: during.atStart ?? false,
        }
        : {}),
    },
  );
  tf.dispose(treeTensors(result.state));
  const tail = result.history.slice(-10);
  const mean = (k: string) =>
    tail.length === 0 || tail[0][k] === undefined
      ? NaN
      : tail.reduce((s, r) => s + (r[k] as number), 0) / tail.length;
  return {
    loss: mean("loss"),
    zStd: mean("zStd"),
    seconds: (performance.now() - t0) / 1000,
    curve: trainingCurve(result.history as Record<string, unknown>[]),
  };
}

/** The supervised baseline as a method for the loop: encoder + linear head, cross-entropy. */
function supervisedSetup(
  widths: number[],
  seed: number,
  labelsOf: () => Int32Array,
  augment: Augmentation,
): MethodSetup {
  return withSeed(seed, () => {
    const encoder = convNet({ inputShape: [28, 28, 1], widths });
    const head = mlpHead(widths.at(-1)!, [{ units: 10 }], { name: "supervised_head" });
    const nets = { encoder, head };
    return {
      method: {
        name: "supervised",
        views: (images: tf.Tensor4D, viewSeed: number) => [augment(images, viewSeed)],
        step: (n: typeof nets, views: tf.Tensor4D[], state: Record<string, never>) => ({
          loss: tf.tidy(() => {
            const logits = n.head.apply(n.encoder.apply(views[0], { training: true }), {
              training: true,
            }) as tf.Tensor2D;
            const labels = tf.oneHot(tf.tensor1d(labelsOf(), "int32"), 10);
            return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
          }),
          metrics: {},
          state,
        }),
        trainable: (n: typeof nets) =>
          [...n.encoder.trainableWeights, ...n.head.trainableWeights].map((w) =>
            w.read() as tf.Variable
          ),
      },
      nets,
      state: {},
      encoder,
    } as unknown as MethodSetup;
  });
}

/** Disposes every net of a method setup's `nets` once (a net shared by two entries included). */
export function disposeNets(nets: unknown): void {
  for (const net of new Set(Object.values(nets as Record<string, unknown>))) {
    try {
      (net as { dispose?: () => void } | null)?.dispose?.();
    } catch {
      // a net shared by two entries is disposed once
    }
  }
}

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / Math.max(1, v.length);

/**
 * Pretrains every method on MNIST and Fashion-MNIST at one budget (the pretrain CLI's convnet
 * 16-32-64; `mnistAugment` views on MNIST, `fashionAugment` on Fashion-MNIST; each method's
 * default recipe from `resolveRecipe`) and scores every encoder (pooled features on MNIST, the
 * map before the pooling on Fashion-MNIST) on the full 10k test set with the full 60k training
 * set as the kNN bank (k 20 and 200, tau 0.1) and a linear probe; baselines on the same
 * evaluation: raw pixels, the random-init encoder, and the same encoder trained with labels for
 * the same steps, batch and views (tuned SGD recipe). Each row holds one value per seed.
 *
 * @param options budget, seeds, datasets, methods
 * @returns the rows, baselines first per dataset, then the rows of `previous` this run did not run
 *
 * @example
 * ```ts ignore
 * import { runMethodTable } from "./method_table.ts";
 * const rows = await runMethodTable({ steps: 100, methods: ["simclr"], datasets: ["mnist"] });
 * ```
 */
export async function runMethodTable(options: MethodTableOptions): Promise<TableRow[]> {
  const {
    datasets = TABLE_DATASETS,
    methods = TABLE_METHODS,
    steps,
    batchSize = 64,
    seeds = [0],
    widths = [16, 32, 64],
    views = {},
    methodOptions: extraMethodOptions = {},
    recipeOptions = {},
    features: featureKinds = {},
    probeEpochs = 10,
    skipBaselines = false,
    skipSupervised = false,
    recipe: recipeName,
    log = () => {},
    progress = false,
    onRow,
    onEncoder,
    duringTraining,
    previous = [],
    loadDataset = (d: TableDataset, split: "train" | "test") =>
      d === "mnist" ? mnist(split) : fashionMnist(split),
  } = options;
  for (const m of methods) {
    if (!(TABLE_METHODS as readonly string[]).includes(m)) {
      throw new RangeError(
        `Cannot run the method table: expected methods among ${
          TABLE_METHODS.join(", ")
        }, received "${m}"`,
      );
    }
  }
  if (new Set(seeds).size !== seeds.length) {
    // a row holds each seed once (joinSeeds)
    throw new RangeError(
      `Cannot run the method table: seeds must differ, received ${seeds.join(", ")}`,
    );
  }
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`Cannot run the method table: steps must be >= 1, received ${steps}`);
  }
  const rows: TableRow[] = [];
  const newRow = (dataset: TableDataset, method: string, kind: TableRow["kind"]): TableRow => ({
    dataset,
    method,
    kind,
    seeds: [],
    knn20: [],
    knn200: [],
    linear: [],
    trainSeconds: [],
    finalLoss: [],
    zStd: [],
  });
  // every seed joins its row by the rule `--from` merges reports by (joinSeeds)
  const put = (row: TableRow, more: Partial<TableRow>) =>
    Object.assign(
      row,
      joinSeeds(row, { ...newRow(row.dataset, row.method, row.kind), ...more }, {
        names: ["the report read back", "this run"],
      }),
    );
  const add = (
    row: TableRow,
    seed: number,
    s: Scores,
    t = 0,
    loss = NaN,
    z = NaN,
    curve: CurvePoint[] | null = null,
  ) =>
    put(row, {
      seeds: [seed],
      knn20: [s.knn20],
      knn200: [s.knn200],
      linear: [s.linear],
      trainSeconds: [t],
      finalLoss: [loss],
      zStd: [z],
      ...(curve ? { curves: [curve] } : {}),
    });
  // a row starts from what `previous` holds for it: every seed it holds (also those this run does
  // not ask for, so a resume with fewer seeds drops nothing from the report), values, courses and
  // recipe; not its error, whose seeds run again
  const startRow = (
    dataset: TableDataset,
    method: string,
    kind: TableRow["kind"],
    wanted: readonly number[],
  ): { row: TableRow; pending: number[] } => {
    const row = newRow(dataset, method, kind);
    const before = previous.find((r) => r.dataset === dataset && r.method === method);
    if (before?.seeds.length) {
      const { error: _error, ...seeds } = before;
      put(row, seeds);
    }
    rows.push(row);
    return { row, pending: wanted.filter((s) => !row.seeds.includes(s)) };
  };
  // rows of `previous` this run has not reached (or does not run) stay in every report, after
  // the run's own, so a second interruption loses nothing that was read back
  const carried = () =>
    previous.filter((p) => !rows.some((r) => r.dataset === p.dataset && r.method === p.method));
  const seedDone = async (row: TableRow) => await onRow?.(row, [...rows, ...carried()]);
  const finish = (row: TableRow, readBack: number) => {
    log(
      `${row.dataset} ${row.method}: kNN20 ${(100 * mean(row.knn20)).toFixed(1)}% kNN200 ${
        (100 * mean(row.knn200)).toFixed(1)
      }% linear ${(100 * mean(row.linear)).toFixed(1)}%${
        readBack ? ` (${readBack} seed${readBack > 1 ? "s" : ""} read back)` : ""
      }`,
    );
  };
  const guarded = async (row: TableRow, seed: number, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      const message = `seed ${seed}: ${(e as Error).message.split("\n")[0]}`;
      row.error = row.error ? `${row.error}; ${message}` : message;
      log(`${row.dataset} ${row.method} failed: ${message}`);
    }
  };
  // whether a (dataset, method) still has seeds to run
  const pendingIn = (dataset: TableDataset, method: string, wanted: readonly number[]) => {
    const before = previous.find((r) => r.dataset === dataset && r.method === method);
    return wanted.some((s) => !before?.seeds.includes(s));
  };
  for (const dataset of datasets) {
    const units: [string, readonly number[]][] = [
      ...(skipBaselines ? [] : [
        ["raw pixels", [0]],
        ["random init", seeds],
        ...(skipSupervised ? [] : [["supervised", seeds]]),
      ] as [string, readonly number[]][]),
      ...methods.map((m): [string, readonly number[]] => [m, seeds]),
    ];
    if (!units.some(([m, wanted]) => pendingIn(dataset, m, wanted))) {
      // everything read back: no need to load the data
      for (const [m, wanted] of units) {
        const { row } = startRow(dataset, m, tableRowKind(m), wanted);
        finish(row, row.seeds.length);
        await seedDone(row);
      }
      continue;
    }
    const [trainSet, testSet] = await Promise.all([
      loadDataset(dataset, "train"),
      loadDataset(dataset, "test"),
    ]);
    const train = toSplit(trainSet), test = toSplit(testSet);
    const chosen = views[dataset] ?? TABLE_DEFAULT_VIEWS[dataset];
    const featureKind = featureKinds[dataset] ?? TABLE_DEFAULT_FEATURES[dataset];
    // a preset's name, or an experiment's own augmentation with its name
    const viewsName = typeof chosen === "string" ? chosen : chosen.name;
    const viewsAugment = () => typeof chosen === "string" ? tableAugment(chosen) : chosen.augment;
    try {
      const encode = async (
        encoder: tfl.LayersModel,
        seed: number,
        method: string,
        input?: (images: tf.Tensor4D) => tf.Tensor4D,
      ) => {
        const [a, b] = await features(encoder, [train.images, test.images], featureKind, input);
        try {
          return await score(a, b, train, test, probeEpochs, seed);
        } finally {
          tf.dispose([a, b]);
          await onEncoder?.(encoder, { dataset, method, seed });
        }
      };
      if (!skipBaselines) {
        const { row: raw, pending: rawPending } = startRow(dataset, "raw pixels", "baseline", [0]);
        if (rawPending.length) {
          log(`${dataset}: raw pixels`);
          const [a, b] = [train, test].map((s) => tf.reshape(s.images, [s.images.shape[0], -1]));
          try {
            add(
              raw,
              0,
              await score(a as tf.Tensor2D, b as tf.Tensor2D, train, test, probeEpochs, 0),
            );
          } finally {
            tf.dispose([a, b]);
          }
        }
        finish(raw, 1 - rawPending.length);
        await seedDone(raw);
        const { row: random, pending: randomPending } = startRow(
          dataset,
          "random init",
          "baseline",
          seeds,
        );
        for (const seed of randomPending) {
          const enc = withSeed(seed, () => convNet({ inputShape: [28, 28, 1], widths }));
          add(random, seed, await encode(enc, seed, "random init"));
          enc.dispose();
          await seedDone(random);
        }
        finish(random, seeds.length - randomPending.length);
        if (!skipSupervised) {
          const { row: supervised, pending: supPending } = startRow(
            dataset,
            "supervised",
            "baseline",
            seeds,
          );
          const recipe = resolveRecipe("supervised", {
            ...recipeOptions,
            batchSize,
            steps,
            recipe: "tuned",
          });
          const recipeLine = `${formatRecipe({ ...recipe, augment: "data" })}, views ${viewsName}`;
          for (const seed of supPending) {
            await guarded(supervised, seed, async () => {
              // a row read back with another recipe takes no seed of this one
              put(supervised, { recipe: recipeLine });
              log(`${dataset} supervised seed ${seed}: training ${steps} steps`);
              let labels: Int32Array = new Int32Array(0);
              const setup = supervisedSetup(widths, seed, () => labels, viewsAugment());
              const source = new Loader(trainSet, { batchSize, seed, epochs: Infinity });
              const labeled = (async function* () {
                for await (const batch of source) {
                  labels = Int32Array.from(batch.labels!);
                  yield batch;
                }
              })();
              const r = await pretrain(setup, recipe, trainSet, seed, progress, labeled);
              add(
                supervised,
                seed,
                await encode(setup.encoder, seed, "supervised"),
                r.seconds,
                r.loss,
                NaN,
                r.curve,
              );
              disposeNets(setup.nets);
            });
            await seedDone(supervised);
          }
          finish(supervised, seeds.length - supPending.length);
        }
      }
      for (const method of methods) {
        const { row, pending } = startRow(
          dataset,
          method,
          tableRowKind(method),
          seeds,
        );
        for (const seed of pending) {
          await guarded(row, seed, async () => {
            const recipe = resolveRecipe(method, {
              ...recipeOptions,
              batchSize,
              steps,
              recipe: recipeName,
            });
            if (recipe.augment !== "method") recipe.augment = "data";
            // a row read back with another recipe takes no seed of this one
            put(row, { recipe: `${formatRecipe(recipe)}, views ${viewsName}` });
            log(`${dataset} ${method} seed ${seed}: pretraining ${steps} steps`);
            const methodOptions = {
              encoder: "convnet",
              inputShape: [28, 28, 1],
              seed,
              widths,
              augment: viewsAugment(),
              ...(recipe.emaMomentum !== undefined && method !== "swav"
                ? { momentum: recipe.emaMomentum }
                : {}),
              ...(recipe.scaleLoss !== undefined ? { scaleLoss: recipe.scaleLoss } : {}),
              ...tableMethodOptions(method, steps, train.images),
              ...extraMethodOptions,
            } as CreateMethodOptions;
            // the table's names are createMethod's (checked above against TABLE_METHODS)
            const setup = createMethod(method as Parameters<typeof createMethod>[0], methodOptions);
            const r = await pretrain(
              setup,
              recipe,
              trainSet,
              seed,
              progress,
              undefined,
              duringTraining && {
                ...duringTraining,
                read: (step) => duringTraining.read(setup.encoder, { dataset, method, seed, step }),
              },
            );
            add(
              row,
              seed,
              await encode(setup.encoder, seed, method, tableEncoderInput(setup)),
              r.seconds,
              r.loss,
              r.zStd,
              r.curve,
            );
            disposeNets(setup.nets);
          });
          await seedDone(row);
        }
        finish(row, seeds.length - pending.length);
      }
    } finally {
      tf.dispose([train.images, test.images]);
    }
  }
  return [...rows, ...carried()];
}
