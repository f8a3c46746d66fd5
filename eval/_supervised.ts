/**
 * The supervised machinery behind the probes, fine-tuning and the supervised baseline: labeled
 * inputs in memory, a small epoch loop over AdamW/SGD from `train/`, losses and metrics for
 * classification (logits `[B, C]`) and CTC recognition (logits `[B, T, C + 1]`).
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import type * as tfl from "@tensorflow/tfjs-layers";
import { pcg32 } from "../data/prng.ts";
import { adamw } from "../train/adamw.ts";
import { sgd } from "../train/sgd.ts";
import type { Optimizer } from "../train/optimizer.ts";
import { applyHead } from "../models/apply_head.ts";
import type { EvalDataset } from "./_types.ts";
import { type ClassLabels, toLabelArray } from "./_labels.ts";
import { type CtcTargets, raggedTargets } from "./_ctc_targets.ts";
import { ctcLoss } from "./ctc_loss.ts";
import { ctcGreedyDecode } from "./ctc_greedy_decode.ts";
import { sequenceAccuracy } from "./sequence_accuracy.ts";
import { characterErrorRate } from "./character_error_rate.ts";

/** Labels: class indices `[N]`, or label sequences for CTC. */
export type Labels = ClassLabels | CtcTargets;

/** Labeled images: a float tensor `[N, H, W, C]` with labels, or a dataset carrying them. */
export type LabeledImages = { images: tf.Tensor4D; labels: Labels } | EvalDataset;

/** Labeled frozen features: `[N, D]` (classification) or `[N, L, D]` (CTC per frame). */
export interface LabeledFeatures {
  /** Features from `extractFeatures`. */
  features: tf.Tensor;
  /** Class indices `[N]` for `[N, D]` features, label sequences for `[N, L, D]`. */
  labels: Labels;
}

/** Metrics of a classifier or recognizer on a labeled set. */
export interface EvalMetrics {
  /** Top-1 accuracy (classification) or sequence accuracy (recognition), in [0, 1]. */
  accuracy: number;
  /** Character error rate, for recognition only. */
  cer?: number;
  /** Number of evaluated samples. */
  count: number;
}

/** Options of the supervised loop shared by probes, fine-tuning and the baseline. */
export interface FitOptions {
  /**
   * `"adamw"` (decoupled weight decay, as the source's "ADW") or `"sgd"` (momentum 0.9).
   * @default "adamw"
   */
  optimizer?: "adamw" | "sgd";
  /** Learning rate (constant). */
  lr?: number;
  /** Passes over the labeled set. */
  epochs?: number;
  /** Samples per step. */
  batchSize?: number;
  /**
   * Weight decay (decoupled for adamw), never on biases or normalization parameters.
   * @default 0.01 for adamw, 0 for sgd
   */
  weightDecay?: number;
  /**
   * Seed of the shuffling order.
   * @default 0
   */
  seed?: number;
  /**
   * Index of the CTC blank among the head's outputs.
   * @default the last output
   */
  blank?: number;
  /** Called after each epoch with its mean training loss. */
  onEpoch?: (epoch: number, loss: number) => void;
}

/** Normalized labels. */
export type Targets = { kind: "class"; values: Int32Array } | { kind: "ctc"; values: number[][] };

/** Reads labels into class indices or label sequences. */
export function toTargets(labels: Labels, n: number, what: string): Targets {
  const isSeq = Array.isArray(labels) && labels.length > 0 && Array.isArray(labels[0]) ||
    (typeof labels === "object" && labels !== null && "lengths" in labels);
  if (isSeq) return { kind: "ctc", values: raggedTargets(labels as CtcTargets, n, what) };
  const values = toLabelArray(labels as ClassLabels, what);
  if (values.length !== n) {
    throw new TypeError(`Cannot ${what}: expected ${n} labels, received ${values.length}`);
  }
  return { kind: "class", values };
}

/** Labeled images held in memory: float input or uint8 bytes. */
export interface ImageSet {
  n: number;
  targets: Targets;
  /** Rows `[start, end)` of `order` as an input batch (owned by the caller). */
  batch(order: Int32Array, start: number, end: number): tf.Tensor4D;
}

/** Turns labeled images (a tensor or a dataset) into an in-memory set. */
export async function toImageSet(
  data: LabeledImages,
  preprocess: (x: tf.Tensor4D) => tf.Tensor4D,
  what: string,
): Promise<ImageSet> {
  if ("images" in data) {
    const { images, labels } = data;
    if (!(images instanceof tf.Tensor) || images.rank !== 4) {
      throw new TypeError(`Cannot ${what}: images must be a [N, H, W, C] tensor`);
    }
    const n = images.shape[0];
    return {
      n,
      targets: toTargets(labels, n, what),
      batch: (order, start, end) =>
        tf.tidy(() => tf.gather(images, tf.tensor1d(order.subarray(start, end), "int32"))),
    };
  }
  const [h, w, c] = data.shape;
  const size = h * w * c;
  const bytes = new Uint8Array(data.length * size);
  const classes = new Int32Array(data.length);
  const seqs: number[][] = [];
  const charset = data.charset === undefined ? undefined : Array.from(data.charset);
  const index = new Map(charset?.map((ch, i) => [ch, i]));
  for (let i = 0; i < data.length; i++) {
    const s = await data.get(i);
    if (s.image.length !== size) {
      throw new TypeError(
        `Cannot ${what}: sample ${i} must have ${size} bytes, received ${s.image.length}`,
      );
    }
    bytes.set(s.image, i * size);
    if (s.text !== undefined && charset) {
      seqs.push(Array.from(s.text, (ch) => {
        const k = index.get(ch);
        if (k === undefined) {
          throw new RangeError(
            `Cannot ${what}: character ${JSON.stringify(ch)} of sample ${i} is not in the charset`,
          );
        }
        return k;
      }));
    } else if (s.label !== undefined) {
      classes[i] = s.label;
    } else {
      throw new TypeError(
        `Cannot ${what}: sample ${i} has neither a label nor a text with a charset`,
      );
    }
  }
  return {
    n: data.length,
    targets: seqs.length === data.length ? { kind: "ctc", values: seqs } : {
      kind: "class",
      values: classes,
    },
    batch: (order, start, end) =>
      tf.tidy(() => {
        const m = end - start;
        const buf = new Uint8Array(m * size);
        for (let r = 0; r < m; r++) {
          buf.set(bytes.subarray(order[start + r] * size, (order[start + r] + 1) * size), r * size);
        }
        return preprocess(tf.tensor4d(buf, [m, h, w, c], "int32"));
      }),
  };
}

