import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { mlpHead } from "../models/mod.ts";
import { buildEncoder, variablesOf, zStd } from "./_common.ts";
import { classification } from "./pretext/classify.ts";
import { rotate90 } from "./pretext/tiles.ts";
import type { BaseMethodOptions, Method, MethodSetup } from "./types.ts";

/** Options for {@linkcode rotation}. `augment` is not used: the rotations are the views. */
export interface RotationOptions extends BaseMethodOptions {
  /**
   * Hidden units of the head (0: a linear classifier on the features).
   * @default {0}
   */
  hiddenDim?: number;
}

/** The rotation task's networks. */
export interface RotationNets {
  /** The encoder used downstream. */
  encoder: tfl.LayersModel;
  /** Features to 4 logits (0, 90, 180, 270 degrees). */
  head: tfl.LayersModel;
}

/**
 * Rotation prediction (Gidaris et al. 2018, arXiv:1803.07728): every image of the batch at 0,
 * 90, 180 and 270 degrees (counter-clockwise) in the same batch, and a 4-way classifier on the
 * encoder's features. The view is the `[4B, H, W, C]` stack of the four rotations, so the label
 * of row `i` is `floor(i / B)`, made in tensors. Images must be square. Metrics: `top1` (chance
 * 0.25) and `zStd` of the features.
 *
 * @param options encoder, input shape, seed, hiddenDim
 * @returns the method, its nets and (empty) state
 * @throws {TypeError} for non-square images
 *
 * @example
 * ```ts
 * import { rotation } from "./rotation.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { method, nets, state } = rotation({
 *   encoder: "convnet", inputShape: [8, 8, 1], seed: 0, widths: [4],
 * });
 * const views = method.views(tf.randomUniform([2, 8, 8, 1]) as tf.Tensor4D, 0);
 * assert.deepEqual(views[0].shape, [8, 8, 8, 1]);
 * const { loss } = method.step(nets, views, state, { progress: 0, step: 0, epoch: 0 });
 * assert.ok(loss.dataSync()[0] > 0);
 * ```
 */
export function rotation(
  options: RotationOptions,
): MethodSetup<RotationNets, Record<string, never>> {
  const built = buildEncoder(options);
  const [h, w] = options.inputShape;
  if (h !== w || built.sequence) {
    throw new TypeError(
      `Cannot build rotation: expected square images and a [B, D] encoder, received inputShape [${options.inputShape}]`,
    );
  }
  const { hiddenDim = 0 } = options;
  const head = mlpHead(
    built.dim,
    hiddenDim > 0 ? [{ units: hiddenDim, after: ["bn", "relu"] }, { units: 4 }] : [{ units: 4 }],
    { name: "rotation_head" },
  );
  const nets: RotationNets = { encoder: built.encoder, head };
  const method: Method<RotationNets, Record<string, never>> = {
    name: "rotation",
    views(images) {
      return tf.tidy(() => [tf.concat([0, 1, 2, 3].map((k) => rotate90(images, k)), 0)]);
    },
    step(nets, views, state) {
      return tf.tidy(() => {
        const x = views[0];
        const b = x.shape[0] / 4;
        const labels = tf.floorDiv(tf.range(0, 4 * b, 1, "int32"), tf.scalar(b, "int32")); // [4B]
        const features = nets.encoder.apply(x, { training: true }) as tf.Tensor2D;
        const logits = nets.head.apply(features, { training: true }) as tf.Tensor2D;
        const { loss, accuracy } = classification(logits, labels as tf.Tensor1D);
        return { loss, metrics: { top1: accuracy, zStd: zStd(features) }, state };
      });
    },
    trainable: (nets) => variablesOf([nets.encoder, nets.head]),
  };
  return { method, nets, state: {}, encoder: built.encoder };
}
