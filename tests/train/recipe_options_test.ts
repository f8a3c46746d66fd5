/**
 * `recipeTrainOptions`: every field of a resolved recipe either reaches `train`'s options or is
 * named here as another's (the method's, the views', the loader's, or folded into `lr`,
 * `warmupSteps` and `minLr` by `resolveRecipe`). A field a recipe gains without either fails the
 * first test; a field the mapping drops fails the second.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  createMethod,
  METHOD_NAMES,
  PAPER_RECIPES,
  type Recipe,
  RECIPE_NAMES,
  resolveRecipe,
} from "../../methods/mod.ts";
import { type RecipeTrainOptions, recipeTrainOptions } from "../../train/recipe_options.ts";

/** Recipe fields `train` takes: the option each becomes. */
const TO_TRAIN: Record<string, keyof RecipeTrainOptions> = {
  steps: "steps",
  optimizer: "optimizer",
  lr: "lr",
  schedule: "schedule",
  warmupSteps: "warmupSteps",
  minLr: "minLr",
  weightDecay: "weightDecay",
  momentum: "momentum",
  nesterov: "nesterov",
  beta1: "adamBetas",
  beta2: "adamBetas",
  larsEta: "larsEta",
  larsClip: "larsClip",
  constantPredictorLr: "lrGroups",
  biasLrScale: "lrGroups",
};

/** Recipe fields that are not `train`'s, and whose they are. */
const ELSEWHERE: Record<string, string> = {
  cite: "the description",
  method: "the description",
  recipe: "the description",
  overridden: "the description",
  batchSize: "the loader",
  baseLr: "resolveRecipe (lr)",
  baseBatch: "resolveRecipe (lr)",
  lrScaling: "resolveRecipe (lr)",
  warmupFraction: "resolveRecipe (warmupSteps)",
  minLrFraction: "resolveRecipe (minLr)",
  emaMomentum: "the method (momentum encoder)",
  emaSchedule: "the method (momentum encoder)",
  scaleLoss: "the method (Barlow Twins' scaleLoss)",
  augment: "the views",
};

/** Every recipe `resolveRecipe` gives, for every method and family it knows. */
function everyRecipe(): Recipe[] {
  const methods = new Set([...METHOD_NAMES, ...Object.keys(PAPER_RECIPES), "supervised"]);
  const out: Recipe[] = [];
  for (const method of methods) {
    for (const recipe of RECIPE_NAMES) {
      try {
        out.push(resolveRecipe(method, { batchSize: 64, steps: 100, recipe }));
      } catch (e) {
        if (!(e instanceof RangeError)) throw e; // a family without this method
      }
    }
  }
  return out;
}

Deno.test("recipeTrainOptions: every field of every resolved recipe is train's or named as another's", () => {
  const recipes = everyRecipe();
  assert.ok(recipes.length > 20, `${recipes.length} recipes`);
  const unplaced = new Set<string>();
  for (const r of recipes) {
    for (const key of Object.keys(r)) if (!(key in TO_TRAIN || key in ELSEWHERE)) unplaced.add(key);
  }
  assert.deepEqual([...unplaced], [], "recipe fields neither mapped to train nor placed elsewhere");
  for (const key of Object.keys(TO_TRAIN)) assert.ok(!(key in ELSEWHERE), key);
});

