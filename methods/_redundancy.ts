import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { mlpHead } from "../models/mod.ts";
import {
  buildEncoder,
  checkCount,
  checkViews,
  embed,
  paperViewBuilder,
  regularization,
  variablesOf,
  zStd,
} from "./_common.ts";
import type { BaseMethodOptions, Method, MethodSetup } from "./types.ts";

/** The networks of Barlow Twins and VICReg: an encoder and its expander/projector. */
export interface RedundancyNets {
  /** The encoder (the backbone used downstream). */
  encoder: tfl.LayersModel;
  /** The projector ("expander" in VICReg). */
  projector: tfl.LayersModel;
}

/** Barlow Twins and VICReg have no state between steps. */
export type RedundancyState = Record<string, never>;

/** Options shared by Barlow Twins and VICReg. */
export interface RedundancyOptions extends BaseMethodOptions {
  /**
   * Widths 4x the encoder's feature size instead of the papers' 8192 (solo-learn's CIFAR configs
   * use 2048 for a ResNet-18's 512 features, as 8192 is 4x a ResNet-50's 2048); `hiddenDim` and
   * `projectionDim` still override.
   * @default {false}
   */
  scaledProjector?: boolean;
}

/**
 * Builds a Barlow Twins / VICReg style method: encoder, a 3-layer projector (Dense -> BN -> ReLU
 * twice, then a Dense without bias), a symmetric loss over the two views' projections, BYOL's
 * asymmetric views by default.
 */
export function redundancyMethod(
  name: string,
  options: RedundancyOptions,
  bias: boolean,
  loss: (z1: tf.Tensor2D, z2: tf.Tensor2D) => tf.Scalar,
): MethodSetup<RedundancyNets, RedundancyState> {
  const built = buildEncoder(options);
  const width = options.scaledProjector ? 4 * built.dim : 8192;
  const { projectionDim = width } = options;
  const { hiddenDim = options.scaledProjector ? width : projectionDim } = options;
  checkCount(name, "projectionDim", projectionDim);
  checkCount(name, "hiddenDim", hiddenDim);
  const projector = mlpHead(built.dim, [
    { units: hiddenDim, useBias: bias, after: ["bn", "relu"] },
    { units: hiddenDim, useBias: bias, after: ["bn", "relu"] },
    { units: projectionDim, useBias: false },
  ], { name: `${name.replace("-", "_")}_projector`, batchNormMomentum: 0.9 });
  const nets: RedundancyNets = { encoder: built.encoder, projector };
  const method: Method<RedundancyNets, RedundancyState> = {
    name,
    views: paperViewBuilder("byol", options.augment, built.sequence),
    step(n, views, state, context) {
      checkViews(name, views, 2);
      return tf.tidy(() => {
        let z1 = embed(n.encoder, [n.projector], views[0]);
        let z2 = embed(n.encoder, [n.projector], views[1]);
        // data-parallel: the global batch's loss on every rank (its cross-correlation, variance
        // and covariance span all ranks' rows, as VICReg's FullGatherLayer)
        const r = context?.replicas;
        if (r && r.size > 1) [z1, z2] = [r.allGather(z1), r.allGather(z2)];
        const total = tf.add(loss(z1, z2), regularization([n.projector])) as tf.Scalar;
        return { loss: total, metrics: { zStd: zStd(z1) }, state };
      });
    },
    trainable: (n) => variablesOf([n.encoder, n.projector]),
  };
  return { method, nets, state: {}, encoder: built.encoder };
}
