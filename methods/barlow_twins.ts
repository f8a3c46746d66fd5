import { tf } from "../backend/tf.ts";
import { barlowTwinsLoss } from "../losses/mod.ts";
import { checkRange } from "./_common.ts";
import { redundancyMethod, type RedundancyNets, type RedundancyState } from "./_redundancy.ts";
import type { BaseMethodOptions, MethodSetup } from "./types.ts";

/** Options for {@linkcode barlowTwins}. */
export interface BarlowTwinsOptions extends BaseMethodOptions {
  /**
   * Widths 4x the encoder's feature size instead of the paper's 8192 (solo-learn's CIFAR configs
   * use 2048 for a ResNet-18's 512 features, as 8192 is 4x a ResNet-50's 2048); `hiddenDim` and
   * `projectionDim` still override.
   * @default {false}
   */
  scaledProjector?: boolean;
  /**
   * Weight λ of the redundancy-reduction term.
   * @default {5e-3} (Zbontar et al. 2021, arXiv:2103.03230)
   */
  lambda?: number;
  /**
   * Multiplies the loss (solo-learn's `scale_loss`, 0.1 in its CIFAR and ImageNet-100 configs).
   * Under LARS an adapted kernel's step length does not depend on it while the trust ratio is
   * below the cap (`clip`: `min(eta ||w|| / ||g + wd w||, lr)`), but the step's direction does
   * (the weight decay's share of `g + wd w`), and so does its length once the cap binds; the
   * parameters LARS leaves alone (biases, BatchNorm's gamma and beta) step in proportion to it.
   * @default {1} (Zbontar et al. 2021, arXiv:2103.03230: the loss as it is)
   */
  scaleLoss?: number;
}

/** Barlow Twins' networks: the encoder and the projector. */
export type BarlowTwinsNets = RedundancyNets;

/** Barlow Twins has no state between steps. */
export type BarlowTwinsState = RedundancyState;

/**
 * Barlow Twins (Zbontar et al. 2021, arXiv:2103.03230): two views through the encoder and a
 * projector of 8192-8192-8192 (Dense without bias -> BatchNorm -> ReLU twice, then Dense without
 * bias, facebookresearch/barlowtwins), and {@linkcode barlowTwinsLoss}: the cross-correlation
 * of the batch-standardized projections pushed to the identity. `scaledProjector` sizes the
 * projector 4x the encoder's features for small encoders. Views: BYOL's asymmetric pair unless
 * `augment` is given. Metrics: `zStd`.
 *
 * @param options encoder, input shape, seed, lambda, projector sizes
 * @returns the method, its nets and (empty) state
 *
 * @example
 * ```ts
 * import { barlowTwins } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { method, nets, state } = barlowTwins({
 *   encoder: "convnet", inputShape: [8, 8, 1], seed: 1, widths: [4], scaledProjector: true,
 * });
 * assert.deepEqual(nets.projector.outputs[0].shape, [null, 16]);
 * const views = method.views(tf.randomUniform([4, 8, 8, 1]) as tf.Tensor4D, 0);
 * const { loss } = method.step(nets, views, state, { progress: 0, step: 0, epoch: 0 });
 * assert.ok(loss.dataSync()[0] > 0);
 * ```
 */
export function barlowTwins(
  options: BarlowTwinsOptions,
): MethodSetup<BarlowTwinsNets, BarlowTwinsState> {
  const { lambda = 5e-3, scaleLoss = 1 } = options;
  checkRange("barlow-twins", "lambda", lambda, 0, Infinity);
  checkRange("barlow-twins", "scaleLoss", scaleLoss, 0, Number.MAX_VALUE, true);
  return redundancyMethod(
    "barlow-twins",
    options,
    false,
    (z1, z2) =>
      scaleLoss === 1
        ? barlowTwinsLoss(z1, z2, { lambda })
        : tf.mul(barlowTwinsLoss(z1, z2, { lambda }), scaleLoss) as tf.Scalar,
  );
}