/** The variables of some LayersModels that the optimizer should update. */
export function trainableVariables(...models: tfl.LayersModel[]): tf.Variable[] {
  return models.flatMap((m) => m.trainableWeights.map((w) => w.read() as tf.Variable));
}

/** Loss of a batch of logits against targets rows `[start, end)` of `order`. */
export function batchLoss(
  logits: tf.Tensor,
  targets: Targets,
  rows: Int32Array,
  blank: number | undefined,
): tf.Scalar {
  if (targets.kind === "ctc") {
    if (logits.rank !== 3) {
      throw new TypeError(
        `Cannot train a recognizer: expected logits [B, T, C + 1], received [${logits.shape}]`,
      );
    }
    const labels = Array.from(rows, (r) => targets.values[r]);
    // an unalignable line contributes nothing instead of an infinite loss
    return ctcLoss(logits as tf.Tensor3D, labels, { blank, zeroInfinity: true }) as tf.Scalar;
  }
  if (logits.rank !== 2) {
    throw new TypeError(
      `Cannot train a classifier: expected logits [B, C], received [${logits.shape}]`,
    );
  }
  return tf.tidy(() => {
    const y = tf.oneHot(
      tf.tensor1d(Array.from(rows, (r) => targets.values[r]), "int32"),
      logits.shape[1] as number,
    );
    return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}

/** Mini-batch training: shuffles each epoch, steps the optimizer, returns per-epoch mean loss. */
export async function fitLoop(
  n: number,
  variables: tf.Variable[],
  lossOf: (order: Int32Array, start: number, end: number) => tf.Scalar,
  options: FitOptions & { lr: number; epochs: number; batchSize: number },
  what: string,
): Promise<number[]> {
  const { optimizer = "adamw", lr, epochs, batchSize, seed = 0, onEpoch } = options;
  const weightDecay = options.weightDecay ?? (optimizer === "adamw" ? 0.01 : 0);
  if (!(lr > 0)) throw new RangeError(`Cannot ${what}: lr must be positive, received ${lr}`);
  if (!Number.isInteger(epochs) || epochs < 0) {
    throw new RangeError(
      `Cannot ${what}: epochs must be a non-negative integer, received ${epochs}`,
    );
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `Cannot ${what}: batchSize must be a positive integer, received ${batchSize}`,
    );
  }
  if (optimizer !== "adamw" && optimizer !== "sgd") {
    throw new RangeError(
      `Cannot ${what}: optimizer must be "adamw" or "sgd", received ${optimizer}`,
    );
  }
  if (n < 1) {
    throw new RangeError(`Cannot ${what}: expected at least one labeled sample, received 0`);
  }
  const opt: Optimizer = optimizer === "adamw"
    ? adamw(variables, { weightDecay })
    : sgd(variables, { momentum: 0.9, weightDecay });
  const prng = pcg32(seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const losses: number[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(prng() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      let sum = 0, count = 0;
      for (let start = 0; start < n; start += batchSize) {
        const end = Math.min(n, start + batchSize);
        const { value, grads } = tf.variableGrads(() => lossOf(order, start, end), variables);
        opt.apply(variables.map((v) => grads[v.name] ?? null), lr);
        sum += (await value.data())[0] * (end - start);
        count += end - start;
        tf.dispose([value, ...Object.values(grads)]);
      }
      losses.push(sum / count);
      onEpoch?.(epoch, sum / count);
    }
  } finally {
    opt.dispose();
  }
  return losses;
}

/** Runs `forward` over a set in batches and scores it against its targets. */
export function scoreOutputs(
  n: number,
  targets: Targets,
  forward: (order: Int32Array, start: number, end: number) => tf.Tensor,
  batchSize: number,
  blank: number | undefined,
): EvalMetrics {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let correct = 0;
  const preds: number[][] = [];
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const logits = forward(order, start, end);
    if (targets.kind === "class") {
      const am = tf.argMax(logits, 1);
      const p = am.dataSync();
      for (let i = start; i < end; i++) if (p[i - start] === targets.values[i]) correct++;
      am.dispose();
    } else {
      preds.push(...ctcGreedyDecode(logits as tf.Tensor3D, { blank }));
    }
    logits.dispose();
  }
  if (targets.kind === "class") return { accuracy: n ? correct / n : 0, count: n };
  return {
    accuracy: sequenceAccuracy(preds, targets.values),
    cer: characterErrorRate(preds, targets.values),
    count: n,
  };
}

/** Applies a head to `[B, D]` or per frame to `[B, L, D]` features. */
export function headLogits(head: tfl.LayersModel, x: tf.Tensor, training: boolean): tf.Tensor {
  return applyHead(head, x as tf.Tensor2D | tf.Tensor3D, { training });
}
