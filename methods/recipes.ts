/** The recipe families {@linkcode resolveRecipe} knows, as `--recipe` spells them. */
export const RECIPE_NAMES = ["paper", "source", "tuned", "solo-cifar"] as const;

/**
 * `paper`: the method's paper (official code) adapted to small batches as solo-learn and lightly
 * do; `source`: the source protocol's stage-1 settings (SGD momentum 0.8, lr 3e-4, constant);
 * `tuned`: the library's MNIST recipe (SGD lr 0.06, momentum 0.8, wd 5e-4, cosine, 5% warm-up);
 * `solo-cifar`: solo-learn's CIFAR-10 optimizer settings (scripts/pretrain/cifar/*.yaml: LARS with
 * trust coefficient 0.02 and a clipped local rate, its lr and weight decay per method).
 */
export type RecipeName = typeof RECIPE_NAMES[number];

/** Optimizers a recipe names (those of `train`). */
export type RecipeOptimizer = "sgd" | "adamw" | "lars";

/** Schedules a recipe names (those of `train`). */
export type RecipeSchedule = "constant" | "cosine" | "step";

/**
 * The view augmentation a recipe names: `moco-v1` (crop 0.2-1, grayscale 0.2, jitter 0.4 each),
 * `moco-v2` (MoCo v1's crop, jitter (0.4, 0.4, 0.4, 0.1) p 0.8, grayscale 0.2, blur p 0.5, flip;
 * also SimSiam's), `simclr` (crop 0.08-1, flip, jitter 0.8 p 0.8, grayscale 0.2, blur p 0.5),
 * `byol` (BYOL's asymmetric pair: blur p 1.0 / 0.1, solarize p 0 / 0.2; also MoCo v3's, Barlow
 * Twins' and VICReg's), `swav` (multi-crop with SimCLR's color ops), `method` (the method's own
 * views, for pretext tasks), `data` (the data's preset: `mnistAugment` for digits).
 */
export type RecipeAugment = "moco-v1" | "moco-v2" | "simclr" | "byol" | "swav" | "method" | "data";

/** A method's training recipe before it is fitted to a batch size and a number of steps. */
export interface RecipeSpec {
  /** The paper (and code) the numbers come from. */
  cite: string;
  /** Optimizer. */
  optimizer: RecipeOptimizer;
  /** Peak learning rate at `baseBatch` images per step. */
  baseLr: number;
  /** Batch size `baseLr` is given for; `linear` scaling multiplies by batch / baseBatch. */
  baseBatch: number;
  /** `linear`: lr = baseLr * batch / baseBatch (Goyal et al. 2017); `none`: lr = baseLr. */
  lrScaling: "linear" | "none";
  /** Momentum of sgd/lars (not used by adamw, whose momenta are `beta1` and `beta2`). */
  momentum: number;
  /**
   * Adam's first-moment decay (adamw only; DCGAN's 0.5). Absent: the optimizer's default 0.9.
   */
  beta1?: number;
  /** Adam's second-moment decay (adamw only). Absent: the optimizer's default 0.999. */
  beta2?: number;
  /** Nesterov momentum (sgd). */
  nesterov: boolean;
  /** LARS trust coefficient η (lars only). Absent: the optimizer's default 0.001. */
  larsEta?: number;
  /**
   * LARS: the local rate is `min(η ||w|| / ||g||, lr)` (solo-learn's `clip_lr`) instead of
   * `η ||w|| / ||g|| * lr`. Absent: false.
   */
  larsClip?: boolean;
  /** Weight decay (never on biases or BatchNorm; LARS also skips their adaptation). */
  weightDecay: number;
  /** Learning-rate schedule. */
  schedule: RecipeSchedule;
  /** Warm-up as a fraction of training: the paper's warm-up epochs over its epochs. */
  warmupFraction: number;
  /** Floor of the cosine schedule as a fraction of the peak. */
  minLrFraction: number;
  /** SimSiam: the predictor trains at the peak lr at every step (no schedule). */
  constantPredictorLr?: boolean;
  /** Barlow Twins: biases and BatchNorm parameters train at this fraction of the lr. */
  biasLrScale?: number;
  /**
   * Barlow Twins: multiplies the loss (solo-learn's `scale_loss`; the method's `scaleLoss`). Under
   * LARS it sets the steps of the parameters LARS leaves alone (biases, BatchNorm), the weight
   * decay's share of the adapted kernels' steps, and their length where the clip binds.
   */
  scaleLoss?: number;
  /** Base momentum of a momentum (key/target) encoder. */
  emaMomentum?: number;
  /** `cosine`: from `emaMomentum` to 1 (BYOL, MoCo v3); `constant` (MoCo v1/v2). */
  emaSchedule?: "cosine" | "constant";
  /** The views. */
  augment: RecipeAugment;
}

