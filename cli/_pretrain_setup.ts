/**
 * `deno task pretrain`'s first stage: everything a run is before it trains. Resume or a fresh
 * run folder, the backend, the data, the recipe (optimizer, learning rate, schedule), the
 * method's nets and the `config.json` that records how to rebuild them.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { type BackendName, useBackend } from "../backend/use_backend.ts";
import {
  createMethod,
  type CreateMethodOptions,
  type MethodName,
  type MethodSetup,
  type RecipeName,
  resolveRecipe,
} from "../methods/mod.ts";
import { mnistAugment, simclrAugment, textAugment } from "../augment/mod.ts";
import { broadcastText, initWorld, launchedUnderMpi, type World } from "../distributed/mod.ts";
import { type ParsedOptions, UsageError } from "./_args.ts";
import {
  checkOutputFolder,
  checkRunName,
  guardFreshRun,
  readRunJson,
  resumeOptions,
} from "./_runs.ts";
import { type Data, loadData } from "./_pretrain_data.ts";
import { DEFAULT_STEPS, RESUME_MUTABLE, SIMCLR_TUNED } from "./_pretrain_options.ts";
import type { PretrainResults } from "./_pretrain_report.ts";

/** A run ready to train: its settings resolved, its nets built, its config.json written. */
export interface PretrainRun {
  /** The options in effect (a resumed run's saved ones, with the runtime flags). */
  o: ParsedOptions;
  /** The mpirun world, or null in a single process. */
  world: World | null;
  /** Processes (1 without mpirun). */
  ranks: number;
  /** Rank 0: the process that writes and prints. */
  lead: boolean;
  /** The backend in use. */
  backend: string;
  /** The method's name. */
  method: MethodName;
  /** `--dataset` as given. */
  datasetName: string;
  /** The training data and the kNN monitor's sets. */
  data: Data;
  /** The encoder architecture. */
  encoder: string;
  /** The global batch (`--batch-size` times the ranks). */
  batchSize: number;
  /** Optimizer steps. */
  steps: number;
  /** Steps in one pass over the training set. */
  stepsPerEpoch: number;
  /** The resolved recipe. */
  recipe: ReturnType<typeof resolveRecipe>;
  /** The run folder. */
  runDir: string;
  /** The method, its nets and state. */
  setup: MethodSetup;
  /** What config.json holds (the loop adds it to its checkpoints). */
  config: Record<string, unknown>;
  /** SimCLR with the tuned recipe (its measured temperature and plain head). */
  simclrTuned: boolean;
}

/**
 * Resolves a run from the parsed command line: resumes (`--resume`) or guards a fresh run
 * folder, opens the backend and data, resolves the recipe, builds the method and writes
 * `config.json` (rank 0). A resumed run that is already complete comes back as `{ done }`.
 *
 * @param cli the parsed command line
 * @param given the options given explicitly
 * @returns the run to train, or the results of a complete one
 */
export async function preparePretrain(
  cli: ParsedOptions,
  given: ReadonlySet<string>,
): Promise<PretrainRun | { done: PretrainResults }> {
  let o = cli;
  // under mpirun: every rank runs this command; --batch-size is per rank, rank 0 writes and talks
  const world = launchedUnderMpi() ? initWorld() : null;
  const ranks = world?.size ?? 1;
  const lead = (world?.rank ?? 0) === 0;
  if (!lead) o = { ...o, quiet: true };
  if (o.runName !== undefined) checkRunName(String(o.runName));
  // before any work: a bad --export would otherwise fail after the whole run
  await checkOutputFolder(String(o.out), "--out");
  if (o.export !== undefined) await checkOutputFolder(String(o.export), "--export");
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
      return { done };
    }
  }
  // no --backend: useBackend reads SELFSUP_BACKEND, else auto
  const backend = await useBackend(o.backend as BackendName | undefined, {
    quiet: !!o.quiet,
    verbose: !!o.verbose,
  });
  const method = o.method as MethodName;
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
  const { lr, warmupSteps: warmup } = recipe;
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
    scaleLoss: method === "barlow-twins" ? recipe.scaleLoss : undefined,
    prototypes: o.prototypes,
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v !== undefined) (methodOptions as unknown as Record<string, unknown>)[k] = v;
  }
  // colorization's prior over training images before training (Zhang et al.), else running
  const priorArg = String(o.colorizationPrior ?? "running");
  let priorImages: tf.Tensor4D | undefined;
  if (priorArg !== "running") {
    const n = priorArg === "all" ? data.train.length : Number(priorArg);
    if (method !== "colorization" || !Number.isInteger(n) || n < 1) {
      throw new UsageError(
        `--colorization-prior must be running, all or a positive integer with --method colorization, received "${priorArg}" with ${method}`,
      );
    }
    const count = Math.min(n, data.train.length), size = h * w * c;
    const px = new Float32Array(count * size);
    for (let i = 0; i < count; i++) {
      const { image } = await data.train.get(i);
      for (let p = 0; p < size; p++) px[i * size + p] = image[p] / 255;
    }
    priorImages = tf.tensor4d(px, [count, h, w, c]);
  }
  const setup = createMethod(
    method,
    priorImages ? { ...methodOptions, priorImages } as CreateMethodOptions : methodOptions,
  );
  priorImages?.dispose();

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
  return {
    o,
    world,
    ranks,
    lead,
    backend,
    method,
    datasetName,
    data,
    encoder,
    batchSize,
    steps,
    stepsPerEpoch,
    recipe,
    runDir,
    setup,
    config,
    simclrTuned,
  };
}

/** `{ [key]: o[key] }` when the user set it, else `{}`. */
function pick(o: ParsedOptions, key: string): Record<string, unknown> {
  return o[key] === undefined ? {} : { [key]: o[key] };
}
