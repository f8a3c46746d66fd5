import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { stopGradient } from "../backend/stop_gradient.ts";
import { swavLoss } from "../losses/mod.ts";
import {
  colorJitter,
  compose,
  gaussianBlur,
  horizontalFlip,
  multiCrop,
  randomGrayscale,
} from "../augment/mod.ts";
import { byolHead, normalizePrototypes, sourceProjector, swavPrototypes } from "../models/mod.ts";
import {
  buildEncoder,
  checkCount,
  checkRange,
  embed,
  headStyle,
  l2Normalize,
  regularization,
  tidyStep,
  twoViewBuilder,
  variablesOf,
  zStd,
} from "./_common.ts";
import { enqueue } from "./queue.ts";
import type { BaseMethodOptions, Method, MethodSetup } from "./types.ts";

/** SwAV settings that come together; every one can still be overridden by its own option. */
export interface SwavPreset {
  /** Number of prototypes K. */
  prototypes: number;
  /** Low-resolution crops per image (multi-crop). */
  localCrops: number;
  /** Feature queue length per high-resolution crop (0: no queue). */
  queueLength: number;
  /** Epoch from which the queue is used. */
  queueStartEpoch: number;
  /** Epochs during which the prototypes stay frozen (SwAV freezes them for the first epoch). */
  freezePrototypesEpochs: number;
}

/**
 * SwAV presets, each one published configuration:
 * - `imagenet`: the paper's batch-256 run (Caron et al. 2020, arXiv:2006.09882;
 *   facebookresearch/swav `swav_200ep_bs256_pretrain.sh`): 3000 prototypes, 2x224 + 6x96 crops,
 *   a 3840 queue from epoch 15, prototypes frozen for the first epoch (5005 iterations there).
 * - `imagenet-bs4096`: the paper's large-batch run (`swav_800ep_pretrain.sh`): 3000 prototypes,
 *   2x224 + 6x96 crops, no queue, prototypes frozen for the first epoch (313 iterations there).
 * - `cifar`: solo-learn's CIFAR config (`scripts/pretrain/cifar/swav.yaml`): 3000 prototypes,
 *   2 crops, a 3840 queue from epoch 50, prototypes frozen for 2 epochs.
 * - `small`: selfsup's own for a few thousand images and short runs (not published): 100
 *   prototypes, 2 local crops, no queue, prototypes frozen for the first epoch.
 */
export const SWAV_PRESETS: Record<"imagenet" | "imagenet-bs4096" | "cifar" | "small", SwavPreset> =
  {
    imagenet: {
      prototypes: 3000,
      localCrops: 6,
      queueLength: 3840,
      queueStartEpoch: 15,
      freezePrototypesEpochs: 1,
    },
    "imagenet-bs4096": {
      prototypes: 3000,
      localCrops: 6,
      queueLength: 0,
      queueStartEpoch: 0,
      freezePrototypesEpochs: 1,
    },
    cifar: {
      prototypes: 3000,
      localCrops: 0,
      queueLength: 3840,
      queueStartEpoch: 50,
      freezePrototypesEpochs: 2,
    },
    small: {
      prototypes: 100,
      localCrops: 2,
      queueLength: 0,
      queueStartEpoch: 0,
      freezePrototypesEpochs: 1,
    },
  };

/** Options for {@linkcode swav}. */
export interface SwavOptions extends BaseMethodOptions, Partial<SwavPreset> {
  /** Where the defaults of the preset-able options come from. @default {"imagenet"} */
  preset?: keyof typeof SWAV_PRESETS;
  /** Softmax temperature of the predictions. @default {0.1} */
  temperature?: number;
  /** Sinkhorn entropic regularization. @default {0.05} */
  epsilon?: number;
  /** Sinkhorn iterations. @default {3} */
  sinkhornIterations?: number;
  /** Global (high-resolution) crops. @default {2} */
  globalCrops?: number;
  /** Side of the local crops. @default {round(height * 96 / 224)} */
  localSize?: number;
  /**
   * Freeze the prototypes for this many steps instead of `freezePrototypesEpochs` epochs (the
   * official code's `freeze_prototypes_niters`, one epoch's worth of iterations there).
   * @default {unset: freeze by epochs}
   */
  freezePrototypesIterations?: number;
}