/** A recipe fitted to a run: what `train` and the method are given, and where it came from. */
export interface Recipe extends RecipeSpec {
  /** The method. */
  method: string;
  /** The recipe family. */
  recipe: RecipeName;
  /** Images per step of this run. */
  batchSize: number;
  /** Optimizer steps of this run. */
  steps: number;
  /** Peak learning rate of this run. */
  lr: number;
  /** Linear warm-up steps of this run. */
  warmupSteps: number;
  /** Floor of the cosine schedule of this run. */
  minLr: number;
  /** The options the user set, which replaced the recipe's values. */
  overridden: string[];
}

const MOCO_V1 = "MoCo v1, He et al. 2019, arXiv:1911.05722 (facebookresearch/moco)";
const MOCO_V2 = "MoCo v2, Chen et al. 2020, arXiv:2003.04297 (facebookresearch/moco)";

/**
 * Each method's paper recipe. Epoch-based warm-ups become fractions of the run (10 warm-up
 * epochs of SimCLR's 100 are 10%); learning rates are per 256 images and scaled linearly.
 */
export const PAPER_RECIPES: Readonly<Record<string, RecipeSpec>> = {
  // LARS 0.3 x B/256, wd 1e-6, 10 of 100 epochs warm-up, cosine (Section B.1, ImageNet).
  simclr: {
    cite: "SimCLR, Chen et al. 2020, arXiv:2002.05709 (google-research/simclr)",
    optimizer: "lars",
    baseLr: 0.3,
    baseBatch: 256,
    lrScaling: "linear",
    momentum: 0.9,
    nesterov: false,
    weightDecay: 1e-6,
    schedule: "cosine",
    warmupFraction: 0.1,
    minLrFraction: 0,
    augment: "simclr",
  },
  // SGD 0.03 at 256, momentum 0.9, wd 1e-4, x0.1 at epochs 120 and 160 of 200; m = 0.999.
  "moco-v1": {
    cite: MOCO_V1,
    optimizer: "sgd",
    baseLr: 0.03,
    baseBatch: 256,
    lrScaling: "linear",
    momentum: 0.9,
    nesterov: false,
    weightDecay: 1e-4,
    schedule: "step",
    warmupFraction: 0,
    minLrFraction: 0,
    emaMomentum: 0.999,
    emaSchedule: "constant",
    augment: "moco-v1",
  },
  // MoCo v1's optimizer with a cosine schedule (--cos), 200 epochs; the MLP head and aug-plus.
  "moco-v2": {
    cite: MOCO_V2,
    optimizer: "sgd",
    baseLr: 0.03,
    baseBatch: 256,
    lrScaling: "linear",
    momentum: 0.9,
    nesterov: false,
    weightDecay: 1e-4,
    schedule: "cosine",
    warmupFraction: 0,
    minLrFraction: 0,
    emaMomentum: 0.999,
    emaSchedule: "constant",
    augment: "moco-v2",
  },
  // ResNet-50, 100 epochs: LARS lr 0.6 x B/256, wd 1e-6, 10 warm-up epochs, cosine; m 0.99 -> 1.
  "moco-v3": {
    cite: "MoCo v3, Chen, Xie, He 2021, arXiv:2104.02057 (facebookresearch/moco-v3, CONFIG.md)",
    optimizer: "lars",
    baseLr: 0.6,
    baseBatch: 256,
    lrScaling: "linear",
    momentum: 0.9,
    nesterov: false,
    weightDecay: 1e-6,
    schedule: "cosine",
    warmupFraction: 0.1,
    minLrFraction: 0,
    emaMomentum: 0.99,
    emaSchedule: "cosine",
    augment: "byol",
  },
  // The batch-256 configuration (swav_200ep_bs256): LARS base lr 0.6 at 256, final lr 0.0006,
  // no warm-up, wd 1e-6.
  swav: {
    cite: "SwAV, Caron et al. 2020, arXiv:2006.09882 (facebookresearch/swav, bs256 script)",
    optimizer: "lars",
    baseLr: 0.6,
    baseBatch: 256,
    lrScaling: "linear",
    momentum: 0.9,
    nesterov: false,
    weightDecay: 1e-6,
    schedule: "cosine",
    warmupFraction: 0,
    minLrFraction: 0.001,
    augment: "swav",
  },
  // SGD 0.05 x B/256, momentum 0.9, wd 1e-4, cosine, no warm-up, predictor at a fixed lr.
  simsiam: {
    cite: "SimSiam, Chen & He 2020, arXiv:2011.10566 (facebookresearch/simsiam)",
    optimizer: "sgd",
    baseLr: 0.05,
    baseBatch: 256,
    lrScaling: "linear",
    momentum: 0.9,
    nesterov: false,
    weightDecay: 1e-4,
    schedule: "cosine",
    warmupFraction: 0,
    minLrFraction: 0,
    constantPredictorLr: true,
    augment: "moco-v2",
  },
  // LARS 0.2 x B/256, wd 1.5e-6, 10 of 1000 epochs warm-up, cosine; tau 0.996 -> 1.
  byol: {
    cite: "BYOL, Grill et al. 2020, arXiv:2006.07733 (Appendix C)",
    optimizer: "lars",
    baseLr: 0.2,
    baseBatch: 256,
    lrScaling: "linear",
    momentum: 0.9,
    nesterov: false,
    weightDecay: 1.5e-6,
    schedule: "cosine",
    warmupFraction: 0.01,
    minLrFraction: 0,
    emaMomentum: 0.996,
    emaSchedule: "cosine",
    augment: "byol",
  },
  // LARS 0.2 x B/256 for weights, 0.0048 x B/256 for biases and BN, wd 1.5e-6, 10 of 1000
  // epochs warm-up, cosine down to 1/1000.
  "barlow-twins": {
    cite: "Barlow Twins, Zbontar et al. 2021, arXiv:2103.03230 (facebookresearch/barlowtwins)",
    optimizer: "lars",
    baseLr: 0.2,
    baseBatch: 256,
    lrScaling: "linear",
    momentum: 0.9,
    nesterov: false,
    weightDecay: 1.5e-6,
    schedule: "cosine",
    warmupFraction: 0.01,
    minLrFraction: 0.001,
    biasLrScale: 0.0048 / 0.2,
    augment: "byol",
  },
  // LARS base lr 0.2 x B/256, wd 1e-6, 10 of 1000 epochs warm-up, cosine down to 1/1000.
  vicreg: {
    cite: "VICReg, Bardes et al. 2022, arXiv:2105.04906 (facebookresearch/vicreg)",
    optimizer: "lars",
    baseLr: 0.2,
    baseBatch: 256,
    lrScaling: "linear",
    momentum: 0.9,
    nesterov: false,
    weightDecay: 1e-6,
    schedule: "cosine",
    warmupFraction: 0.01,
    minLrFraction: 0.001,
    augment: "byol",
  },
  // SGD Nesterov 0.1 at 128, momentum 0.9, wd 5e-4, x0.2 steps (RotNet); the step schedule's
  // milestones here are at 60% and 80%.
  rotation: {
    cite: "RotNet, Gidaris et al. 2018, arXiv:1803.07728",
    optimizer: "sgd",
    baseLr: 0.1,
    baseBatch: 128,
    lrScaling: "linear",
    momentum: 0.9,
    nesterov: true,
    weightDecay: 5e-4,
    schedule: "step",
    warmupFraction: 0,
    minLrFraction: 0,
    augment: "method",
  },
  // Adam 2e-4 (not scaled with the batch), beta1 0.5 (0.9 oscillated), batch 128, constant, no
  // weight decay; one D then one G update (the loop's even / odd steps). Sec. 4.
  gan: {
    cite: "DCGAN, Radford, Metz & Chintala 2015, arXiv:1511.06434, Sec. 4",
    optimizer: "adamw",
    baseLr: 2e-4,
    baseBatch: 128,
    lrScaling: "none",
    momentum: 0,
    beta1: 0.5,
    beta2: 0.999,
    nesterov: false,
    weightDecay: 0,
    schedule: "constant",
    warmupFraction: 0,
    minLrFraction: 0,
    augment: "method",
  },
};

