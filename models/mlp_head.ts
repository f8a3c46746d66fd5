import * as tfl from "@tensorflow/tfjs-layers";
import { apply, BN_MOMENTUM, checkWidths, type Sym } from "./_layers.ts";

/** One layer of an {@linkcode mlpHead}: a Dense layer and what follows it, in order. */
export interface MlpLayerSpec {
  /** Output units. */
  units: number;
  /** Dense bias. @default {true} */
  useBias?: boolean;
  /** L2 weight penalty on the kernel (Keras `l2(x)`: x * sum(w^2)); 0 for none. @default {0} */
  l2?: number;
  /**
   * What follows the Dense layer, in order: `"bn"` (BatchNorm), `"bn-nonaffine"` (BatchNorm
   * without scale and shift), `"relu"`, `"leaky"` (LeakyReLU with slope `leakyAlpha`).
   * @default {[]}
   */
  after?: ("bn" | "bn-nonaffine" | "relu" | "leaky")[];
}

/** Options for {@linkcode mlpHead}. */
export interface MlpHeadOptions {
  /** LeakyReLU slope. @default {0.18} (the source's heads) */
  leakyAlpha?: number;
  /** BatchNorm momentum (Keras convention). @default {0.9} */
  batchNormMomentum?: number;
  /** Model name. @default {"head"} */
  name?: string;
}

/**
 * A projection/prediction head as a functional `tf.LayersModel` from `[B, inputDim]` to
 * `[B, layers.at(-1).units]`, built from a list of Dense layers and what follows each. Every
 * named head in this folder is one of these. To apply a head per frame to `[B, L, D]` features
 * use {@linkcode applyHead}.
 *
 * @param inputDim feature size D of the input
 * @param layers the Dense layers, first to last
 * @param options LeakyReLU slope, BatchNorm momentum, name
 * @returns the head
 *
 * @example
 * ```ts
 * import { mlpHead } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const head = mlpHead(8, [{ units: 16, after: ["bn", "relu"] }, { units: 4 }]);
 * assert.deepEqual((head.predict(tf.ones([3, 8])) as tf.Tensor).shape, [3, 4]);
 * ```
 */
export function mlpHead(
  inputDim: number,
  layers: MlpLayerSpec[],
  options: MlpHeadOptions = {},
): tfl.LayersModel {
  const { leakyAlpha = 0.18, batchNormMomentum: momentum = BN_MOMENTUM, name = "head" } = options;
  checkWidths("a head (inputDim)", [inputDim]);
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new TypeError(
      `Cannot build a head: layers must be a non-empty array, received ${JSON.stringify(layers)}`,
    );
  }
  checkWidths("a head (units)", layers.map((l) => l.units));
  const input = tfl.input({ shape: [inputDim] });
  let x: Sym = input;
  for (const spec of layers) {
    const { units, useBias = true, l2 = 0, after = [] } = spec;
    x = apply(
      tfl.layers.dense({
        units,
        useBias,
        kernelRegularizer: l2 > 0 ? tfl.regularizers.l2({ l2 }) : undefined,
      }),
      x,
    );
    for (const a of after) {
      if (a === "bn" || a === "bn-nonaffine") {
        // Non-affine: gamma = 1 and beta = 0 held fixed (trainable false), since tfjs-layers'
        // BatchNormalization reads gamma/beta in training mode even with scale/center off.
        x = apply(
          tfl.layers.batchNormalization({ momentum, epsilon: 1e-5, trainable: a === "bn" }),
          x,
        );
      } else if (a === "relu") x = apply(tfl.layers.reLU(), x);
      else if (a === "leaky") x = apply(tfl.layers.leakyReLU({ alpha: leakyAlpha }), x);
      else {
        throw new TypeError(
          `Cannot build a head: unknown layer "${a}", expected bn, bn-nonaffine, relu or leaky`,
        );
      }
    }
  }
  return tfl.model({ inputs: input, outputs: x, name });
}
