import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  createMethod,
  defaultRecipeName,
  formatRecipe,
  PAPER_RECIPES,
  recipeLrGroups,
  resolveRecipe,
  SOLO_CIFAR_RECIPES,
} from "../../methods/mod.ts";
import { setupBackend, thrown } from "../_utils.ts";

await setupBackend();

/**
 * Each method's paper recipe, written from the paper / official code (not from recipes.ts):
 * base lr per 256 images, optimizer, momentum, weight decay, schedule, warm-up epochs over
 * epochs, cosine floor, momentum encoder, parameter groups, views.
 */
const PAPERS: {
  method: string;
  cite: string;
  optimizer: string;
  baseLr: number;
  momentum: number;
  weightDecay: number;
  schedule: string;
  warmup: [number, number];
  floor: number;
  ema?: [number, string];
  constantPredictorLr?: boolean;
  biasLr?: number;
  augment: string;
  nesterov?: boolean;
  baseBatch?: number;
  /** The lr is the paper's at every batch size (DCGAN's 2e-4), not scaled by batch / baseBatch. */
  unscaled?: boolean;
  /** Adam's (beta1, beta2); absent for the other optimizers. */
  betas?: [number, number];
}[] = [
  // Chen et al. 2020, arXiv:2002.05709, Section B.1: LARS, lr 0.3 x B/256, wd 1e-6, 10 of 100
  // warm-up epochs, cosine.
  {
    method: "simclr",
    cite: "arXiv:2002.05709",
    optimizer: "lars",
    baseLr: 0.3,
    momentum: 0.9,
    weightDecay: 1e-6,
    schedule: "cosine",
    warmup: [10, 100],
    floor: 0,
    augment: "simclr",
  },
  // He et al. 2019, arXiv:1911.05722 Section 4 / main_moco.py: SGD 0.03 at batch 256, momentum
  // 0.9, wd 1e-4, x0.1 at 120 and 160 of 200 epochs, m 0.999.
  {
    method: "moco-v1",
    cite: "arXiv:1911.05722",
    optimizer: "sgd",
    baseLr: 0.03,
    momentum: 0.9,
    weightDecay: 1e-4,
    schedule: "step",
    warmup: [0, 200],
    floor: 0,
    ema: [0.999, "constant"],
    augment: "moco-v1",
  },
  // Chen et al. 2020, arXiv:2003.04297: MoCo v1's optimizer, cosine (--cos), aug-plus.
  {
    method: "moco-v2",
    cite: "arXiv:2003.04297",
    optimizer: "sgd",
    baseLr: 0.03,
    momentum: 0.9,
    weightDecay: 1e-4,
    schedule: "cosine",
    warmup: [0, 200],
    floor: 0,
    ema: [0.999, "constant"],
    augment: "moco-v2",
  },
  // Chen, Xie, He 2021, arXiv:2104.02057 / moco-v3 CONFIG.md, ResNet-50 100 epochs: LARS lr 0.6
  // x B/256, wd 1e-6, 10 warm-up epochs, m 0.99 to 1 on a cosine.
  {
    method: "moco-v3",
    cite: "arXiv:2104.02057",
    optimizer: "lars",
    baseLr: 0.6,
    momentum: 0.9,
    weightDecay: 1e-6,
    schedule: "cosine",
    warmup: [10, 100],
    floor: 0,
    ema: [0.99, "cosine"],
    augment: "byol",
  },
  // Caron et al. 2020, arXiv:2006.09882, swav_200ep_bs256: LARS base lr 0.6, final 0.0006, no
  // warm-up, wd 1e-6.
  {
    method: "swav",
    cite: "arXiv:2006.09882",
    optimizer: "lars",
    baseLr: 0.6,
    momentum: 0.9,
    weightDecay: 1e-6,
    schedule: "cosine",
    warmup: [0, 200],
    floor: 0.001,
    augment: "swav",
  },
  // Chen & He 2020, arXiv:2011.10566 Section 4.1: SGD 0.05 x B/256, momentum 0.9, wd 1e-4,
  // cosine, no warm-up, predictor at a fixed lr.
  {
    method: "simsiam",
    cite: "arXiv:2011.10566",
    optimizer: "sgd",
    baseLr: 0.05,
    momentum: 0.9,
    weightDecay: 1e-4,
    schedule: "cosine",
    warmup: [0, 100],
    floor: 0,
    constantPredictorLr: true,
    augment: "moco-v2",
  },
  // Grill et al. 2020, arXiv:2006.07733 Appendix C: LARS 0.2 x B/256, wd 1.5e-6, 10 of 1000
  // warm-up epochs, cosine, tau 0.996 to 1.
  {
    method: "byol",
    cite: "arXiv:2006.07733",
    optimizer: "lars",
    baseLr: 0.2,
    momentum: 0.9,
    weightDecay: 1.5e-6,
    schedule: "cosine",
    warmup: [10, 1000],
    floor: 0,
    ema: [0.996, "cosine"],
    augment: "byol",
  },
  // Zbontar et al. 2021, arXiv:2103.03230 Section 4: LARS, lr 0.2 weights / 0.0048 biases and BN
  // (x B/256), wd 1.5e-6, 10 of 1000 warm-up epochs, cosine down by a factor 1000.
  {
    method: "barlow-twins",
    cite: "arXiv:2103.03230",
    optimizer: "lars",
    baseLr: 0.2,
    momentum: 0.9,
    weightDecay: 1.5e-6,
    schedule: "cosine",
    warmup: [10, 1000],
    floor: 0.001,
    biasLr: 0.0048,
    augment: "byol",
  },
  // Bardes et al. 2022, arXiv:2105.04906 Appendix C / main_vicreg.py: LARS base lr 0.2 x B/256,
  // wd 1e-6, 10 of 1000 warm-up epochs, cosine to 0.001 x lr.
  {
    method: "vicreg",
    cite: "arXiv:2105.04906",
    optimizer: "lars",
    baseLr: 0.2,
    momentum: 0.9,
    weightDecay: 1e-6,
    schedule: "cosine",
    warmup: [10, 1000],
    floor: 0.001,
    augment: "byol",
  },
  // Gidaris et al. 2018, arXiv:1803.07728: SGD Nesterov, lr 0.1 at batch 128, momentum 0.9, wd
  // 5e-4, step decay.
  {
    method: "rotation",
    cite: "arXiv:1803.07728",
    optimizer: "sgd",
    baseLr: 0.1,
    baseBatch: 128,
    momentum: 0.9,
    weightDecay: 5e-4,
    schedule: "step",
    warmup: [0, 100],
    floor: 0,
    nesterov: true,
    augment: "method",
  },
  // Radford, Metz & Chintala 2015, arXiv:1511.06434 Sec. 4: "We used the Adam optimizer ...
  // learning rate of 0.0002 ... momentum term beta1 at the suggested value of 0.9 resulted in
  // training oscillation and instability while reducing it to 0.5 helped", mini-batches of 128,
  // no weight decay or schedule mentioned (dcgan.torch: constant lr, beta2 Adam's default).
  {
    method: "gan",
    cite: "arXiv:1511.06434",
    optimizer: "adamw",
    baseLr: 2e-4,
    baseBatch: 128,
    unscaled: true,
    momentum: 0,
    betas: [0.5, 0.999],
    weightDecay: 0,
    schedule: "constant",
    warmup: [0, 25],
    floor: 0,
    augment: "method",
  },
];

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-12 + 1e-9 * Math.abs(b), `${what}: ${a} vs ${b}`);

