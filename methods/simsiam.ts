import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { negativeCosine } from "../losses/mod.ts";
import {
  simsiamPredictor,
  simsiamProjector,
  sourcePredictor,
  sourceProjector,
} from "../models/mod.ts";
import {
  buildEncoder,
  checkViews,
  embedBoth,
  headStyle,
  l2Normalize,
  paperViewBuilder,
  regularization,
  variablesOf,
  zStd,
} from "./_common.ts";
import type { BaseMethodOptions, Method, MethodSetup } from "./types.ts";

/** Options for {@linkcode simsiam}. */
export interface SimsiamOptions extends BaseMethodOptions {
  /**
   * Stop the gradient through the target branch z. `false` reproduces the collapse of the
   * SimSiam paper's Figure 2 (arXiv:2011.10566).
   * @default {true}
   */
  stopGradient?: boolean;
}

/** SimSiam's networks. */
export interface SimsiamNets {
  /** The encoder (the backbone used downstream). */
  encoder: tfl.LayersModel;
  /** The projector: z = projector(encoder(x)). */
  projector: tfl.LayersModel;
  /** The predictor: p = predictor(z). */
  predictor: tfl.LayersModel;
}

/** SimSiam has no state between steps. */
export type SimsiamState = Record<string, never>;

/**
 * SimSiam (Chen & He 2020, arXiv:2011.10566): encoder f + projector, predictor h, and the
 * symmetric loss D(p1, sg(z2))/2 + D(p2, sg(z1))/2 with D the negative cosine. Paper heads: 2048
 * projector, 2048-512-2048 predictor; source heads: the sequence task's projector and predictor
 * (128 / 64 by default). `zStd` monitors collapse: ~1/sqrt(d) when healthy, 0 when collapsed.
 *
 * @param options encoder, input shape, seed, head sizes, stopGradient
 * @returns the method, its nets and (empty) state
 *
 * @example
 * ```ts
 * import { simsiam } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { method, nets, state } = simsiam({
 *   encoder: "convnet", inputShape: [8, 8, 1], seed: 1, widths: [4], projectionDim: 8, hiddenDim: 4,
 * });
 * const views = method.views(tf.randomUniform([4, 8, 8, 1]) as tf.Tensor4D, 0);
 * const { loss } = method.step(nets, views, state, { progress: 0, step: 0, epoch: 0 });
 * assert.ok(loss.dataSync()[0] >= -1);
 * ```
 */
export function simsiam(options: SimsiamOptions): MethodSetup<SimsiamNets, SimsiamState> {
  const built = buildEncoder(options);
  const style = headStyle(options, built.sequence);
  const { stopGradient = true } = options;
  const { projectionDim = style === "source" ? 128 : 2048 } = options;
  const { hiddenDim = style === "source" ? 64 : Math.max(1, Math.round(projectionDim / 4)) } =
    options;
  const projector = style === "source"
    ? sourceProjector(built.dim, { projectionDim })
    : simsiamProjector(built.dim, { projectionDim });
  const predictor = style === "source"
    ? sourcePredictor(projectionDim, { projectionDim, hiddenDim })
    : simsiamPredictor(projectionDim, { hiddenDim });
  const nets: SimsiamNets = { encoder: built.encoder, projector, predictor };
  // without stop-gradient: the same negative cosine, gradient through both branches
  const distance = stopGradient
    ? negativeCosine
    : (p: tf.Tensor2D, z: tf.Tensor2D) =>
      tf.tidy(() =>
        tf.neg(tf.mean(tf.sum(tf.mul(l2Normalize(p), l2Normalize(z)), 1))) as tf.Scalar
      );
  const method: Method<SimsiamNets, SimsiamState> = {
    name: "simsiam",
    views: paperViewBuilder("moco-v2", options.augment, built.sequence),
    step(nets, views, state) {
      checkViews("simsiam", views, 2);
      return tf.tidy(() => {
        const [z1, p1] = embedBoth(nets.encoder, nets.projector, nets.predictor, views[0]);
        const [z2, p2] = embedBoth(nets.encoder, nets.projector, nets.predictor, views[1]);
        const loss = tf.addN([
          tf.mul(distance(p1, z2), 0.5),
          tf.mul(distance(p2, z1), 0.5),
          regularization([nets.projector, nets.predictor]),
        ]) as tf.Scalar;
        return { loss, metrics: { zStd: zStd(z1) }, state };
      });
    },
    trainable: (nets) => variablesOf([nets.encoder, nets.projector, nets.predictor]),
  };
  return { method, nets, state: {}, encoder: built.encoder };
}
