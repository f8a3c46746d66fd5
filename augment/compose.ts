import { tf } from "../backend/tf.ts";
import {
  type Augmentation,
  bernoulli,
  checkImages,
  checkProbability,
  childSeed,
  mix,
  rngFor,
} from "./_common.ts";

/** A pipeline step: an augmentation, or `[augmentation, probability per sample]`. */
export type ComposeStep = Augmentation | [Augmentation, number];

/**
 * Chains augmentations into one. A step `[op, p]` is applied to each sample independently with
 * probability `p` (mixed in by a 0/1 mask with arithmetic, so the op must keep the shape); a
 * bare op always applies. Every step gets its own seed, drawn from the pipeline's seed, so the
 * whole pipeline repeats exactly under the same seed. `p = 0` skips the op, `p = 1` applies it
 * to every sample.
 *
 * @param steps the augmentations in order, each optionally with a probability
 * @returns an augmentation running the steps in order
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { brightness, compose, horizontalFlip } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const pipeline = compose(horizontalFlip(), [brightness({ delta: 0.1 }), 0.8]);
 * const x = tf.randomUniform([4, 8, 8, 3]) as tf.Tensor4D;
 * assert.deepEqual(pipeline(x, 1).shape, [4, 8, 8, 3]);
 * ```
 */
export function compose(...steps: ComposeStep[]): Augmentation {
  const parsed = steps.map((step, i): [Augmentation, number] => {
    const [op, p] = Array.isArray(step) ? step : [step, 1];
    if (typeof op !== "function") {
      throw new TypeError(
        `Cannot create compose: step ${i} must be an augmentation or [augmentation, p], received ${typeof op}`,
      );
    }
    checkProbability(p, `the probability of step ${i}`, "compose");
    return [op, p];
  });
  return (images, seed) => {
    checkImages(images, "compose");
    const prng = rngFor(seed, "compose");
    return tf.tidy(() => {
      let x = images;
      for (const [op, p] of parsed) {
        const stepSeed = childSeed(prng);
        const mask = p < 1 ? bernoulli(prng, x.shape[0], p) : undefined;
        if (p === 0) continue;
        const y = op(x, stepSeed);
        if (mask) {
          if (y.shape.join() !== x.shape.join()) {
            throw new TypeError(
              `Cannot apply compose: a step with probability ${p} must keep the shape, received [${x.shape}] -> [${y.shape}]`,
            );
          }
          x = mix(mask, y, x);
        } else {
          x = y;
        }
      }
      return x === images ? tf.clone(images) : x;
    });
  };
}
