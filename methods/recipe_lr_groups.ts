import type { tf } from "../backend/tf.ts";
import type { Recipe } from "./recipes.ts";

/** A parameter group with its own learning rate (the shape of `train`'s `lrGroups`). */
export interface RecipeLrGroup {
  /** The group's variables. */
  variables: tf.Variable[];
  /** Multiplies the group's rate. */
  scale?: number;
  /** The peak rate at every step instead of the schedule. */
  constant?: boolean;
}

/**
 * The parameter groups a recipe asks for, from a method's nets: SimSiam's predictor at the peak
 * lr throughout (`constantPredictorLr`, arXiv:2011.10566 Section 4.1) and Barlow Twins' biases
 * and BatchNorm parameters (every rank-0/1 variable) at `biasLrScale` of the lr
 * (arXiv:2103.03230: 0.2 for weights, 0.0048 for biases). Empty when the recipe has neither.
 *
 * @param recipe a resolved recipe
 * @param nets the method's nets (`predictor` for SimSiam) and its trainable variables
 * @param trainable the variables the optimizer updates
 * @returns the groups, for `train`'s `lrGroups`
 *
 * @example
 * ```ts
 * import { createMethod, recipeLrGroups, resolveRecipe } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const setup = createMethod("simsiam", {
 *   encoder: "convnet", inputShape: [8, 8, 1], seed: 0, widths: [4], projectionDim: 8,
 * });
 * const recipe = resolveRecipe("simsiam", { batchSize: 32, steps: 10 });
 * const groups = recipeLrGroups(recipe, setup.nets, setup.method.trainable(setup.nets));
 * assert.equal(groups[0].constant, true);
 * ```
 */
export function recipeLrGroups(
  recipe: Recipe,
  nets: unknown,
  trainable: tf.Variable[],
): RecipeLrGroup[] {
  const groups: RecipeLrGroup[] = [];
  if (recipe.constantPredictorLr) {
    const predictor = (nets as { predictor?: { trainableWeights: { read(): tf.Tensor }[] } })
      .predictor;
    if (!predictor) {
      throw new TypeError(
        `Cannot apply the ${recipe.method} recipe: a constant predictor lr needs nets.predictor, received none`,
      );
    }
    const ids = new Set(predictor.trainableWeights.map((w) => w.read().id));
    groups.push({ variables: trainable.filter((v) => ids.has(v.id)), constant: true });
  }
  if (recipe.biasLrScale !== undefined) {
    groups.push({ variables: trainable.filter((v) => v.rank <= 1), scale: recipe.biasLrScale });
  }
  return groups;
}