/** SwAV's networks. */
export interface SwavNets {
  /** The encoder (the backbone used downstream). */
  encoder: tfl.LayersModel;
  /** The projection head. */
  projector: tfl.LayersModel;
  /** Prototypes C: kernel `[d, K]` with unit columns. */
  prototypes: tfl.LayersModel;
}

/** SwAV's state: the feature queue (once switched on) and the embeddings waiting to enter it. */
export interface SwavState {
  /** One queue of normalized embeddings per global crop, `[Q, d]` each, newest first. */
  queues: tf.Tensor2D[] | null;
  /** Rows pushed so far (the queue is used once full). */
  filled: number;
  /** This step's global-crop embeddings, pushed in afterUpdate. */
  pending: tf.Tensor2D[] | null;
}

/**
 * SwAV (Caron et al. 2020, arXiv:2006.09882): multi-crop views, normalized embeddings scored
 * against L2-normalized prototypes, Sinkhorn codes of each global crop predicted by every other
 * crop (swapped prediction, {@linkcode swavLoss}). The prototypes receive no gradient for the
 * first `freezePrototypesEpochs` epochs and are re-normalized after every update; from epoch
 * `queueStartEpoch` a feature queue of `queueLength` earlier embeddings joins the Sinkhorn
 * balancing once full. In sequence mode the views are two same-width augmentations (no local
 * crops) and frames are the instances. Metrics: `zStd`.
 *
 * @param options encoder, input shape, seed, preset and SwAV's options
 * @returns the method, its nets and initial state
 *
 * @example
 * ```ts
 * import { swav } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { method, nets, state } = swav({
 *   encoder: "convnet", inputShape: [8, 8, 1], seed: 1, widths: [4], preset: "small",
 *   projectionDim: 4, hiddenDim: 8, prototypes: 5, localSize: 4,
 * });
 * const views = method.views(tf.randomUniform([4, 8, 8, 1]) as tf.Tensor4D, 0);
 * assert.equal(views.length, 4);
 * const { loss } = method.step(nets, views, state, { progress: 0, step: 0, epoch: 0 });
 * assert.ok(loss.dataSync()[0] > 0);
 * ```
 */
