import { tf } from "../backend/tf.ts";
import type * as tfl from "@tensorflow/tfjs-layers";
import { mlpHead } from "../models/mlp_head.ts";
import { pcg32 } from "../data/prng.ts";
import {
  batchLoss,
  type EvalMetrics,
  fitLoop,
  type FitOptions,
  headLogits,
  type LabeledFeatures,
  scoreOutputs,
  toTargets,
  trainableVariables,
} from "./_supervised.ts";

/** Options for the probes (`linearProbe`, `mlpProbe`). */
export interface ProbeOptions extends FitOptions {
  /**
   * Output classes: C for classification; for `[N, L, D]` features the charset size C, and the
   * head emits C + 1 scores (blank last).
   * @default max label + 1
   */
  numClasses?: number;
  /**
   * Learning rate. `[0]` our source: AdamW 3e-4 for the head.
   * @default 3e-4
   */
  lr?: number;
  /**
   * Epochs over the labeled features. `[0]` our source.
   * @default 10
   */
  epochs?: number;
  /**
   * Samples per step. `[0]` our source.
   * @default 8
   */
  batchSize?: number;
}

/** What a probe returns. */
export interface ProbeResult {
  /** The trained head (owned by the caller). */
  head: tfl.LayersModel;
  /** Mean training loss per epoch. */
  losses: number[];
  /** Metrics on the test features: top-1 accuracy, or sequence accuracy and CER. */
  metrics: EvalMetrics;
  /** `metrics.accuracy`. */
  accuracy: number;
}

/** Trains a fresh head of the given hidden layers on frozen features and scores it. */
export async function probe(
  train: LabeledFeatures,
  test: LabeledFeatures,
  hidden: number[],
  options: ProbeOptions,
  what: string,
): Promise<ProbeResult> {
  const { lr = 3e-4, epochs = 10, batchSize = 8, blank } = options;
  for (const [name, set] of [["train", train], ["test", test]] as const) {
    if (
      !(set.features instanceof tf.Tensor) || (set.features.rank !== 2 && set.features.rank !== 3)
    ) {
      throw new TypeError(`Cannot ${what}: ${name} features must be [N, D] or [N, L, D] tensors`);
    }
  }
  const n = train.features.shape[0];
  const d = train.features.shape[train.features.rank - 1] as number;
  if (
    test.features.shape[test.features.rank - 1] !== d || test.features.rank !== train.features.rank
  ) {
    throw new TypeError(
      `Cannot ${what}: train and test features must agree, received [${train.features.shape}] and [${test.features.shape}]`,
    );
  }
  const targets = toTargets(train.labels, n, what);
  const testTargets = toTargets(test.labels, test.features.shape[0], what);
  if (
    (targets.kind === "ctc") !== (train.features.rank === 3) || targets.kind !== testTargets.kind
  ) {
    throw new TypeError(
      `Cannot ${what}: [N, D] features need class labels and [N, L, D] features label sequences`,
    );
  }
  const maxLabel = Math.max(
    -1,
    ...(targets.kind === "class" ? targets.values : targets.values.flat()),
    ...(testTargets.kind === "class" ? testTargets.values : testTargets.values.flat()),
  );
  const { numClasses = maxLabel + 1 } = options;
  if (!Number.isInteger(numClasses) || numClasses <= maxLabel) {
    throw new RangeError(
      `Cannot ${what}: numClasses must be an integer above the largest label ${maxLabel}, received ${numClasses}`,
    );
  }
  const outputs = targets.kind === "ctc" ? numClasses + 1 : numClasses;
  const head = mlpHead(
    d,
    [...hidden.map((units) => ({ units, after: ["relu" as const] })), { units: outputs }],
    { name: what.replace(/\W+/g, "_") },
  );
  seedHead(head, options.seed ?? 0);
  const rowsOf = (x: tf.Tensor, order: Int32Array, start: number, end: number) =>
    tf.gather(x, tf.tensor1d(order.subarray(start, end), "int32"));
  try {
    const losses = await fitLoop(
      n,
      trainableVariables(head),
      (order, start, end) =>
        tf.tidy(() =>
          batchLoss(
            headLogits(head, rowsOf(train.features, order, start, end), true),
            targets,
            order.subarray(start, end),
            blank,
          )
        ),
      { ...options, lr, epochs, batchSize },
      what,
    );
    const metrics = scoreOutputs(
      test.features.shape[0],
      testTargets,
      (order, start, end) =>
        tf.tidy(() => headLogits(head, rowsOf(test.features, order, start, end), false)),
      256,
      blank,
    );
    return { head, losses, metrics, accuracy: metrics.accuracy };
  } catch (e) {
    head.dispose();
    throw e;
  }
}

/** Re-initializes a head from a seed (Glorot-uniform kernels, zero biases), so probes repeat. */
function seedHead(head: tfl.LayersModel, seed: number): void {
  const prng = pcg32(seed ^ 0x5eed);
  const fresh = head.getWeights().map((w) => {
    if (w.rank !== 2) return tf.zerosLike(w);
    const [fanIn, fanOut] = w.shape as [number, number];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return tf.tensor2d(
      Float32Array.from({ length: fanIn * fanOut }, () => (2 * prng() - 1) * limit),
      [fanIn, fanOut],
    );
  });
  head.setWeights(fresh);
  tf.dispose(fresh);
}