for (const p of PAPERS) {
  Deno.test(`recipe: ${p.method}'s paper recipe at batch 64, 1000 steps (${p.cite})`, () => {
    const r = resolveRecipe(p.method, { batchSize: 64, steps: 1000, recipe: "paper" });
    assert.ok(r.cite.includes(p.cite), `${p.method} cites ${p.cite}: ${r.cite}`);
    assert.equal(r.optimizer, p.optimizer);
    close(r.lr, p.baseLr * (p.unscaled ? 1 : 64 / (p.baseBatch ?? 256)), `${p.method} lr`);
    assert.deepEqual(
      r.beta1 === undefined ? undefined : [r.beta1, r.beta2],
      p.betas,
      `${p.method} Adam betas`,
    );
    close(r.momentum, p.momentum, `${p.method} momentum`);
    assert.equal(r.nesterov, p.nesterov ?? false);
    close(r.weightDecay, p.weightDecay, `${p.method} weight decay`);
    assert.equal(r.schedule, p.schedule);
    assert.equal(r.warmupSteps, Math.round(1000 * p.warmup[0] / p.warmup[1]));
    close(r.minLr, r.lr * p.floor, `${p.method} cosine floor`);
    assert.equal(r.emaMomentum, p.ema?.[0]);
    assert.equal(r.emaSchedule, p.ema?.[1]);
    assert.equal(r.constantPredictorLr ?? false, p.constantPredictorLr ?? false);
    if (p.biasLr === undefined) assert.equal(r.biasLrScale, undefined);
    else close(r.lr * r.biasLrScale!, p.biasLr * 64 / 256, `${p.method} bias lr`);
    assert.equal(r.augment, p.augment);
    assert.deepEqual(r.overridden, []);
  });
}