export function swav(options: SwavOptions): MethodSetup<SwavNets, SwavState> {
  const { preset = "imagenet" } = options;
  const p = SWAV_PRESETS[preset];
  if (!p) {
    throw new TypeError(
      `Cannot build swav: preset must be one of ${
        Object.keys(SWAV_PRESETS).join(", ")
      }, received ${preset}`,
    );
  }
  const built = buildEncoder(options, true);
  const style = headStyle(options, built.sequence);
  const {
    prototypes: k = p.prototypes,
    queueLength = p.queueLength,
    queueStartEpoch = p.queueStartEpoch,
    freezePrototypesEpochs = p.freezePrototypesEpochs,
    temperature = 0.1,
    epsilon = 0.05,
    sinkhornIterations = 3,
    globalCrops = 2,
    projectionDim = 128,
    hiddenDim = style === "source" ? undefined : 2048,
    seed,
  } = options;
  const localCrops = built.sequence ? 0 : options.localCrops ?? p.localCrops;
  const [h, , c] = options.inputShape;
  const { localSize = Math.max(1, Math.round(h * 96 / 224)) } = options;
  checkCount("swav", "prototypes", k);
  checkCount("swav", "queueLength", queueLength, true);
  checkCount("swav", "queueStartEpoch", queueStartEpoch, true);
  checkCount("swav", "freezePrototypesEpochs", freezePrototypesEpochs, true);
  if (options.freezePrototypesIterations !== undefined) {
    checkCount("swav", "freezePrototypesIterations", options.freezePrototypesIterations, true);
  }
  checkCount("swav", "globalCrops", globalCrops);
  checkCount("swav", "localCrops", localCrops, true);
  checkCount("swav", "localSize", localSize);
  checkRange("swav", "temperature", temperature, 0, Infinity, true);
  checkRange("swav", "epsilon", epsilon, 0, Infinity, true);
  checkCount("swav", "sinkhornIterations", sinkhornIterations);
  if (built.sequence && globalCrops !== 2) {
    throw new RangeError(
      `Cannot build swav: sequence mode uses 2 global crops, received ${globalCrops}`,
    );
  }
  if (globalCrops + localCrops < 2) {
    throw new RangeError(
      `Cannot build swav: at least 2 crops are needed, received ${globalCrops + localCrops}`,
    );
  }
  const projector = style === "source"
    ? sourceProjector(built.dim, { projectionDim })
    : byolHead(built.dim, { projectionDim, hiddenDim, name: "swav_projector" });
  const nets: SwavNets = {
    encoder: built.encoder,
    projector,
    prototypes: swavPrototypes(projectionDim, { prototypes: k, seed }),
  };
  // SwAV's crop pipeline: flip, color distortion (jitter 0.8 p 0.8, grayscale p 0.2), blur p 0.5
  const crops = c === 3
    ? compose(
      horizontalFlip(),
      [colorJitter(), 0.8],
      randomGrayscale({ p: 0.2 }),
      [gaussianBlur(), 0.5],
    )
    : compose(horizontalFlip(), [gaussianBlur(), 0.5]);
  const views = built.sequence
    ? twoViewBuilder(options.augment, true)
    : (images: tf.Tensor4D, viewSeed: number) =>
      multiCrop(
        images,
        {
          global: { count: globalCrops, size: [h, options.inputShape[1]] },
          local: { count: localCrops, size: localSize },
        },
        viewSeed,
        options.augment ?? crops,
      );

  const method: Method<SwavNets, SwavState> = {
    name: "swav",
    views,
    step(n, v, s, context) {
      if (v.length !== globalCrops + localCrops) {
        throw new TypeError(
          `Cannot run swav: expected ${globalCrops + localCrops} views, received ${v.length}`,
        );
      }
      return tidyStep(() => {
        const kernel = n.prototypes.trainableWeights[0].read() as tf.Tensor2D; // [d, K]
        const frozen = options.freezePrototypesIterations !== undefined
          ? context.step < options.freezePrototypesIterations
          : context.epoch < freezePrototypesEpochs;
        const c0 = frozen ? stopGradient(kernel) : kernel;
        const z = v.map((x) => l2Normalize(embed(n.encoder, [n.projector], x))); // [n, d] each
        const scores = z.map((zi) => tf.matMul(zi, c0) as tf.Tensor2D); // [n, K]
        // data-parallel: every rank computes the global batch's loss, so Sinkhorn normalizes the
        // codes over all ranks' rows (and the queue holds all ranks' embeddings)
        const r = context.replicas && context.replicas.size > 1 ? context.replicas : null;
        const all = r ? scores.map((sc) => r.allGather(sc)) : scores;
        const useQueue = s.queues !== null && s.filled >= queueLength;
        const queueScores = useQueue
          ? s.queues!.map((q) => tf.matMul(q, stopGradient(kernel)) as tf.Tensor2D)
          : undefined;
        const loss = tf.add(
          swavLoss(all.slice(0, globalCrops), all.slice(globalCrops), {
            temperature,
            epsilon,
            iterations: sinkhornIterations,
            queue: queueScores,
          }),
          regularization([n.projector]),
        ) as tf.Scalar;
        const pushing = queueLength > 0 && context.epoch >= queueStartEpoch;
        return {
          loss,
          metrics: { zStd: zStd(z[0]) },
          state: {
            queues: s.queues,
            filled: s.filled,
            pending: pushing
              ? z.slice(0, globalCrops).map((zi) =>
                r ? r.allGather(stopGradient(zi)) : stopGradient(zi)
              )
              : null,
          },
        };
      });
    },
    trainable: (n) => variablesOf([n.encoder, n.projector, n.prototypes]),
    afterUpdate(n, s) {
      normalizePrototypes(n.prototypes);
      if (!s.pending) return { queues: s.queues, filled: s.filled, pending: null };
      const rows = s.pending[0].shape[0];
      if (rows > queueLength) {
        throw new RangeError(
          `Cannot update the SwAV queue: queueLength must be at least the embeddings per step, received ${queueLength} and ${rows}`,
        );
      }
      const old = s.queues ??
        s.pending.map(() => tf.zeros([queueLength, projectionDim]) as tf.Tensor2D);
      const queues = old.map((q, i) => enqueue(q, s.pending![i]));
      if (!s.queues) tf.dispose(old);
      return { queues, filled: Math.min(queueLength, s.filled + rows), pending: null };
    },
  };
  return {
    method,
    nets,
    state: { queues: null, filled: 0, pending: null },
    encoder: built.encoder,
  };
}
