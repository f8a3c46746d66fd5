import type { tf } from "../backend/tf.ts";
import type { Recipe } from "../methods/recipes.ts";
import { recipeLrGroups } from "../methods/recipe_lr_groups.ts";
import type { TrainOptions } from "./train.ts";

/** The {@linkcode TrainOptions} a resolved recipe sets. */
export type RecipeTrainOptions =
  & Required<
    Pick<
      TrainOptions,
      | "steps"
      | "optimizer"
      | "lr"
      | "schedule"
      | "warmupSteps"
      | "minLr"
      | "weightDecay"
      | "momentum"
      | "nesterov"
      | "lrGroups"
    >
  >
  & Pick<TrainOptions, "adamBetas" | "larsEta" | "larsClip">;

/**
 * `train`'s options from a resolved recipe: steps, optimizer, peak lr, schedule, warm-up, cosine
 * floor, weight decay, momentum, Nesterov, Adam's betas and the LARS trust coefficient and clipping
 * where the recipe sets them, and the parameter groups of {@linkcode recipeLrGroups}. What a
 * recipe gives the method (`emaMomentum`) or the views (`augment`) is the caller's; so are the
 * options a run adds (`stepsPerEpoch`, `seed`, checkpoints, monitors).
 *
 * @param recipe a recipe from `resolveRecipe`
 * @param nets the method's nets (`predictor` for SimSiam's constant-lr group)
 * @param trainable the variables the optimizer updates
 * @returns the options, to spread into `train`'s
 *
 * @example
 * ```ts
 * import { createMethod, resolveRecipe } from "../methods/mod.ts";
 * import { recipeTrainOptions } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const setup = createMethod("simsiam", {
 *   encoder: "convnet", inputShape: [8, 8, 1], seed: 0, widths: [4], projectionDim: 8,
 * });
 * const recipe = resolveRecipe("simsiam", { batchSize: 32, steps: 10 });
 * const options = recipeTrainOptions(recipe, setup.nets, setup.method.trainable(setup.nets));
 * assert.equal(options.lr, recipe.lr);
 * assert.equal(options.lrGroups[0].constant, true);
 * ```
 */
export function recipeTrainOptions(
  recipe: Recipe,
  nets: unknown,
  trainable: tf.Variable[],
): RecipeTrainOptions {
  return {
    steps: recipe.steps,
    optimizer: recipe.optimizer,
    lr: recipe.lr,
    schedule: recipe.schedule,
    warmupSteps: recipe.warmupSteps,
    minLr: recipe.minLr,
    weightDecay: recipe.weightDecay,
    momentum: recipe.momentum,
    nesterov: recipe.nesterov,
    ...(recipe.beta1 !== undefined ? { adamBetas: [recipe.beta1, recipe.beta2 ?? 0.999] } : {}),
    ...(recipe.larsEta !== undefined ? { larsEta: recipe.larsEta } : {}),
    ...(recipe.larsClip !== undefined ? { larsClip: recipe.larsClip } : {}),
    lrGroups: recipeLrGroups(recipe, nets, trainable),
  };
}
