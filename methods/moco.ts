import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { pcg32, tfjsSeed } from "../data/prng.ts";
import { mocoAccuracy, mocoInfoNce } from "../losses/mod.ts";
import { stopGradient } from "../backend/stop_gradient.ts";
import {
  cloneModel,
  mocoV1Head,
  mocoV2Head,
  mocoV3Predictor,
  mocoV3Projector,
  sourcePredictor,
  sourceProjector,
} from "../models/mod.ts";
import {
  buildEncoder,
  checkCount,
  checkRange,
  checkViews,
  diagonalTop1,
  embed,
  headStyle,
  l2Normalize,
  paperViewBuilder,
  regularization,
  tidyStep,
  variablesOf,
  zStd,
} from "./_common.ts";
import { cosineMomentum, momentumUpdate } from "./momentum_update.ts";
import { enqueue } from "./queue.ts";
import type { BaseMethodOptions, Method, MethodSetup, Replicas } from "./types.ts";

/** Options for {@linkcode moco}. */
export interface MocoOptions extends BaseMethodOptions {
  /** MoCo version. @default {2} */
  version?: 1 | 2 | 3;
  /** Softmax temperature. @default {0.07 (v1), 0.2 (v2), 1.0 (v3, ResNet-50 recipe)} */
  temperature?: number;
  /**
   * Queue length K (negatives); a multiple of the number of keys per step. 0 for none (v3).
   * @default {65536 (v1, v2), 0 (v3)}
   */
  queueSize?: number;
  /**
   * Key encoder momentum m (v3: its value at the start of a cosine schedule to 1).
   * @default {0.999 (v1, v2), 0.99 (v3)}
   */
  momentum?: number;
  /**
   * Single-device substitute for shuffle-BN: the query batch runs through the encoder in this
   * many contiguous sub-batches and the key batch in as many sub-batches of a seeded
   * permutation, so a query and its key never share BatchNorm statistics (MoCo's guard against
   * the model cheating through batch statistics). 1 turns it off. Must divide the batch size.
   * @default {2 (v1, v2), 1 (v3, which uses ordinary BN)}
   */
  shuffleBnSplits?: number;
}

/** MoCo's networks: query encoder and heads, and their momentum copies. */
export interface MocoNets {
  /** The query encoder (the backbone used downstream). */
  encoder: tfl.LayersModel;
  /** The query projection head. */
  projector: tfl.LayersModel;
  /** v3 only. */
  predictor: tfl.LayersModel | null;
  /** The key encoder: a momentum copy of the query encoder. */
  keyEncoder: tfl.LayersModel;
  /** The key projection head: a momentum copy of the query head. */
  keyProjector: tfl.LayersModel;
}

/** MoCo's state: the queue of negatives and the keys of the last step, pushed in afterUpdate. */
export interface MocoState {
  /** Normalized keys of earlier batches, newest first, `[K, d]` (null without a queue). */
  queue: tf.Tensor2D | null;
  /** Keys of the last step, `[n, d]`, waiting to be enqueued. */
  keys: tf.Tensor2D | null;
}

const DEFAULTS = {
  1: { temperature: 0.07, queueSize: 65536, momentum: 0.999, splits: 2, dim: 128 },
  2: { temperature: 0.2, queueSize: 65536, momentum: 0.999, splits: 2, dim: 128 },
  3: { temperature: 1.0, queueSize: 0, momentum: 0.99, splits: 1, dim: 256 },
} as const;

