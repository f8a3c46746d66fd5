import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { negativeCosine } from "../losses/mod.ts";
import { byolHead, cloneModel, sourcePredictor, sourceProjector } from "../models/mod.ts";
import {
  buildEncoder,
  checkRange,
  checkViews,
  embed,
  embedBoth,
  headStyle,
  paperViewBuilder,
  regularization,
  tidyStep,
  variablesOf,
  zStd,
} from "./_common.ts";
import { cosineMomentum, momentumUpdate } from "./momentum_update.ts";
import type { BaseMethodOptions, Method, MethodSetup } from "./types.ts";

/** Options for {@linkcode byol}. */
export interface ByolOptions extends BaseMethodOptions {
  /**
   * Base target momentum tau, raised to 1 on a cosine schedule.
   * @default {0.996} (Grill et al. 2020, arXiv:2006.07733)
   */
  momentum?: number;
}

/** BYOL's networks: the online encoder, projector and predictor, and the EMA target. */
export interface ByolNets {
  /** The online encoder (the backbone used downstream). */
  encoder: tfl.LayersModel;
  /** The online projector. */
  projector: tfl.LayersModel;
  /** The online predictor (only the online branch has one). */
  predictor: tfl.LayersModel;
  /** The target encoder: an EMA of the online encoder, never trained by gradients. */
  targetEncoder: tfl.LayersModel;
  /** The target projector: an EMA of the online projector. */
  targetProjector: tfl.LayersModel;
}

/** BYOL has no state between steps besides its target network. */
export type ByolState = Record<string, never>;

/**
 * BYOL (Grill et al. 2020, arXiv:2006.07733): the online network (encoder, projector,
 * predictor) predicts the target network's projection of the other view; the target is an EMA
 * of the online encoder and projector (every weight and BatchNorm statistic), tau from 0.996 to 1
 * on a cosine schedule, updated in `afterUpdate`. Loss: the symmetrized `2 - 2 cos(p, sg(z'))`.
 * Heads: 4096 hidden, 256 out (paper) or the source's projector/predictor.
 *
 * @param options encoder, input shape, seed, momentum, head sizes
 * @returns the method, its nets and (empty) state
 *
 * @example
 * ```ts
 * import { byol } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { method, nets, state } = byol({
 *   encoder: "convnet", inputShape: [8, 8, 1], seed: 1, widths: [4], projectionDim: 4, hiddenDim: 8,
 * });
 * const views = method.views(tf.randomUniform([4, 8, 8, 1]) as tf.Tensor4D, 0);
 * const { loss } = method.step(nets, views, state, { progress: 0, step: 0, epoch: 0 });
 * assert.ok(loss.dataSync()[0] >= 0 && loss.dataSync()[0] <= 8);
 * ```
 */
export function byol(options: ByolOptions): MethodSetup<ByolNets, ByolState> {
  const built = buildEncoder(options);
  const style = headStyle(options, built.sequence);
  const { momentum = 0.996 } = options;
  checkRange("byol", "momentum", momentum, 0, 1);
  const { projectionDim = style === "source" ? 128 : 256 } = options;
  const { hiddenDim = style === "source" ? 64 : 4096 } = options;
  const projector = style === "source"
    ? sourceProjector(built.dim, { projectionDim })
    : byolHead(built.dim, { projectionDim, hiddenDim, name: "byol_projector" });
  const predictor = style === "source"
    ? sourcePredictor(projectionDim, { projectionDim, hiddenDim })
    : byolHead(projectionDim, { projectionDim, hiddenDim, name: "byol_predictor" });
  const nets: ByolNets = {
    encoder: built.encoder,
    projector,
    predictor,
    targetEncoder: cloneModel(built.encoder, { freezeBatchNormStatistics: true }),
    targetProjector: cloneModel(projector, { freezeBatchNormStatistics: true }),
  };
  const method: Method<ByolNets, ByolState> = {
    name: "byol",
    views: paperViewBuilder("byol", options.augment, built.sequence),
    step(n, views, state) {
      checkViews("byol", views, 2);
      return tidyStep(() => {
        const [z1, p1] = embedBoth(n.encoder, n.projector, n.predictor, views[0]);
        const [, p2] = embedBoth(n.encoder, n.projector, n.predictor, views[1]);
        const t1 = embed(n.targetEncoder, [n.targetProjector], views[0]);
        const t2 = embed(n.targetEncoder, [n.targetProjector], views[1]);
        // 2 - 2 cos = 2 + 2 negativeCosine, per direction, summed (BYOL's symmetrized loss)
        const loss = tf.addN([
          tf.add(2, tf.mul(2, negativeCosine(p1, t2))),
          tf.add(2, tf.mul(2, negativeCosine(p2, t1))),
          regularization([n.projector, n.predictor]),
        ]) as tf.Scalar;
        return { loss, metrics: { zStd: zStd(z1) }, state };
      });
    },
    trainable: (n) => variablesOf([n.encoder, n.projector, n.predictor]),
    afterUpdate(n, state, context) {
      const tau = cosineMomentum(momentum, context.progress);
      momentumUpdate(n.targetEncoder, n.encoder, tau);
      momentumUpdate(n.targetProjector, n.projector, tau);
      return state;
    },
  };
  return { method, nets, state: {}, encoder: built.encoder };
}