Deno.test("recipe: every paper recipe is covered by the table above", () => {
  assert.deepEqual(Object.keys(PAPER_RECIPES).sort(), PAPERS.map((p) => p.method).sort());
});

/**
 * solo-learn's CIFAR-10 recipes, written from vturrisi/solo-learn at 9187ea3 (not from
 * recipes.ts): scripts/pretrain/cifar/<file>.yaml's `optimizer` block (lr per 256 images,
 * weight_decay, `eta`, `clip_lr`), momentum 0.9 (solo/args/pretrain.py's default), 10 warm-up
 * epochs of `max_epochs: 1000` (solo/methods/base.py), `min_lr` 0, `momentum.base_tau`, and
 * SimSiam's `static_lr` predictor (solo/methods/simsiam.py).
 */
const SOLO: {
  method: string;
  file: string;
  optimizer: string;
  baseLr: number;
  weightDecay: number;
  eta?: number;
  ema?: number;
  constantPredictorLr?: boolean;
}[] = [
  {
    method: "simclr",
    file: "simclr.yaml",
    optimizer: "lars",
    baseLr: 0.4,
    weightDecay: 1e-4,
    eta: 0.02,
  },
  {
    method: "moco-v3",
    file: "mocov3.yaml",
    optimizer: "lars",
    baseLr: 0.3,
    weightDecay: 1e-6,
    eta: 0.02,
    ema: 0.99,
  },
  {
    method: "swav",
    file: "swav.yaml",
    optimizer: "lars",
    baseLr: 0.6,
    weightDecay: 1e-6,
    eta: 0.02,
  },
  {
    method: "simsiam",
    file: "simsiam.yaml",
    optimizer: "sgd",
    baseLr: 0.5,
    weightDecay: 1e-5,
    constantPredictorLr: true,
  },
  {
    method: "byol",
    file: "byol.yaml",
    optimizer: "lars",
    baseLr: 1.0,
    weightDecay: 1e-5,
    eta: 0.02,
    ema: 0.99,
  },
  {
    method: "barlow-twins",
    file: "barlow.yaml",
    optimizer: "lars",
    baseLr: 0.3,
    weightDecay: 1e-4,
    eta: 0.02,
  },
  {
    method: "vicreg",
    file: "vicreg.yaml",
    optimizer: "lars",
    baseLr: 0.3,
    weightDecay: 1e-4,
    eta: 0.02,
  },
];

for (const p of SOLO) {
  Deno.test(`recipe: ${p.method}'s solo-cifar recipe at batch 64, 1000 steps (solo-learn ${p.file})`, () => {
    const r = resolveRecipe(p.method, { batchSize: 64, steps: 1000, recipe: "solo-cifar" });
    assert.equal(r.recipe, "solo-cifar");
    assert.ok(r.cite.includes(`scripts/pretrain/cifar/${p.file}`), r.cite);
    assert.equal(r.optimizer, p.optimizer);
    close(r.lr, p.baseLr * 64 / 256, `${p.method} lr`);
    close(r.momentum, 0.9, `${p.method} momentum`);
    assert.equal(r.nesterov, false);
    close(r.weightDecay, p.weightDecay, `${p.method} weight decay`);
    assert.equal(r.larsEta, p.eta);
    assert.equal(r.larsClip, p.eta === undefined ? undefined : true);
    assert.equal(r.schedule, "cosine");
    assert.equal(r.warmupSteps, Math.round(1000 * 10 / 1000));
    assert.equal(r.minLr, 0);
    assert.equal(r.emaMomentum, p.ema);
    assert.equal(r.emaSchedule, p.ema === undefined ? undefined : "cosine");
    assert.equal(r.constantPredictorLr ?? false, p.constantPredictorLr ?? false);
    assert.equal(r.biasLrScale, undefined);
    // the views stay the paper recipe's
    assert.equal(r.augment, PAPER_RECIPES[p.method].augment);
    assert.deepEqual(r.overridden, []);
  });
}