const SOLO = "solo-learn's CIFAR-10 recipe, da Costa et al. 2022, JMLR 23(56) (vturrisi/solo-learn";

/**
 * One solo-learn CIFAR-10 entry: `file`'s own values over what every entry shares (lr per 256
 * scaled linearly, momentum 0.9 without Nesterov, cosine with a 1% warm-up down to 0, and for
 * `lars` the trust 0.02 with `clip_lr`).
 */
function soloCifar(
  file: string,
  own: Omit<
    RecipeSpec,
    | "cite"
    | "baseBatch"
    | "lrScaling"
    | "momentum"
    | "nesterov"
    | "larsEta"
    | "larsClip"
    | "schedule"
    | "warmupFraction"
    | "minLrFraction"
  >,
): RecipeSpec {
  return {
    cite: `${SOLO}, scripts/pretrain/cifar/${file})`,
    baseBatch: 256,
    lrScaling: "linear",
    momentum: 0.9,
    nesterov: false,
    ...(own.optimizer === "lars" ? { larsEta: 0.02, larsClip: true } : {}),
    schedule: "cosine",
    warmupFraction: 0.01,
    minLrFraction: 0,
    ...own,
  };
}

/**
 * solo-learn's CIFAR-10 optimizer settings (vturrisi/solo-learn at 9187ea3,
 * scripts/pretrain/cifar/<method>.yaml): lr per 256 images scaled linearly
 * (solo/args/pretrain.py), momentum 0.9 (its default for sgd and lars), `warmup_cosine` with 10
 * warm-up epochs of 1000 (solo/methods/base.py's default `warmup_epochs`) down to 0, and for LARS
 * `eta: 0.02`, `clip_lr: True`, `exclude_bias_n_norm: True` (solo/utils/lars.py: biases and
 * norms get neither adaptation nor decay, as `lars` does). The trust coefficient is 20x the
 * papers' 0.001 and the clipped local rate `min(0.02 ||w|| / ||g||, lr)` does not shrink with the
 * batch: at batch 64 a step may move a layer by up to 2% of its norm. Momentum encoders take
 * solo-learn's `base_tau` with its cosine to `final_tau` 1.0. Views are the paper recipe's (this
 * recipe is about the optimizer). No entry for MoCo v1 (solo-learn has none) or MoCo v2
 * (mocov2plus.yaml's momentum ends at 0.999, a schedule `resolveRecipe` cannot express).
 */
