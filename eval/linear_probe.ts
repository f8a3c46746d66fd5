import { probe, type ProbeOptions, type ProbeResult } from "./_probe.ts";
import type { LabeledFeatures } from "./_supervised.ts";

export type { ProbeOptions, ProbeResult } from "./_probe.ts";
export type { EvalMetrics, FitOptions, LabeledFeatures, Labels } from "./_supervised.ts";

/**
 * Linear probe: a single Dense layer trained on frozen features (extract them with
 * {@linkcode extractFeatures}, which runs the backbone in inference mode, so its BatchNorm
 * statistics stay frozen), then scored on test features. `[N, D]` features with class labels
 * train a softmax classifier (top-1 accuracy); `[N, L, D]` frame features with label sequences
 * train a per-frame CTC head (sequence accuracy and CER by greedy decoding).
 *
 * @param train labeled training features
 * @param test labeled test features
 * @returns the head, the loss per epoch and the test metrics
 *
 * @example
 * ```ts
 * import { linearProbe } from "./linear_probe.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const features = tf.tensor2d([[1, 0], [0, 1], [2, 0], [0, 2]]);
 * const data = { features, labels: [0, 1, 0, 1] };
 * const { accuracy, head } = await linearProbe(data, data, { lr: 0.1, epochs: 20, batchSize: 2 });
 * assert.equal(accuracy, 1);
 * head.dispose();
 * ```
 */
export async function linearProbe(
  train: LabeledFeatures,
  test: LabeledFeatures,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  return await probe(train, test, [], options, "train a linear probe");
}
