import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { mlpHead } from "../models/mod.ts";
import { buildEncoder, checkCount, tidyStep, variablesOf, zStd } from "./_common.ts";
import { classification, labelsAsView, labelsOfView, randomLabels } from "./pretext/classify.ts";
import { hammingPermutations } from "./pretext/hamming_permutations.ts";
import { gridTiles } from "./pretext/tiles.ts";
import type { BaseMethodOptions, Method, MethodSetup } from "./types.ts";

/** Options for {@linkcode jigsaw}. `augment` is not used: the shuffled tiles are the view. */
export interface JigsawOptions extends BaseMethodOptions {
  /** Number of permutations (classes), chosen for maximal Hamming distance. @default {100} */
  permutations?: number;
  /**
   * How the permutation set is chosen ({@linkcode hammingPermutations}): `maximal` average
   * Hamming distance (Algorithm 1), its `minimal` / `average` ablations, or `maxmin`.
   * @default {"maximal"} (Noroozi & Favaro 2016)
   */
  selection?: "maximal" | "minimal" | "average" | "maxmin";
  /**
   * Normalize each tile to zero mean and unit standard deviation over its pixels and channels
   * (`(x - mean) / sqrt(var + 1e-5)`), so that tiles cannot be matched by their brightness.
   * @default {true} (Noroozi & Favaro 2016, Sec. 3.4: "the mean and the standard deviation of
   * each patch independently")
   */
  normalizeTiles?: boolean;
  /** Side of each tile in pixels. @default {see gridTiles: 64/75 of a cell} */
  tileSize?: number;
  /** Units of each tile's own (unshared) fully connected layer. @default {64} */
  tileUnits?: number;
  /** Hidden units of the MLP on the concatenated tile features. @default {256} */
  hiddenDim?: number;
}

/** The jigsaw task's networks. */
export interface JigsawNets {
  /** The shared encoder, applied to every tile; used downstream. */
  encoder: tfl.LayersModel;
  /** Nine inputs `[B, D]` (one per position), each through its own Dense, concatenated, MLP. */
  head: tfl.LayersModel;
}

/** The jigsaw task has no state between steps. */
export type JigsawState = Record<string, never>;

/** The jigsaw method, with its permutation set (class k is `permutations[k]`). */
export type JigsawMethod = Method<JigsawNets, JigsawState> & {
  /** The permutations, one per class: position p shows tile `permutations[k][p]`. */
  readonly permutations: number[][];
  /** Their minimum pairwise Hamming distance. */
  readonly minDistance: number;
  /** Their average pairwise Hamming distance. */
  readonly meanDistance: number;
};

/**
 * Jigsaw puzzles (Noroozi & Favaro 2016, arXiv:1603.09246): 3x3 tiles from a random square crop
 * (with gaps and jitter), each normalized to zero mean and unit std, shuffled by one permutation
 * of a set chosen for maximal average Hamming distance ({@linkcode hammingPermutations}'s
 * Algorithm 1, 100 by default); every tile through the shared
 * encoder, each tile's features through its own unshared fully connected layer (as our source
 * describes), concatenated, and an MLP predicting the permutation's index. The views are the
 * shuffled tiles `[9B, t, t, C]` (tile at position p of puzzle b in row `9b + p`) and the labels
 * `[B, 1, 1, 1]`, both made in tensors from the seed. Metrics: `top1` (chance 1/P), `zStd`.
 *
 * @param options encoder, input shape, seed, permutations, selection, normalizeTiles, tileSize,
 * tileUnits, hiddenDim
 * @returns the method (with its permutation set), its nets and (empty) state
 *
 * @example
 * ```ts
 * import { jigsaw } from "./jigsaw.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { method, nets, state } = jigsaw({
 *   encoder: "convnet", inputShape: [12, 12, 1], seed: 0, widths: [4], permutations: 4,
 *   tileUnits: 4, hiddenDim: 8,
 * });
 * const views = method.views(tf.randomUniform([2, 12, 12, 1]) as tf.Tensor4D, 0);
 * assert.deepEqual(views[0].shape.slice(0, 1), [18]);
 * const { loss } = method.step(nets, views, state, { progress: 0, step: 0, epoch: 0 });
 * assert.ok(loss.dataSync()[0] > 0);
 * ```
 */
