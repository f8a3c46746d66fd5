import { probe, type ProbeOptions, type ProbeResult } from "./_probe.ts";
import type { LabeledFeatures } from "./_supervised.ts";

/** Options for {@linkcode mlpProbe}. */
export interface MlpProbeOptions extends ProbeOptions {
  /**
   * Units of the hidden Dense + ReLU layer.
   * @default 256
   */
  hiddenUnits?: number;
}

/**
 * MLP probe: two Dense layers (hidden + ReLU, then the output), our source's recognition head,
 * trained on frozen features with the backbone in inference mode (see
 * {@linkcode linearProbe} for the two tasks it handles), then scored on test features.
 *
 * @param train labeled training features
 * @param test labeled test features
 * @returns the head, the loss per epoch and the test metrics
 *
 * @example
 * ```ts
 * import { mlpProbe } from "./mlp_probe.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * // XOR is not linearly separable; two layers fit it
 * const features = tf.tensor2d([[0, 0], [0, 1], [1, 0], [1, 1]]);
 * const data = { features, labels: [0, 1, 1, 0] };
 * const r = await mlpProbe(data, data, { hiddenUnits: 16, lr: 0.05, epochs: 150, batchSize: 4 });
 * assert.equal(r.accuracy, 1);
 * r.head.dispose();
 * ```
 */
export async function mlpProbe(
  train: LabeledFeatures,
  test: LabeledFeatures,
  options: MlpProbeOptions = {},
): Promise<ProbeResult> {
  const { hiddenUnits = 256, ...rest } = options;
  if (!Number.isInteger(hiddenUnits) || hiddenUnits < 1) {
    throw new RangeError(
      `Cannot train an MLP probe: hiddenUnits must be a positive integer, received ${hiddenUnits}`,
    );
  }
  return await probe(train, test, [hiddenUnits], rest, "train an MLP probe");
}