Deno.test("recipe: solo-cifar: every entry covered above; printed with its trust; no entry is an error; another optimizer drops the LARS settings", () => {
  assert.deepEqual(Object.keys(SOLO_CIFAR_RECIPES).sort(), SOLO.map((p) => p.method).sort());
  const r = resolveRecipe("moco-v3", { batchSize: 64, steps: 1000, recipe: "solo-cifar" });
  assert.match(
    formatRecipe(r),
    /^recipe solo-cifar \(solo-learn.*mocov3\.yaml\)\): lars lr 0\.075 \(0\.3 x 64\/256\), momentum 0\.9, trust 0\.02 clipped at lr, wd 0\.000001, cosine, warm-up 10 steps, EMA 0\.99 cosine/,
  );
  // the paper recipes print no trust (train's default 0.001, unclipped)
  assert.doesNotMatch(
    formatRecipe(resolveRecipe("moco-v3", { batchSize: 64, steps: 1000 })),
    /trust/,
  );
  assert.throws(
    () => resolveRecipe("moco-v2", { batchSize: 64, steps: 10, recipe: "solo-cifar" }),
    {
      name: "RangeError",
      message: /^Cannot resolve a solo-cifar recipe: expected one of .*received "moco-v2"/,
    },
  );
  const s = resolveRecipe("byol", {
    batchSize: 64,
    steps: 10,
    recipe: "solo-cifar",
    optimizer: "sgd",
  });
  assert.deepEqual([s.optimizer, s.larsEta, s.larsClip], ["sgd", undefined, undefined]);
  assert.doesNotMatch(formatRecipe(s), /trust/);
});

Deno.test("recipe: defaults: simclr keeps the tuned recipe of the default run; pretext tasks without a paper recipe too", () => {
  assert.equal(defaultRecipeName("simclr"), "tuned");
  assert.equal(defaultRecipeName("simsiam"), "paper");
  assert.equal(defaultRecipeName("jigsaw"), "tuned");
  const t = resolveRecipe("simclr", { batchSize: 64, steps: 300 });
  assert.deepEqual(
    [t.recipe, t.optimizer, t.lr, t.momentum, t.weightDecay, t.schedule, t.warmupSteps],
    ["tuned", "sgd", 0.06, 0.8, 5e-4, "cosine", 15],
  );
  const s = resolveRecipe("moco-v2", { batchSize: 96, steps: 50, recipe: "source" });
  assert.deepEqual(
    [s.optimizer, s.lr, s.momentum, s.weightDecay, s.schedule, s.warmupSteps],
    ["sgd", 3e-4, 0.8, 0, "constant", 0],
  );
  // the momentum encoder keeps its paper schedule under every family
  assert.deepEqual([s.emaMomentum, s.emaSchedule], [0.999, "constant"]);
});

Deno.test("recipe: gan trains with DCGAN's Adam by default, printed and dropped with another optimizer", () => {
  assert.equal(defaultRecipeName("gan"), "paper");
  const r = resolveRecipe("gan", { batchSize: 64, steps: 400 });
  assert.deepEqual(
    [r.recipe, r.optimizer, r.lr, r.beta1, r.beta2, r.weightDecay, r.schedule, r.warmupSteps],
    ["paper", "adamw", 2e-4, 0.5, 0.999, 0, "constant", 0],
  );
  const line = formatRecipe(r);
  assert.match(
    line,
    /^recipe paper \(DCGAN, .*arXiv:1511\.06434.*\): adamw lr 0\.0002, betas \(0\.5, 0\.999\), wd 0, constant, warm-up 0 steps/,
  );
  // the recipe's betas are not carried over to another optimizer
  const s = resolveRecipe("gan", { batchSize: 64, steps: 400, optimizer: "sgd" });
  assert.deepEqual([s.optimizer, s.beta1, s.beta2], ["sgd", undefined, undefined]);
  assert.doesNotMatch(formatRecipe(s), /betas/);
});

