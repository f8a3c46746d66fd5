import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { infoNce, infoNceAccuracy, ntXent, ntXentAccuracy } from "../losses/mod.ts";
import { simclrHead, sourceSimclrHead } from "../models/mod.ts";
import {
  buildEncoder,
  checkRange,
  checkViews,
  embed,
  headStyle,
  regularization,
  twoViewBuilder,
  variablesOf,
  zStd,
} from "./_common.ts";
import type { BaseMethodOptions, Method, MethodSetup } from "./types.ts";

/** Options for {@linkcode simclr}. */
export interface SimclrOptions extends BaseMethodOptions {
  /**
   * `"nt-xent"`: SimCLR's loss over 2N views; `"info-nce"`: the source's symmetric cross-view
   * InfoNCE (`info_nce_loss`).
   * @default {"info-nce" with the source's heads, else "nt-xent"}
   */
  loss?: "nt-xent" | "info-nce";
  /**
   * Softmax temperature.
   * @default {0.5 for nt-xent (SimCLR, arXiv:2002.05709, CIFAR-10), 0.1 for info-nce (the source)}
   */
  temperature?: number;
  /** Paper head depth: 2 (SimCLR v1) or 3 (SimCLR v2). @default {2} */
  headLayers?: 2 | 3;
  /**
   * Run both views through the nets as one batch of 2N, so BatchNorm normalizes them with shared
   * statistics, as the official code does (google-research/simclr `run.py` concatenates the
   * views along the batch); false: one forward (and one BatchNorm batch) per view. With one batch
   * per view, the default MNIST run scored 1.9 kNN points lower (bench/RESULTS.md, "Learning
   * gap").
   * @default {true}
   */
  sharedBatchNorm?: boolean;
  /**
   * Paper heads: BatchNorm after each Dense layer as the official code (`simclrHead`'s
   * `batchNorm`); false: the paper's text, Dense -> ReLU -> Dense with biases. On the small MNIST
   * ConvNet the plain head left the encoder's kNN 4.9 points higher at 300 steps in a PyTorch
   * twin (1.0 in selfsup, one seed; bench/RESULTS.md, "Learning gap"), so the default run uses it.
   * @default {true}
   */
  headBatchNorm?: boolean;
}

/** SimCLR's networks. */
export interface SimclrNets {
  /** The encoder (the backbone used downstream). */
  encoder: tfl.LayersModel;
  /** The projection head the loss sees. */
  head: tfl.LayersModel;
}

/** SimCLR has no state between steps. */
export type SimclrState = Record<string, never>;

/**
 * SimCLR (Chen et al. 2020, arXiv:2002.05709): two augmented views, encoder, projection head,
 * and NT-Xent over the 2N views (or the source's symmetric InfoNCE). In sequence mode the frames
 * go through the head per frame and `featureFlat` before the loss, as the source's
 * `forward_simclr`. Metrics: `zStd` and `top1` (the positive's accuracy among the logits).
 *
 * @param options encoder, input shape, seed, loss, temperature, head sizes
 * @returns the method, its nets and (empty) state
 *
 * @example
 * ```ts
 * import { simclr } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { method, nets, state } = simclr({
 *   encoder: "convnet", inputShape: [8, 8, 1], seed: 1, widths: [4], projectionDim: 4,
 * });
 * const views = method.views(tf.randomUniform([4, 8, 8, 1]) as tf.Tensor4D, 0);
 * const { loss } = method.step(nets, views, state, { progress: 0, step: 0, epoch: 0 });
 * assert.ok(loss.dataSync()[0] > 0);
 * ```
 */
export function simclr(options: SimclrOptions): MethodSetup<SimclrNets, SimclrState> {
  const built = buildEncoder(options);
  const style = headStyle(options, built.sequence);
  const {
    projectionDim = 128,
    hiddenDim,
    headLayers = 2,
    sharedBatchNorm = true,
    headBatchNorm = true,
    loss: lossName = style === "source" ? "info-nce" : "nt-xent",
  } = options;
  if (lossName !== "nt-xent" && lossName !== "info-nce") {
    throw new TypeError(
      `Cannot build simclr: loss must be "nt-xent" or "info-nce", received ${lossName}`,
    );
  }
  const { temperature = lossName === "nt-xent" ? 0.5 : 0.1 } = options;
  checkRange("simclr", "temperature", temperature, 0, Infinity, true);
  const head = style === "source"
    ? sourceSimclrHead(built.dim, { projectionDim })
    : simclrHead(built.dim, {
      projectionDim,
      hiddenDim,
      layers: headLayers,
      batchNorm: headBatchNorm,
    });
  const nets: SimclrNets = { encoder: built.encoder, head };
  const lossFn = lossName === "nt-xent" ? ntXent : infoNce;
  const accuracy = lossName === "nt-xent" ? ntXentAccuracy : infoNceAccuracy;
  const method: Method<SimclrNets, SimclrState> = {
    name: "simclr",
    views: twoViewBuilder(options.augment, built.sequence),
    step(nets, views, state, context) {
      checkViews("simclr", views, 2);
      return tf.tidy(() => {
        let z1: tf.Tensor2D, z2: tf.Tensor2D;
        if (sharedBatchNorm) {
          const z = embed(nets.encoder, [nets.head], tf.concat(views, 0) as tf.Tensor4D); // [2N, P]
          const n = z.shape[0] / 2; // N rows per view (B, or B * frames for sequences)
          z1 = tf.slice(z, [0, 0], [n, -1]);
          z2 = tf.slice(z, [n, 0], [n, -1]);
        } else {
          z1 = embed(nets.encoder, [nets.head], views[0]);
          z2 = embed(nets.encoder, [nets.head], views[1]);
        }
        // data-parallel: the global batch's loss on every rank, all ranks' rows as negatives
        const replicas = context?.replicas;
        if (replicas && replicas.size > 1 && replicas.gatherNegatives) {
          z1 = replicas.allGather(z1);
          z2 = replicas.allGather(z2);
        }
        const loss = tf.add(
          lossFn(z1, z2, { temperature }),
          regularization([nets.head]),
        ) as tf.Scalar;
        return {
          loss,
          metrics: { zStd: zStd(z1), top1: accuracy(z1, z2, { temperature }) },
          state,
        };
      });
    },
    trainable: (nets) => variablesOf([nets.encoder, nets.head]),
  };
  return { method, nets, state: {}, encoder: built.encoder };
}
