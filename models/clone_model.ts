import * as tfl from "@tensorflow/tfjs-layers";

/** Options for {@linkcode cloneModel}. */
export interface CloneModelOptions {
  /**
   * Give every BatchNorm of the clone a momentum of 1, so forward passes in training mode still
   * normalize with batch statistics but never change the moving statistics: a momentum (EMA)
   * encoder's statistics then follow only the momentum update.
   * @default {false}
   */
  freezeBatchNormStatistics?: boolean;
}

/**
 * A new functional model with the same architecture and a copy of every weight (moving
 * statistics included): the key encoder of MoCo, the target network of BYOL.
 *
 * @param model a functional `tf.LayersModel`
 * @param options whether the clone's BatchNorm statistics are frozen
 * @returns the clone; its variables are new (`model`'s are not shared)
 *
 * @example
 * ```ts
 * import { cloneModel, mlpHead } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const a = mlpHead(4, [{ units: 2, after: ["bn"] }]);
 * const b = cloneModel(a);
 * assert.deepEqual(b.getWeights()[0].dataSync(), a.getWeights()[0].dataSync());
 * assert.notEqual(b.weights[0], a.weights[0]);
 * ```
 */
export function cloneModel(
  model: tfl.LayersModel,
  options: CloneModelOptions = {},
): tfl.LayersModel {
  const { freezeBatchNormStatistics = false } = options;
  if (!(model instanceof tfl.LayersModel)) {
    throw new TypeError(`Cannot clone: expected a tf.LayersModel, received ${String(model)}`);
  }
  const config = structuredClone(model.getConfig()) as unknown as {
    layers: { className?: string; class_name?: string; config: Record<string, unknown> }[];
  };
  if (freezeBatchNormStatistics) {
    for (const layer of config.layers) {
      const cls = layer.className ?? layer.class_name;
      if (cls === "BatchNormalization") layer.config.momentum = 1;
    }
  }
  const fromConfig = (tfl.LayersModel as unknown as {
    fromConfig(cls: unknown, config: unknown): tfl.LayersModel;
  }).fromConfig;
  const clone = fromConfig(tfl.LayersModel, config);
  const weights = model.getWeights();
  clone.setWeights(weights);
  return clone;
}