Deno.test("recipe: the user's options replace the recipe's and are listed", () => {
  const r = resolveRecipe("byol", {
    batchSize: 128,
    steps: 200,
    lr: 0.5,
    weightDecay: 0,
    warmupSteps: 7,
    emaMomentum: 0.99,
  });
  assert.deepEqual([r.optimizer, r.lr, r.weightDecay, r.warmupSteps, r.emaMomentum], [
    "lars",
    0.5,
    0,
    7,
    0.99,
  ]);
  assert.deepEqual(r.overridden.sort(), ["emaMomentum", "lr", "warmupSteps", "weightDecay"]);
  // another optimizer than the paper's takes that optimizer's library defaults
  const a = resolveRecipe("byol", { batchSize: 128, steps: 200, optimizer: "adamw" });
  assert.deepEqual([a.optimizer, a.lr, a.weightDecay], ["adamw", 1e-3, 0.05]);
  assert.match(formatRecipe(a), /user set: optimizer/);
  assert.match(formatRecipe(a), /adamw lr 0\.001, betas \(0\.9, 0\.999\)/);
  assert.throws(() => resolveRecipe("jigsaw", { batchSize: 8, steps: 1, recipe: "paper" }), {
    name: "RangeError",
    message: /expected one of .*received "jigsaw"/,
  });
  assert.throws(() => resolveRecipe("byol", { batchSize: 0, steps: 1 }), RangeError);
  assert.throws(
    () => resolveRecipe("byol", { batchSize: 8, steps: 1, recipe: "bogus" as "paper" }),
    RangeError,
  );
});

Deno.test("recipe: parameter groups: SimSiam's predictor at a constant lr, Barlow Twins' biases and BN scaled", () => {
  const base = { encoder: "convnet" as const, inputShape: [8, 8, 1] as [number, number, number] };
  const sim = createMethod("simsiam", { ...base, seed: 0, widths: [4], projectionDim: 8 });
  const simVars = sim.method.trainable(sim.nets);
  const [g] = recipeLrGroups(
    resolveRecipe("simsiam", { batchSize: 32, steps: 10 }),
    sim.nets,
    simVars,
  );
  const predictor = (sim.nets as { predictor: { trainableWeights: unknown[] } }).predictor;
  assert.equal(g.constant, true);
  assert.equal(g.variables.length, predictor.trainableWeights.length);
  assert.ok(g.variables.length > 0 && g.variables.length < simVars.length);
  const bt = createMethod("barlow-twins", {
    ...base,
    seed: 0,
    widths: [4],
    scaledProjector: true,
  });
  const btVars = bt.method.trainable(bt.nets);
  const [b] = recipeLrGroups(
    resolveRecipe("barlow-twins", { batchSize: 32, steps: 10 }),
    bt.nets,
    btVars,
  );
  assert.ok(b.variables.length > 0 && b.variables.every((v) => v.rank <= 1));
  assert.equal(b.variables.length, btVars.filter((v) => v.rank <= 1).length);
  close(b.scale!, 0.0048 / 0.2, "bias scale");
  assert.deepEqual(
    recipeLrGroups(resolveRecipe("byol", { batchSize: 32, steps: 10 }), {}, btVars),
    [],
  );
  tf.dispose([]);
});

Deno.test("recipe: a constant predictor lr without nets.predictor is refused, by name", () => {
  const recipe = resolveRecipe("simsiam", { batchSize: 32, steps: 10 });
  assert.equal(recipe.constantPredictorLr, true);
  assert.throws(
    () => recipeLrGroups(recipe, { encoder: {} }, []),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message ===
        "Cannot apply the simsiam recipe: a constant predictor lr needs nets.predictor, received none",
  );
});