export const SOLO_CIFAR_RECIPES: Readonly<Record<string, RecipeSpec>> = {
  // simclr.yaml: lars lr 0.4, wd 1e-4, eta 0.02, clip_lr.
  simclr: soloCifar("simclr.yaml", {
    optimizer: "lars",
    baseLr: 0.4,
    weightDecay: 1e-4,
    augment: "simclr",
  }),
  // mocov3.yaml: lars lr 0.3, wd 1e-6, eta 0.02, clip_lr; base_tau 0.99, final_tau 1.0.
  "moco-v3": soloCifar("mocov3.yaml", {
    optimizer: "lars",
    baseLr: 0.3,
    weightDecay: 1e-6,
    emaMomentum: 0.99,
    emaSchedule: "cosine",
    augment: "byol",
  }),
  // swav.yaml: lars lr 0.6, wd 1e-6, eta 0.02, clip_lr.
  swav: soloCifar("swav.yaml", {
    optimizer: "lars",
    baseLr: 0.6,
    weightDecay: 1e-6,
    augment: "swav",
  }),
  // simsiam.yaml: sgd lr 0.5, wd 1e-5; the predictor at a static lr (solo/methods/simsiam.py).
  simsiam: soloCifar("simsiam.yaml", {
    optimizer: "sgd",
    baseLr: 0.5,
    weightDecay: 1e-5,
    constantPredictorLr: true,
    augment: "moco-v2",
  }),
  // byol.yaml: lars lr 1.0, wd 1e-5, eta 0.02, clip_lr; base_tau 0.99, final_tau 1.0.
  byol: soloCifar("byol.yaml", {
    optimizer: "lars",
    baseLr: 1.0,
    weightDecay: 1e-5,
    emaMomentum: 0.99,
    emaSchedule: "cosine",
    augment: "byol",
  }),
  // barlow.yaml: lars lr 0.3, wd 1e-4, eta 0.02, clip_lr; one lr for every parameter; the loss
  // x0.1 (method_kwargs scale_loss; solo/losses/barlow.py returns scale_loss * the sum).
  "barlow-twins": soloCifar("barlow.yaml", {
    optimizer: "lars",
    baseLr: 0.3,
    weightDecay: 1e-4,
    scaleLoss: 0.1,
    augment: "byol",
  }),
  // vicreg.yaml: lars lr 0.3, wd 1e-4, eta 0.02, clip_lr.
  vicreg: soloCifar("vicreg.yaml", {
    optimizer: "lars",
    baseLr: 0.3,
    weightDecay: 1e-4,
    augment: "byol",
  }),
};

