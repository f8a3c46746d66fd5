import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { mlpHead } from "../models/mod.ts";
import { buildEncoder, checkCount, tidyStep, variablesOf, zStd } from "./_common.ts";
import { classification, labelsAsView, labelsOfView } from "./pretext/classify.ts";
import { patchPairs } from "./pretext/patch_pairs.ts";
import { dropColors } from "./pretext/tiles.ts";
import type { BaseMethodOptions, Method, MethodSetup } from "./types.ts";

/** Options for {@linkcode relativePatch}. `augment` is not used: the patch pair is the view. */
export interface RelativePatchOptions extends BaseMethodOptions {
  /**
   * Side of each patch in pixels (overrides `patch`).
   * @default {from patch: about 24% of the shorter side}
   */
  tileSize?: number;
  /**
   * Patch side as a fraction of the shorter image side ({@linkcode patchPairs}).
   * @default {96 / 398} (Doersch et al. 2015: 96 px patches, layout of 398 px, scaled)
   */
  patch?: number;
  /** Gap between patches, as a fraction of the patch side. @default {0.5} (Doersch: 48 / 96 px) */
  gap?: number;
  /**
   * Largest jitter of each patch per axis, as a fraction of the patch side (at least 1 px).
   * @default {7 / 96} (Doersch et al. 2015: up to 7 px)
   */
  jitter?: number;
  /** Hidden units of the head on the concatenated pair. @default {256} */
  hiddenDim?: number;
  /**
   * Drop two of three colour channels of each patch (replaced by faint noise), against
   * chromatic-aberration shortcuts (Doersch et al. 2015, Sec. 3.1). No effect on gray images.
   * @default {true} (Doersch et al. 2015)
   */
  colorDropping?: boolean;
}

/** The relative-patch task's networks. */
export interface RelativePatchNets {
  /** The shared encoder, applied to both patches; used downstream. */
  encoder: tfl.LayersModel;
  /** `[B, 2D]` concatenated features to 8 logits. */
  head: tfl.LayersModel;
}

/** Neighbour label k (0..7) to grid position (0..8, row-major, the centre 4 skipped). */
export const NEIGHBOR_POSITIONS: readonly number[] = [0, 1, 2, 3, 5, 6, 7, 8];

/**
 * Relative patch position (Doersch et al. 2015, arXiv:1505.05192): a 3x3 layout of patches
 * with gaps of half a patch and per-patch jitter (the paper's 96 px patches, 48 px gaps and 7 px
 * jitter scaled to the input, {@linkcode patchPairs}: patches never touch), colours dropped on
 * RGB inputs; the centre patch and one of its 8 neighbours go through the shared encoder, their features are concatenated, and a fully connected head
 * predicts which neighbour (label k is grid position `NEIGHBOR_POSITIONS[k]`: 0 top-left ... 7
 * bottom-right). Views: centres `[B, t, t, C]`, neighbours `[B, t, t, C]` and labels
 * `[B, 1, 1, 1]`, all drawn in tensors from the seed. Metrics: `top1` (chance 0.125), `zStd`.
 *
 * @param options encoder, input shape, seed, tileSize, patch, gap, jitter, hiddenDim,
 * colorDropping
 * @returns the method, its nets and (empty) state
 *
 * @example
 * ```ts
 * import { relativePatch } from "./relative_patch.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { method, nets, state } = relativePatch({
 *   encoder: "convnet", inputShape: [16, 16, 1], seed: 0, widths: [4], hiddenDim: 8,
 * });
 * const views = method.views(tf.randomUniform([2, 16, 16, 1]) as tf.Tensor4D, 0);
 * assert.equal(views.length, 3);
 * const { loss } = method.step(nets, views, state, { progress: 0, step: 0, epoch: 0 });
 * assert.ok(loss.dataSync()[0] > 0);
 * ```
 */
export function relativePatch(
  options: RelativePatchOptions,
): MethodSetup<RelativePatchNets, Record<string, never>> {
  const built = buildEncoder(options, true);
  if (built.sequence) {
    throw new TypeError(
      "Cannot build relative-patch: expected an encoder with [B, D] output, received [B, L, D]",
    );
  }
  const { tileSize, patch, gap, jitter, hiddenDim = 256, colorDropping = true } = options;
  checkCount("relative-patch", "hiddenDim", hiddenDim);
  const geometry = { patch, gap, jitter, patchSize: tileSize };
  // fail at build time, not at the first batch, when the layout does not fit
  tf.tidy(() => {
    patchPairs(tf.zeros([1, ...options.inputShape]) as tf.Tensor4D, 0, geometry);
  });
  const head = mlpHead(2 * built.dim, [
    { units: hiddenDim, after: ["bn", "relu"] },
    { units: 8 },
  ], { name: "relative_patch_head" });
  const nets: RelativePatchNets = { encoder: built.encoder, head };
  const method: Method<RelativePatchNets, Record<string, never>> = {
    name: "relative-patch",
    views(images, seed) {
      return tf.tidy(() => {
        const pairs = patchPairs(images, seed, geometry);
        let { centres, neighbours } = pairs;
        if (colorDropping) {
          centres = dropColors(centres, seed + 2);
          neighbours = dropColors(neighbours, seed + 3);
        }
        return [centres, neighbours, labelsAsView(tf.tensor1d(pairs.labels, "int32"))];
      });
    },
    step(nets, views, state) {
      return tidyStep(() => {
        const [centres, neighbours, labelView] = views;
        const b = centres.shape[0];
        // one encoder pass over both patches: BatchNorm sees one batch
        const f = nets.encoder.apply(tf.concat([centres, neighbours], 0), {
          training: true,
        }) as tf.Tensor2D;
        const [f1, f2] = tf.split(f, [b, b], 0);
        const logits = nets.head.apply(tf.concat([f1, f2], 1), { training: true }) as tf.Tensor2D;
        const { loss, accuracy } = classification(logits, labelsOfView(labelView));
        return { loss, metrics: { top1: accuracy, zStd: zStd(f) }, state };
      });
    },
    trainable: (nets) => variablesOf([nets.encoder, nets.head]),
  };
  return { method, nets, state: {}, encoder: built.encoder };
}