/** The tuned recipe's fields, written from its documented recipe (SGD 0.06, momentum 0.8, ...). */
const TUNED = {
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

Deno.test("recipe: the tuned and source recipes field by field; no momentum-encoder keys where the paper has none", () => {
  assert.deepEqual(resolveRecipe("simclr", { batchSize: 32, steps: 300 }), {
    ...TUNED,
    method: "simclr",
    recipe: "tuned",
    batchSize: 32,
    steps: 300,
    lr: 0.06,
    warmupSteps: 15,
    minLr: 0,
    overridden: [],
  });
  // a pretext task without a paper recipe resolves too (no paper entry to read an EMA from)
  assert.deepEqual(resolveRecipe("jigsaw", { batchSize: 8, steps: 20 }), {
    ...TUNED,
    method: "jigsaw",
    recipe: "tuned",
    batchSize: 8,
    steps: 20,
    lr: 0.06,
    warmupSteps: 1,
    minLr: 0,
    overridden: [],
  });
  assert.deepEqual(resolveRecipe("simsiam", { batchSize: 8, steps: 20, recipe: "source" }), {
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
    method: "simsiam",
    recipe: "source",
    batchSize: 8,
    steps: 20,
    lr: 3e-4,
    warmupSteps: 0,
    minLr: 0,
    overridden: [],
  });
  // DCGAN's rate is not scaled with the batch
  assert.equal(resolveRecipe("gan", { batchSize: 64, steps: 10 }).lrScaling, "none");
});

Deno.test("recipe: each refusal's exact message; batch 1 and 1 step accepted", () => {
  const message = (options: Record<string, unknown>, method = "byol") =>
    thrown(() => resolveRecipe(method, { batchSize: 8, steps: 10, ...options } as never));
  const cases: [Record<string, unknown>, string, string?][] = [
    [{ batchSize: 0 }, "Cannot resolve a recipe: batchSize must be a positive integer, received 0"],
    [
      { batchSize: 1.5 },
      "Cannot resolve a recipe: batchSize must be a positive integer, received 1.5",
    ],
    [{ steps: 0 }, "Cannot resolve a recipe: steps must be a positive integer, received 0"],
    [{ steps: 2.5 }, "Cannot resolve a recipe: steps must be a positive integer, received 2.5"],
    [
      { recipe: "bogus" },
      'Cannot resolve a recipe: expected one of paper, source, tuned, solo-cifar, received "bogus"',
    ],
    [
      { optimizer: "rmsprop" },
      'Cannot resolve a recipe: optimizer must be sgd, adamw or lars, received "rmsprop"',
    ],
    [
      { recipe: "paper" },
      'Cannot resolve a paper recipe: expected one of simclr, moco-v1, moco-v2, moco-v3, swav, simsiam, byol, barlow-twins, vicreg, rotation, gan, received "jigsaw" (use recipe "tuned" or "source")',
      "jigsaw",
    ],
    [
      { recipe: "solo-cifar" },
      'Cannot resolve a solo-cifar recipe: expected one of simclr, moco-v3, swav, simsiam, byol, barlow-twins, vicreg, received "moco-v1" (use recipe "tuned" or "source")',
      "moco-v1",
    ],
  ];
  for (const [options, want, method] of cases) {
    const e = message(options, method);
    assert.equal(e.name, "RangeError", want);
    assert.equal(e.message, want);
  }
  const one = resolveRecipe("byol", { batchSize: 1, steps: 1 });
  assert.deepEqual([one.batchSize, one.steps, one.warmupSteps], [1, 1, 0]);
  close(one.lr, 0.2 / 256, "byol lr at batch 1");
});

Deno.test("recipe: another optimizer takes its library defaults (momentum 0.8 for sgd, 0.9 else); the recipe's own optimizer changes nothing", () => {
  const lars = resolveRecipe("simsiam", { batchSize: 64, steps: 100, optimizer: "lars" });
  assert.deepEqual(
    [lars.optimizer, lars.lr, lars.weightDecay, lars.momentum, lars.overridden],
    ["lars", 0.3, 1e-6, 0.9, ["optimizer"]],
  );
  const sgd = resolveRecipe("byol", { batchSize: 64, steps: 100, optimizer: "sgd" });
  assert.deepEqual(
    [sgd.optimizer, sgd.lr, sgd.weightDecay, sgd.momentum],
    ["sgd", 0.06, 5e-4, 0.8],
  );
  const adamw = resolveRecipe("simsiam", { batchSize: 64, steps: 100, optimizer: "adamw" });
  assert.deepEqual(
    [adamw.optimizer, adamw.lr, adamw.weightDecay, adamw.momentum],
    ["adamw", 1e-3, 0.05, 0.9],
  );
  // naming the recipe's own optimizer is not an override: the solo-cifar LARS settings stay
  const solo = { batchSize: 64, steps: 100, recipe: "solo-cifar" } as const;
  assert.deepEqual(
    resolveRecipe("byol", { ...solo, optimizer: "lars" }),
    resolveRecipe("byol", solo),
  );
});

Deno.test("recipe: momentum, nesterov and schedule replace the recipe's and are listed in order", () => {
  const r = resolveRecipe("byol", {
    batchSize: 64,
    steps: 100,
    momentum: 0.5,
    nesterov: true,
    schedule: "step",
  });
  assert.deepEqual(
    [r.momentum, r.nesterov, r.schedule, r.overridden],
    [0.5, true, "step", ["momentum", "nesterov", "schedule"]],
  );
});

Deno.test("recipe: formatRecipe's whole line for each kind of recipe", () => {
  const at64 = (method: string, options: Record<string, unknown> = {}) =>
    formatRecipe(resolveRecipe(method, { batchSize: 64, steps: 1000, ...options }));
  assert.equal(
    at64("simclr", { steps: 300 }),
    "recipe tuned (selfsup's MNIST recipe (SGD lr 0.06, momentum 0.8, wd 5e-4, cosine, 5% warm-up)): sgd lr 0.06, momentum 0.8, wd 0.0005, cosine, warm-up 15 steps, augment data",
  );
  assert.equal(
    at64("rotation"),
    "recipe paper (RotNet, Gidaris et al. 2018, arXiv:1803.07728): sgd nesterov lr 0.05 (0.1 x 64/128), momentum 0.9, wd 0.0005, step, warm-up 0 steps, augment method",
  );
  assert.equal(
    at64("barlow-twins"),
    "recipe paper (Barlow Twins, Zbontar et al. 2021, arXiv:2103.03230 (facebookresearch/barlowtwins)): lars lr 0.05 (0.2 x 64/256), momentum 0.9, wd 0.0000015, cosine to 0.00005, warm-up 10 steps, bias/BN lr x0.024, augment byol",
  );
  assert.equal(
    at64("simsiam"),
    "recipe paper (SimSiam, Chen & He 2020, arXiv:2011.10566 (facebookresearch/simsiam)): sgd lr 0.0125 (0.05 x 64/256), momentum 0.9, wd 0.0001, cosine, warm-up 0 steps, predictor at fixed lr, augment moco-v2",
  );
  assert.equal(
    at64("barlow-twins", { recipe: "solo-cifar" }),
    "recipe solo-cifar (solo-learn's CIFAR-10 recipe, da Costa et al. 2022, JMLR 23(56) (vturrisi/solo-learn, scripts/pretrain/cifar/barlow.yaml)): lars lr 0.075 (0.3 x 64/256), momentum 0.9, trust 0.02 clipped at lr, wd 0.0001, cosine, warm-up 10 steps, loss x0.1, augment byol",
  );
  const byol = "recipe paper (BYOL, Grill et al. 2020, arXiv:2006.07733 (Appendix C)): lars lr";
  const tail = "wd 0.0000015, cosine, warm-up 10 steps, EMA 0.996 cosine, augment byol";
  // the user's lr: no scaling shown; the options listed in the order they were applied
  assert.equal(
    at64("byol", { lr: 0.5, momentum: 0.5 }),
    `${byol} 0.5, momentum 0.5, ${tail}, (user set: lr, momentum)`,
  );
  // a trust coefficient without the clip, and the clip at the default coefficient
  const r = resolveRecipe("byol", { batchSize: 64, steps: 1000 });
  assert.equal(formatRecipe(r), `${byol} 0.05 (0.2 x 64/256), momentum 0.9, ${tail}`);
  assert.equal(
    formatRecipe({ ...r, larsEta: 0.01 }),
    `${byol} 0.05 (0.2 x 64/256), momentum 0.9, trust 0.01, ${tail}`,
  );
  assert.equal(
    formatRecipe({ ...r, larsClip: true }),
    `${byol} 0.05 (0.2 x 64/256), momentum 0.9, trust 0.001 clipped at lr, ${tail}`,
  );
});