/** The library's tuned small-data recipe (the default `deno task pretrain` run). */
export const TUNED_RECIPE: Readonly<RecipeSpec> = {
  cite: "selfsup's MNIST recipe (SGD lr 0.06, momentum 0.8, wd 5e-4, cosine, 5% warm-up)",
  optimizer: "sgd",
  baseLr: 0.06,
  baseBatch: 64,
  lrScaling: "none",
  momentum: 0.8,
  nesterov: false,
  weightDecay: 5e-4,
  schedule: "cosine",
  warmupFraction: 0.05,
  minLrFraction: 0,
  augment: "data",
};

/** The source protocol's stage 1: SGD momentum 0.8, lr 3e-4, constant, no weight decay. */
export const SOURCE_RECIPE: Readonly<RecipeSpec> = {
  cite: "the source protocol (stage 1: SGD momentum 0.8, lr 3e-4)",
  optimizer: "sgd",
  baseLr: 3e-4,
  baseBatch: 96,
  lrScaling: "none",
  momentum: 0.8,
  nesterov: false,
  weightDecay: 0,
  schedule: "constant",
  warmupFraction: 0,
  minLrFraction: 0,
  augment: "data",
};

/** LARS's trust coefficient when a recipe names none (`train/lars.ts`'s default). */
const LARS_ETA = 0.001;

/** Adam's betas when a recipe names none (`train/adamw.ts`'s defaults, PyTorch's). */
const ADAM_BETAS = [0.9, 0.999] as const;

/** Peak lr and weight decay of an optimizer the user picks against a recipe's. */
const OPTIMIZER_DEFAULTS: Record<RecipeOptimizer, { lr: number; weightDecay: number }> = {
  sgd: { lr: 0.06, weightDecay: 5e-4 },
  adamw: { lr: 1e-3, weightDecay: 0.05 },
  lars: { lr: 0.3, weightDecay: 1e-6 },
};

/** Options of {@linkcode resolveRecipe}: the run's size and what the user set. */
export interface ResolveRecipeOptions {
  /** Images per step. */
  batchSize: number;
  /** Optimizer steps. */
  steps: number;
  /**
   * Recipe family.
   * @default {"tuned" for simclr (the measured default run), "paper" for methods with a paper
   * recipe, else "tuned"}
   */
  recipe?: RecipeName;
  /** Optimizer; another than the recipe's takes that optimizer's library defaults. */
  optimizer?: RecipeOptimizer;
  /** Peak learning rate (absolute, not scaled). */
  lr?: number;
  /** Momentum of sgd/lars. */
  momentum?: number;
  /** Nesterov momentum. */
  nesterov?: boolean;
  /** Weight decay. */
  weightDecay?: number;
  /** Schedule. */
  schedule?: RecipeSchedule;
  /** Warm-up steps. */
  warmupSteps?: number;
  /** Base momentum of the momentum encoder. */
  emaMomentum?: number;
}

