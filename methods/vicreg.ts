import { vicregLoss } from "../losses/mod.ts";
import { checkRange } from "./_common.ts";
import { redundancyMethod, type RedundancyNets, type RedundancyState } from "./_redundancy.ts";
import type { BaseMethodOptions, MethodSetup } from "./types.ts";

/** Options for {@linkcode vicreg}. */
export interface VicregOptions extends BaseMethodOptions {
  /**
   * Widths 4x the encoder's feature size instead of the paper's 8192 (solo-learn's CIFAR configs
   * use 2048 for a ResNet-18's 512 features, as 8192 is 4x a ResNet-50's 2048); `hiddenDim` and
   * `projectionDim` still override.
   * @default {false}
   */
  scaledProjector?: boolean;
  /** Weight λ of the invariance term. @default {25} (Bardes et al. 2022, arXiv:2105.04906) */
  invariance?: number;
  /** Weight μ of the variance term. @default {25} (arXiv:2105.04906) */
  variance?: number;
  /** Weight ν of the covariance term. @default {1} (arXiv:2105.04906) */
  covariance?: number;
}

/** VICReg's networks: the encoder and the expander. */
export type VicregNets = RedundancyNets;

/** VICReg has no state between steps. */
export type VicregState = RedundancyState;

/**
 * VICReg (Bardes et al. 2022, arXiv:2105.04906): two views through the encoder and an expander
 * of 8192-8192-8192 (Dense -> BatchNorm -> ReLU twice, then Dense without bias,
 * facebookresearch/vicreg `Projector`), and {@linkcode vicregLoss} with 25 / 25 / 1 for
 * invariance / variance / covariance. `scaledProjector` sizes the expander 4x the encoder's
 * features for small encoders. Views: BYOL's asymmetric pair unless `augment` is given.
 * Metrics: `zStd`.
 *
 * @param options encoder, input shape, seed, loss weights, expander sizes
 * @returns the method, its nets and (empty) state
 *
 * @example
 * ```ts
 * import { vicreg } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { method, nets, state } = vicreg({
 *   encoder: "convnet", inputShape: [8, 8, 1], seed: 1, widths: [4], projectionDim: 8, hiddenDim: 8,
 * });
 * const views = method.views(tf.randomUniform([4, 8, 8, 1]) as tf.Tensor4D, 0);
 * const { loss } = method.step(nets, views, state, { progress: 0, step: 0, epoch: 0 });
 * assert.ok(loss.dataSync()[0] > 0);
 * ```
 */
export function vicreg(options: VicregOptions): MethodSetup<VicregNets, VicregState> {
  const { invariance = 25, variance = 25, covariance = 1 } = options;
  checkRange("vicreg", "invariance", invariance, 0, Infinity);
  checkRange("vicreg", "variance", variance, 0, Infinity);
  checkRange("vicreg", "covariance", covariance, 0, Infinity);
  return redundancyMethod(
    "vicreg",
    options,
    true,
    (z1, z2) => vicregLoss(z1, z2, { invariance, variance, covariance }),
  );
}