export function jigsaw(
  options: JigsawOptions,
): MethodSetup<JigsawNets, JigsawState> & { method: JigsawMethod } {
  const built = buildEncoder(options, true);
  if (built.sequence) {
    throw new TypeError(
      "Cannot build jigsaw: expected an encoder with [B, D] output, received [B, L, D]",
    );
  }
  const {
    permutations: count = 100,
    selection = "maximal",
    normalizeTiles = true,
    tileSize,
    tileUnits = 64,
    hiddenDim = 256,
    seed,
  } = options;
  checkCount("jigsaw", "permutations", count);
  checkCount("jigsaw", "tileUnits", tileUnits);
  checkCount("jigsaw", "hiddenDim", hiddenDim);
  const set = hammingPermutations(count, { seed, selection });
  const tiles = 9;
  const inputs = Array.from({ length: tiles }, () => tfl.input({ shape: [built.dim] }));
  const perTile = inputs.map((x, p) =>
    tfl.layers.dense({ units: tileUnits, activation: "relu", name: `jigsaw_tile_fc_${p}` })
      .apply(x) as tfl.SymbolicTensor
  );
  const joined = tfl.layers.concatenate().apply(perTile) as tfl.SymbolicTensor;
  const mlp = mlpHead(tiles * tileUnits, [
    { units: hiddenDim, after: ["bn", "relu"] },
    { units: count },
  ], { name: "jigsaw_mlp" });
  const head = tfl.model({
    inputs,
    outputs: mlp.apply(joined) as tfl.SymbolicTensor,
    name: "jigsaw_head",
  });
  const nets: JigsawNets = { encoder: built.encoder, head };
  const permTable = set.permutations.flat();
  const method: JigsawMethod = {
    name: "jigsaw",
    permutations: set.permutations,
    minDistance: set.minDistance,
    meanDistance: set.meanDistance,
    views(images, viewSeed) {
      return tf.tidy(() => {
        const b = images.shape[0];
        let all = gridTiles(images, viewSeed, tileSize ? { tileSize } : {}); // [9B, t, t, C]
        if (normalizeTiles) {
          const { mean, variance } = tf.moments(all, [1, 2, 3], true);
          all = tf.div(tf.sub(all, mean), tf.sqrt(tf.add(variance, 1e-5)));
        }
        const labels = randomLabels(b, count, viewSeed + 1);
        const perms = tf.gather(tf.tensor2d(permTable, [count, tiles], "int32"), labels); // [B, 9]
        // position p of puzzle b shows tile perms[b, p] of image b
        const source = tf.add(perms, tf.reshape(tf.range(0, b * tiles, tiles, "int32"), [b, 1]));
        return [tf.gather(all, tf.reshape(source, [-1])), labelsAsView(labels)];
      });
    },
    step(nets, views, state) {
      return tidyStep(() => {
        const [shuffled, labelView] = views;
        const b = labelView.shape[0];
        const features = nets.encoder.apply(shuffled, { training: true }) as tf.Tensor2D; // [9B, D]
        const byPosition = tf.unstack(tf.reshape(features, [b, tiles, -1]), 1); // 9 x [B, D]
        const logits = nets.head.apply(byPosition, { training: true }) as tf.Tensor2D;
        const { loss, accuracy } = classification(logits, labelsOfView(labelView));
        return { loss, metrics: { top1: accuracy, zStd: zStd(features) }, state };
      });
    },
    trainable: (nets) => variablesOf([nets.encoder, nets.head]),
  };
  return { method, nets, state: {}, encoder: built.encoder };
}