/**
 * MoCo (He et al. 2019, arXiv:1911.05722; v2 arXiv:2003.04297; v3 arXiv:2104.02057): a query
 * encoder trained by gradient and a key encoder that follows it by momentum,
 * `key <- m key + (1 - m) query` for every weight and BatchNorm moving statistic (the key's own
 * forward passes never change its statistics). v1/v2 contrast each query with its key and a
 * fixed-length FIFO queue of earlier keys (pushed after the logits, in `afterUpdate`); v3 has no
 * queue, adds a predictor, uses the symmetric loss `ctr(q1, k2) + ctr(q2, k1)` with
 * `ctr = 2 tau CE` and a cosine momentum schedule from 0.99 to 1. Metrics: `zStd`, `top1`.
 *
 * @param options encoder, input shape, seed, version and its options
 * @returns the method, its nets and initial state (the queue: random unit rows)
 *
 * @example
 * ```ts
 * import { moco } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { method, nets, state } = moco({
 *   encoder: "convnet", inputShape: [8, 8, 1], seed: 1, widths: [4], projectionDim: 4, queueSize: 8,
 * });
 * const views = method.views(tf.randomUniform([4, 8, 8, 1]) as tf.Tensor4D, 0);
 * const out = method.step(nets, views, state, { progress: 0, step: 0, epoch: 0 });
 * const next = method.afterUpdate!(nets, out.state, { progress: 0, step: 0, epoch: 0 });
 * assert.deepEqual(next.queue!.shape, [8, 4]);
 * ```
 */
