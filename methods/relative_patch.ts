import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { mlpHead } from "../models/mod.ts";
import { buildEncoder, checkCount, tidyStep, variablesOf, zStd } from "./_common.ts";
import { classification, labelsAsView, labelsOfView, randomLabels } from "./pretext/classify.ts";
import { dropColors, gridTiles } from "./pretext/tiles.ts";
import type { BaseMethodOptions, Method, MethodSetup } from "./types.ts";

/** Options for {@linkcode relativePatch}. `augment` is not used: the patch pair is the view. */
export interface RelativePatchOptions extends BaseMethodOptions {
  /** Side of each patch in pixels. @default {see gridTiles: 64/75 of a cell} */
  tileSize?: number;
  /** Hidden units of the head on the concatenated pair. @default {256} */
  hiddenDim?: number;
  /**
   * Drop two of three colour channels of each patch (replaced by faint noise), against
   * chromatic-aberration shortcuts (Doersch et al. 2015, Sec. 3.1). No effect on gray images.
   * @default {false}
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
 * Relative patch position (Doersch et al. 2015, arXiv:1505.05192): a random square crop cut
 * into a 3x3 grid with gaps and per-patch jitter; the centre patch and one of its 8 neighbours go
 * through the shared encoder, their features are concatenated, and a fully connected head
 * predicts which neighbour (label k is grid position `NEIGHBOR_POSITIONS[k]`: 0 top-left ... 7
 * bottom-right). Views: centres `[B, t, t, C]`, neighbours `[B, t, t, C]` and labels
 * `[B, 1, 1, 1]`, all drawn in tensors from the seed. Metrics: `top1` (chance 0.125), `zStd`.
 *
 * @param options encoder, input shape, seed, tileSize, hiddenDim, colorDropping
 * @returns the method, its nets and (empty) state
 *
 * @example
 * ```ts
 * import { relativePatch } from "./relative_patch.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { method, nets, state } = relativePatch({
 *   encoder: "convnet", inputShape: [12, 12, 1], seed: 0, widths: [4], hiddenDim: 8,
 * });
 * const views = method.views(tf.randomUniform([2, 12, 12, 1]) as tf.Tensor4D, 0);
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
  const { tileSize, hiddenDim = 256, colorDropping = false } = options;
  checkCount("relative-patch", "hiddenDim", hiddenDim);
  const head = mlpHead(2 * built.dim, [
    { units: hiddenDim, after: ["bn", "relu"] },
    { units: 8 },
  ], { name: "relative_patch_head" });
  const nets: RelativePatchNets = { encoder: built.encoder, head };
  const method: Method<RelativePatchNets, Record<string, never>> = {
    name: "relative-patch",
    views(images, seed) {
      return tf.tidy(() => {
        const b = images.shape[0];
        const tiles = gridTiles(images, seed, tileSize ? { tileSize } : {}); // [9B, t, t, C]
        const labels = randomLabels(b, 8, seed + 1);
        // label k -> position k (k < 4) or k + 1: the centre (4) is skipped
        const position = tf.add(labels, tf.cast(tf.greaterEqual(labels, 4), "int32"));
        const base = tf.range(0, 9 * b, 9, "int32"); // row of tile 0 of each image
        let centres = tf.gather(tiles, tf.add(base, tf.scalar(4, "int32")));
        let neighbours = tf.gather(tiles, tf.add(base, position));
        if (colorDropping) {
          centres = dropColors(centres, seed + 2);
          neighbours = dropColors(neighbours, seed + 3);
        }
        return [centres, neighbours, labelsAsView(labels)];
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