/**
 * The recipe family a method trains with when the user names none: `tuned` for SimCLR (the
 * default `deno task pretrain` run is measured with it), `paper` for the other methods that have
 * a paper recipe, `tuned` for the pretext tasks without one.
 *
 * @param method a method name
 * @returns the default recipe family
 *
 * @example
 * ```ts
 * import { defaultRecipeName } from "./recipes.ts";
 * import assert from "node:assert/strict";
 * assert.equal(defaultRecipeName("byol"), "paper");
 * assert.equal(defaultRecipeName("jigsaw"), "tuned");
 * ```
 */
export function defaultRecipeName(method: string): RecipeName {
  if (method === "simclr") return "tuned";
  return method in PAPER_RECIPES ? "paper" : "tuned";
}

function spec(method: string, recipe: RecipeName): RecipeSpec {
  if (recipe === "source") return SOURCE_RECIPE;
  if (recipe === "tuned") return TUNED_RECIPE;
  const [family, table] = recipe === "solo-cifar"
    ? ["solo-cifar", SOLO_CIFAR_RECIPES]
    : ["paper", PAPER_RECIPES];
  const found = table[method];
  if (!found) {
    throw new RangeError(
      `Cannot resolve a ${family} recipe: expected one of ${
        Object.keys(table).join(", ")
      }, received "${method}" (use recipe "tuned" or "source")`,
    );
  }
  return found;
}

/**
 * A method's training recipe fitted to a run: the paper's (or the tuned or source) optimizer,
 * learning rate scaled by batch / 256, weight decay, momentum, warm-up as the paper's fraction of
 * training, schedule and floor, parameter groups (SimSiam's fixed predictor lr, Barlow Twins'
 * bias lr), momentum-encoder schedule and augmentation; then every option the user set replaces
 * the recipe's value (and is listed in `overridden`). Choosing another optimizer than the
 * recipe's takes that optimizer's library defaults (lr 0.06 / 1e-3 / 0.3, wd 5e-4 / 0.05 / 1e-6
 * for sgd / adamw / lars) unless `lr` / `weightDecay` are given.
 *
 * @param method a method name
 * @param options batch size, steps, recipe family and the user's overrides
 * @returns the resolved recipe
 *
 * @example
 * ```ts
 * import { resolveRecipe } from "./recipes.ts";
 * import assert from "node:assert/strict";
 * const r = resolveRecipe("simsiam", { batchSize: 64, steps: 300 });
 * assert.equal(r.optimizer, "sgd");
 * assert.ok(Math.abs(r.lr - 0.05 * 64 / 256) < 1e-12);
 * assert.equal(r.constantPredictorLr, true);
 * ```
 */