export function moco(options: MocoOptions): MethodSetup<MocoNets, MocoState> {
  const { version = 2 } = options;
  if (version !== 1 && version !== 2 && version !== 3) {
    throw new RangeError(`Cannot build moco: version must be 1, 2 or 3, received ${version}`);
  }
  const d = DEFAULTS[version];
  const where = `moco-v${version}`;
  const built = buildEncoder(options);
  const style = headStyle(options, built.sequence);
  const {
    temperature = d.temperature,
    queueSize = d.queueSize,
    momentum = d.momentum,
    shuffleBnSplits = d.splits,
    projectionDim = style === "source" ? 128 : d.dim,
    seed,
  } = options;
  checkRange(where, "temperature", temperature, 0, Infinity, true);
  checkRange(where, "momentum", momentum, 0, 1);
  checkCount(where, "queueSize", queueSize, true);
  checkCount(where, "shuffleBnSplits", shuffleBnSplits);
  if (version < 3 && queueSize === 0) {
    throw new RangeError(`Cannot build ${where}: queueSize must be positive for v1/v2, received 0`);
  }
  let projector: tfl.LayersModel;
  let predictor: tfl.LayersModel | null = null;
  if (style === "source") {
    projector = sourceProjector(built.dim, { projectionDim });
    if (version === 3) {
      predictor = sourcePredictor(projectionDim, { projectionDim, hiddenDim: options.hiddenDim });
    }
  } else if (version === 1) {
    projector = mocoV1Head(built.dim, { projectionDim });
  } else if (version === 2) {
    projector = mocoV2Head(built.dim, { projectionDim, hiddenDim: options.hiddenDim });
  } else {
    projector = mocoV3Projector(built.dim, { projectionDim, hiddenDim: options.hiddenDim });
    predictor = mocoV3Predictor(projectionDim, { projectionDim, hiddenDim: options.hiddenDim });
  }
  const nets: MocoNets = {
    encoder: built.encoder,
    projector,
    predictor,
    keyEncoder: cloneModel(built.encoder, { freezeBatchNormStatistics: true }),
    keyProjector: cloneModel(projector, { freezeBatchNormStatistics: true }),
  };
  const state: MocoState = {
    queue: queueSize > 0
      ? tf.tidy(() => {
        // tfjs draws randomNormal's seed 0 from Math.random: tfjsSeed keeps it a seed
        const queueSeed = seed === undefined ? undefined : tfjsSeed(seed);
        return l2Normalize(tf.randomNormal([queueSize, projectionDim], 0, 1, "float32", queueSeed));
      })
      : null,
    keys: null,
  };

  /** Queries: contiguous sub-batches (each its own BN statistics). */
  const queries = (n: MocoNets, x: tf.Tensor4D): tf.Tensor2D =>
    tf.tidy(() => {
      const heads = n.predictor ? [n.projector, n.predictor] : [n.projector];
      const parts = tf.split(x, shuffleBnSplits, 0).map((c) =>
        embed(n.encoder, heads, c as tf.Tensor4D)
      );
      return l2Normalize(parts.length > 1 ? tf.concat(parts, 0) : parts[0]);
    });
  /**
   * Data-parallel keys (MoCo's shuffle-BN across GPUs, `batch_shuffle_ddp`): the key views of all
   * ranks are gathered and permuted alike on every rank, split into `shuffleBnSplits` sub-batches
   * per rank, each rank encodes its own, and the keys are gathered back and unshuffled. Returns
   * this rank's keys and the global batch's (for the queue), as one process with
   * `shuffleBnSplits * size` splits on the global batch would compute them.
   */
  const gatheredKeys = (n: MocoNets, x: tf.Tensor4D, shuffleSeed: number, r: Replicas) =>
    tf.tidy(() => {
      const all = r.allGather(x); // [size * b, H, W, C]
      const b = all.shape[0];
      const prng = pcg32(shuffleSeed);
      const perm = Array.from({ length: b }, (_, i) => i);
      for (let i = b - 1; i > 0; i--) {
        const j = Math.floor(prng() * (i + 1));
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      const shuffled = tf.gather(all, tf.tensor1d(perm, "int32"));
      const parts = tf.split(shuffled, shuffleBnSplits * r.size, 0)
        .slice(r.rank * shuffleBnSplits, (r.rank + 1) * shuffleBnSplits)
        .map((c) => embed(n.keyEncoder, [n.keyProjector], c as tf.Tensor4D));
      const k = r.allGather(stopGradient(tf.concat(parts, 0))); // [b * f, d] shuffled order
      const f = k.shape[0] / b;
      const inverse = new Int32Array(b * f);
      perm.forEach((img, pos) => {
        for (let i = 0; i < f; i++) inverse[img * f + i] = pos * f + i;
      });
      const global = stopGradient(l2Normalize(tf.gather(k, tf.tensor1d(inverse, "int32"))));
      const own = x.shape[0] * f;
      return { local: tf.slice(global, [r.rank * own, 0], [own, -1]), global };
    });
  /** Keys: sub-batches of a seeded permutation, put back in order; no gradient. */
  const keys = (n: MocoNets, x: tf.Tensor4D, shuffleSeed: number): tf.Tensor2D =>
    tf.tidy(() => {
      const b = x.shape[0];
      if (shuffleBnSplits === 1) {
        return stopGradient(l2Normalize(embed(n.keyEncoder, [n.keyProjector], x)));
      }
      const prng = pcg32(shuffleSeed);
      const perm = Array.from({ length: b }, (_, i) => i);
      for (let i = b - 1; i > 0; i--) {
        const j = Math.floor(prng() * (i + 1));
        [perm[i], perm[j]] = [perm[j], perm[i]];
      }
      const shuffled = tf.gather(x, tf.tensor1d(perm, "int32"));
      const parts = tf.split(shuffled, shuffleBnSplits, 0).map((c) =>
        embed(n.keyEncoder, [n.keyProjector], c as tf.Tensor4D)
      );
      const k = tf.concat(parts, 0); // [b * f, d] rows in shuffled image order
      const f = k.shape[0] / b; // rows per image (frames in sequence mode)
      const inverse = new Int32Array(b * f);
      perm.forEach((img, pos) => {
        for (let r = 0; r < f; r++) inverse[img * f + r] = pos * f + r;
      });
      return stopGradient(l2Normalize(tf.gather(k, tf.tensor1d(inverse, "int32"))));
    });
  // MoCo v3's ctr(q, k) = 2 tau CE(q k^T / tau, diagonal); data-parallel: k holds every rank's
  // keys and query i's positive is key offset + i (the official labels arange(N) + N * rank)
  const ctr = (q: tf.Tensor2D, k: tf.Tensor2D, offset = 0) =>
    tf.tidy(() => {
      const logits = tf.div(tf.matMul(q, k, false, true), temperature); // [n, m]
      const logp = tf.logSoftmax(logits);
      const [n, m] = logits.shape;
      const positives = offset === 0 && n === m
        ? tf.eye(n)
        : tf.oneHot(tf.range(offset, offset + n, 1, "int32"), m); // [n, m]
      const diag = tf.sum(tf.mul(logp, positives), 1);
      const top1 = tf.mean(
        tf.cast(
          tf.equal(tf.argMax(logits, 1), tf.range(offset, offset + n, 1, "int32")),
          "float32",
        ),
      ) as tf.Scalar;
      return { loss: tf.mul(tf.neg(tf.mean(diag)), 2 * temperature) as tf.Scalar, logits, top1 };
    }) as { loss: tf.Scalar; logits: tf.Tensor2D; top1: tf.Scalar };

  const method: Method<MocoNets, MocoState> = {
    name: `moco-v${version}`,
    views: paperViewBuilder(
      version === 1 ? "moco-v1" : version === 2 ? "moco-v2" : "byol",
      options.augment,
      built.sequence,
    ),
    step(n, views, s, context) {
      checkViews(`moco-v${version}`, views, 2);
      const b = views[0].shape[0];
      if (b % shuffleBnSplits !== 0) {
        throw new RangeError(
          `Cannot run ${where}: the batch size must be divisible by shuffleBnSplits ${shuffleBnSplits}, received ${b}`,
        );
      }
      return tidyStep(() => {
        const reg = regularization(n.predictor ? [n.projector, n.predictor] : [n.projector]);
        const base = (seed * 7919 + context.step * 2) >>> 0;
        if (version === 3) {
          const q1 = queries(n, views[0]), q2 = queries(n, views[1]);
          let k1 = keys(n, views[0], base), k2 = keys(n, views[1], base + 1);
          const r = context.replicas && context.replicas.size > 1 ? context.replicas : null;
          // data-parallel: every rank's keys, this rank's queries (MoCo v3's concat_all_gather)
          if (r) [k1, k2] = [r.allGather(k1), r.allGather(k2)];
          const offset = r ? r.rank * q1.shape[0] : 0;
          const a = ctr(q1, k2, offset), c = ctr(q2, k1, offset);
          return {
            loss: tf.addN([a.loss, c.loss, reg]) as tf.Scalar,
            metrics: { zStd: zStd(q1), top1: r ? a.top1 : diagonalTop1(a.logits) },
            state: s,
          };
        }
        const q = queries(n, views[0]);
        const r = context.replicas && context.replicas.size > 1 ? context.replicas : null;
        // data-parallel: this rank's keys for its loss, all ranks' keys for the queue
        const both = r ? gatheredKeys(n, views[1], base, r) : null;
        const k = both ? both.local : keys(n, views[1], base);
        const pushed = both ? both.global : k;
        const queue = s.queue!;
        if (queue.shape[0] % pushed.shape[0] !== 0) {
          throw new RangeError(
            `Cannot run ${where}: queueSize must be divisible by the keys per step, received ${
              queue.shape[0]
            } and ${pushed.shape[0]}`,
          );
        }
        const loss = tf.add(mocoInfoNce(q, k, queue, { temperature }), reg) as tf.Scalar;
        return {
          loss,
          metrics: { zStd: zStd(q), top1: mocoAccuracy(q, k, queue, { temperature }) },
          state: { queue, keys: pushed },
        };
      });
    },
    trainable: (n) => variablesOf([n.encoder, n.projector, ...(n.predictor ? [n.predictor] : [])]),
    afterUpdate(n, s, context) {
      const m = version === 3 ? cosineMomentum(momentum, context.progress) : momentum;
      momentumUpdate(n.keyEncoder, n.encoder, m);
      momentumUpdate(n.keyProjector, n.projector, m);
      if (!s.queue || !s.keys) return { queue: s.queue, keys: null };
      return { queue: enqueue(s.queue, s.keys), keys: null };
    },
  };
  return { method, nets, state, encoder: built.encoder };
}