Deno.test("recipeTrainOptions: each of train's recipe fields reaches its option", () => {
  // SimSiam: its nets have the predictor a constant-lr group needs
  const setup = createMethod("simsiam", {
    encoder: "convnet",
    inputShape: [8, 8, 1],
    seed: 0,
    widths: [4],
    projectionDim: 8,
  });
  const trainable = setup.method.trainable(setup.nets);
  try {
    const base: Recipe = {
      ...resolveRecipe("simsiam", { batchSize: 32, steps: 10, recipe: "tuned" }),
    };
    delete base.constantPredictorLr;
    delete base.biasLrScale;
    const plain = recipeTrainOptions(base, setup.nets, trainable);
    assert.deepEqual(plain.lrGroups, []);
    assert.equal(plain.adamBetas, undefined);
    // a value no recipe has, per field: the option must carry exactly it
    const changed: Record<string, unknown> = {
      steps: 17,
      optimizer: base.optimizer === "lars" ? "adamw" : "lars",
      lr: 0.0123,
      schedule: base.schedule === "step" ? "constant" : "step",
      warmupSteps: 3,
      minLr: 0.00042,
      weightDecay: 0.00031,
      momentum: 0.77,
      nesterov: !base.nesterov,
      beta1: 0.41,
      beta2: 0.97,
      larsEta: 0.017,
      larsClip: true,
      constantPredictorLr: true,
      biasLrScale: 0.0048,
    };
    assert.deepEqual(Object.keys(changed).sort(), Object.keys(TO_TRAIN).sort());
    for (const [field, value] of Object.entries(changed)) {
      const options = recipeTrainOptions(
        { ...base, [field]: value } as Recipe,
        setup.nets,
        trainable,
      ) as unknown as Record<string, unknown>;
      const target = TO_TRAIN[field];
      if (field === "beta1") assert.deepEqual(options.adamBetas, [0.41, 0.999], field);
      else if (field === "beta2") {
        // beta2 alone keeps Adam's defaults: the recipe's betas come as a pair with beta1
        const both = recipeTrainOptions(
          { ...base, beta1: 0.5, beta2: 0.97 },
          setup.nets,
          trainable,
        );
        assert.deepEqual(both.adamBetas, [0.5, 0.97], field);
      } else if (field === "constantPredictorLr") {
        const groups = options.lrGroups as RecipeTrainOptions["lrGroups"];
        assert.equal(groups.length, 1, field);
        assert.equal(groups[0].constant, true, field);
        assert.ok(groups[0].variables.length > 0, field);
      } else if (field === "biasLrScale") {
        const groups = options.lrGroups as RecipeTrainOptions["lrGroups"];
        assert.equal(groups.length, 1, field);
        assert.equal(groups[0].scale, 0.0048, field);
      } else assert.deepEqual(options[target], value, field);
      // and nothing else moved
      for (const [key, v] of Object.entries(plain)) {
        if (key !== target) assert.deepEqual(options[key], v, `${field} moved ${key}`);
      }
    }
  } finally {
    for (const net of Object.values(setup.nets as Record<string, { dispose(): void }>)) {
      net.dispose();
    }
  }
});

Deno.test("recipeTrainOptions: a resolved recipe's values, unchanged, for every method and family", () => {
  for (const r of everyRecipe()) {
    const nets = { predictor: { trainableWeights: [] } };
    const o = recipeTrainOptions(r, nets, []);
    const label = `${r.method} ${r.recipe}`;
    for (const [field, target] of Object.entries(TO_TRAIN)) {
      if (target === "adamBetas" || target === "lrGroups") continue;
      const value = (r as unknown as Record<string, unknown>)[field];
      assert.equal((o as Record<string, unknown>)[target], value, `${label}: ${field}`);
    }
    assert.deepEqual(
      o.adamBetas,
      r.beta1 === undefined ? undefined : [r.beta1, r.beta2 ?? 0.999],
      `${label}: betas`,
    );
    assert.equal(
      o.lrGroups.length,
      Number(!!r.constantPredictorLr) + Number(r.biasLrScale !== undefined),
      `${label}: groups`,
    );
  }
});

Deno.test("recipeTrainOptions: adamBetas, larsEta and larsClip are keys only where the recipe sets them", () => {
  const always = [
    "steps",
    "optimizer",
    "lr",
    "schedule",
    "warmupSteps",
    "minLr",
    "weightDecay",
    "momentum",
    "nesterov",
  ];
  const seen = { larsEta: 0, noLarsEta: 0, larsClip: 0, noLarsClip: 0 };
  for (const r of everyRecipe()) {
    const o = recipeTrainOptions(r, { predictor: { trainableWeights: [] } }, []);
    const expected = [
      ...always,
      ...(r.beta1 !== undefined ? ["adamBetas"] : []),
      ...(r.larsEta !== undefined ? ["larsEta"] : []),
      ...(r.larsClip !== undefined ? ["larsClip"] : []),
      "lrGroups",
    ];
    assert.deepEqual(Object.keys(o), expected, `${r.method} ${r.recipe}`);
    seen[r.larsEta !== undefined ? "larsEta" : "noLarsEta"]++;
    seen[r.larsClip !== undefined ? "larsClip" : "noLarsClip"]++;
  }
  // both sides of each test are reached by some resolved recipe
  for (const [side, count] of Object.entries(seen)) assert.ok(count > 0, side);
});