export function resolveRecipe(method: string, options: ResolveRecipeOptions): Recipe {
  const { batchSize, steps } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `Cannot resolve a recipe: batchSize must be a positive integer, received ${batchSize}`,
    );
  }
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(
      `Cannot resolve a recipe: steps must be a positive integer, received ${steps}`,
    );
  }
  const recipe = options.recipe ?? defaultRecipeName(method);
  if (!(RECIPE_NAMES as readonly string[]).includes(recipe)) {
    throw new RangeError(
      `Cannot resolve a recipe: expected one of ${RECIPE_NAMES.join(", ")}, received "${recipe}"`,
    );
  }
  const s = { ...spec(method, recipe) };
  // Momentum encoders keep their paper's schedule under a recipe family without its own.
  const paper = PAPER_RECIPES[method];
  if (s.emaMomentum === undefined && paper?.emaMomentum !== undefined) {
    s.emaMomentum = paper.emaMomentum;
    s.emaSchedule = paper.emaSchedule;
  }
  const overridden: string[] = [];
  let lr = s.lrScaling === "linear" ? s.baseLr * batchSize / s.baseBatch : s.baseLr;
  if (options.optimizer !== undefined && options.optimizer !== s.optimizer) {
    const d = OPTIMIZER_DEFAULTS[options.optimizer];
    if (!d) {
      throw new RangeError(
        `Cannot resolve a recipe: optimizer must be sgd, adamw or lars, received "${options.optimizer}"`,
      );
    }
    s.optimizer = options.optimizer;
    lr = d.lr;
    s.weightDecay = d.weightDecay;
    s.momentum = options.optimizer === "sgd" ? 0.8 : 0.9;
    // the recipe's Adam betas and LARS trust settings belong to its optimizer; another
    // optimizer's defaults replace them
    delete s.beta1;
    delete s.beta2;
    delete s.larsEta;
    delete s.larsClip;
    overridden.push("optimizer");
  }
  if (options.lr !== undefined) {
    lr = options.lr;
    overridden.push("lr");
  }
  const set = <K extends keyof RecipeSpec>(key: K, value: RecipeSpec[K] | undefined) => {
    if (value === undefined) return;
    s[key] = value;
    overridden.push(key);
  };
  set("momentum", options.momentum);
  set("nesterov", options.nesterov);
  set("weightDecay", options.weightDecay);
  set("schedule", options.schedule);
  set("emaMomentum", options.emaMomentum);
  let warmupSteps = Math.round(s.warmupFraction * steps);
  if (options.warmupSteps !== undefined) {
    warmupSteps = options.warmupSteps;
    overridden.push("warmupSteps");
  }
  return {
    ...s,
    method,
    recipe,
    batchSize,
    steps,
    lr,
    warmupSteps,
    minLr: lr * s.minLrFraction,
    overridden,
  };
}

/**
 * A recipe in one line, as `deno task pretrain` prints it at start.
 *
 * @param r a resolved recipe
 * @returns e.g. `recipe paper (SimSiam, ...): sgd lr 0.0125 (0.05 x 64/256) momentum 0.9 ...`
 *
 * @example
 * ```ts
 * import { formatRecipe, resolveRecipe } from "./recipes.ts";
 * import assert from "node:assert/strict";
 * assert.match(formatRecipe(resolveRecipe("byol", { batchSize: 64, steps: 100 })), /^recipe paper/);
 * ```
 */
export function formatRecipe(r: Recipe): string {
  const g = (x: number) => Number(x.toPrecision(4)).toString();
  const scaled = r.lrScaling === "linear" && !r.overridden.includes("lr") &&
      !r.overridden.includes("optimizer")
    ? ` (${g(r.baseLr)} x ${r.batchSize}/${r.baseBatch})`
    : "";
  const parts = [
    `recipe ${r.recipe} (${r.cite}):`,
    `${r.optimizer}${r.nesterov ? " nesterov" : ""} lr ${g(r.lr)}${scaled}`,
    r.optimizer === "adamw"
      ? `betas (${g(r.beta1 ?? ADAM_BETAS[0])}, ${g(r.beta2 ?? ADAM_BETAS[1])})`
      : `momentum ${g(r.momentum)}`,
    r.larsEta !== undefined || r.larsClip
      ? `trust ${g(r.larsEta ?? LARS_ETA)}${r.larsClip ? " clipped at lr" : ""}`
      : "",
    `wd ${g(r.weightDecay)}`,
    `${r.schedule}${r.minLr > 0 ? ` to ${g(r.minLr)}` : ""}`,
    `warm-up ${r.warmupSteps} steps`,
    r.constantPredictorLr ? "predictor at fixed lr" : "",
    r.biasLrScale !== undefined ? `bias/BN lr x${g(r.biasLrScale)}` : "",
    r.scaleLoss !== undefined ? `loss x${g(r.scaleLoss)}` : "",
    r.emaMomentum !== undefined ? `EMA ${g(r.emaMomentum)} ${r.emaSchedule}` : "",
    `augment ${r.augment}`,
    r.overridden.length ? `(user set: ${r.overridden.join(", ")})` : "",
  ];
  return parts.filter((p) => p).join(", ").replace(":,", ":");
}
