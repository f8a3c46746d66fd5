import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { checkWidths } from "./_layers.ts";

/** Options for {@linkcode swavPrototypes}. */
export interface SwavPrototypesOptions {
  /** Number of prototypes K. @default {3000} (Caron et al. 2020, arXiv:2006.09882) */
  prototypes?: number;
  /** Seed of the initial prototypes. @default {0} */
  seed?: number;
  /** Model name. @default {"prototypes"} */
  name?: string;
}

/**
 * SwAV's prototypes C: a Dense layer without bias, `[B, d] -> [B, K]`, whose kernel `[d, K]` has
 * unit-norm columns (one prototype per column). Scores are `z C` for L2-normalized `z`, so they
 * are cosine similarities. Keep the columns normalized after every update with
 * {@linkcode normalizePrototypes}.
 *
 * @param inputDim embedding size d
 * @param options number of prototypes, seed
 * @returns the layer as a `tf.LayersModel`
 *
 * @example
 * ```ts
 * import { swavPrototypes } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const c = swavPrototypes(4, { prototypes: 10 });
 * const norms = tf.sqrt(tf.sum(tf.square(c.getWeights()[0]), 0)).dataSync();
 * assert.ok(norms.every((n) => Math.abs(n - 1) < 1e-5));
 * ```
 */
export function swavPrototypes(
  inputDim: number,
  options: SwavPrototypesOptions = {},
): tfl.LayersModel {
  const { prototypes = 3000, seed = 0, name = "prototypes" } = options;
  checkWidths("swavPrototypes", [inputDim, prototypes]);
  const input = tfl.input({ shape: [inputDim] });
  const out = tfl.layers.dense({
    units: prototypes,
    useBias: false,
    kernelInitializer: tfl.initializers.randomNormal({ stddev: 1, seed }),
  }).apply(input) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out, name });
  normalizePrototypes(model);
  return model;
}

/**
 * Re-normalizes the prototypes (each kernel column to unit L2 norm) in place, as SwAV does after
 * every optimizer step.
 *
 * @param prototypes a model made by {@linkcode swavPrototypes}
 *
 * @example
 * ```ts
 * import { normalizePrototypes, swavPrototypes } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const c = swavPrototypes(3, { prototypes: 5 });
 * c.setWeights([tf.ones([3, 5])]);
 * normalizePrototypes(c);
 * assert.ok(Math.abs(c.getWeights()[0].dataSync()[0] - 1 / Math.sqrt(3)) < 1e-6);
 * ```
 */
export function normalizePrototypes(prototypes: tfl.LayersModel): void {
  const kernel = prototypes.trainableWeights[0];
  if (!kernel || kernel.shape.length !== 2) {
    throw new TypeError(
      `Cannot normalize prototypes: expected a model with one [d, K] kernel, received ${prototypes.name}`,
    );
  }
  const next = tf.tidy(() => {
    const w = kernel.read();
    return tf.div(w, tf.maximum(tf.sqrt(tf.sum(tf.square(w), 0, true)), 1e-12));
  });
  kernel.write(next);
  next.dispose();
}
