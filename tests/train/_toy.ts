/**
 * A toy method and dataset for the loop tests: a dense net with BatchNorm regresses a fixed
 * linear map of its (noisy, seeded) view; its state carries a FIFO queue of embeddings (replaced
 * each step) and an EMA of the output kernel's mean updated in `afterUpdate`, so checkpoints and
 * resume are exercised on nets, tensors in state and numbers.
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { stopGradient } from "../../backend/stop_gradient.ts";
import type { Method, Replicas } from "../../methods/types.ts";
import type { DataParallel } from "../../train/mod.ts";
import { inMemoryDataset } from "../../data/in_memory.ts";
import { Loader } from "../../data/loader.ts";
import { pcg32 } from "../_utils.ts";

export interface ToyNets {
  net: tfl.LayersModel;
}
export interface ToyState {
  queue: tf.Tensor2D;
  ema: tf.Scalar;
  updates: number;
}

export function toyNets(): ToyNets {
  const net = tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [2, 2, 1] }),
      tfl.layers.dense({
        units: 6,
        useBias: false,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      }),
      tfl.layers.batchNormalization(),
      tfl.layers.dense({
        units: 3,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
  return { net };
}

export function toyState(): ToyState {
  return { queue: tf.zeros([8, 3]), ema: tf.scalar(0), updates: 0 };
}

/** `loss` is multiplied by `lossScale(step)`; NaN there makes the step diverge. */
export function toyMethod(
  lossScale: (step: number) => number = () => 1,
): Method<ToyNets, ToyState> {
  const target = tf.tensor2d([[1, 0, -1], [0.5, 1, 0], [0, -0.5, 1], [1, 1, 1]]);
  tf.keep(target);
  return {
    name: "toy",
    views: (images, seed) =>
      tf.tidy(() => [tf.add(images, tf.randomNormal(images.shape, 0, 0.05, "float32", seed))]),
    step: (nets, views, state, ctx) =>
      tf.tidy(() => {
        const x = views[0];
        const z = nets.net.apply(x, { training: true }) as tf.Tensor2D; // [B, 3]
        const y = tf.matMul(tf.reshape(x, [-1, 4]), target); // [B, 3]
        const loss = tf.mul(tf.mean(tf.square(tf.sub(z, y))), lossScale(ctx.step)) as tf.Scalar;
        const queue = tf.slice(tf.concat([stopGradient(z), state.queue], 0), [0, 0], [8, 3]);
        return {
          loss,
          metrics: { zStd: tf.mean(tf.moments(z, 0).variance) as tf.Scalar },
          state: { queue: queue as tf.Tensor2D, ema: state.ema, updates: state.updates },
        };
      }),
    trainable: (nets) =>
      nets.net.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
    afterUpdate: (nets, state) => {
      const ema = tf.tidy(() =>
        tf.add(
          tf.mul(state.ema, 0.9),
          tf.mul(tf.mean(nets.net.layers[3].getWeights()[0]), 0.1),
        ) as tf.Scalar
      );
      return { queue: state.queue, ema, updates: state.updates + 1 };
    },
  };
}

/** 24 random 2x2 grayscale images with labels 0/1. */
export function toyDataset(seed = 3) {
  const prng = pcg32(seed);
  const images = Uint8Array.from({ length: 24 * 4 }, () => Math.floor(prng() * 256));
  const labels = Uint8Array.from({ length: 24 }, (_, i) => i % 2);
  return inMemoryDataset("toy", images, labels, [2, 2, 1], 2);
}

/** The loop options the train tests share. */
export const TOY_TRAIN_BASE = {
  lr: 0.05,
  schedule: "cosine",
  warmupSteps: 2,
  progress: false,
  seed: 11,
} as const;

/** A loader factory over {@linkcode toyDataset} that resumes from a saved position. */
export function toyLoaderFactory() {
  const ds = toyDataset();
  return (position: unknown) =>
    new Loader(ds, {
      batchSize: 6,
      seed: 5,
      epochs: Infinity,
      prefetch: 1,
      position: (position ?? undefined) as undefined,
    });
}

/**
 * Rank `rank` of a world of `size` that holds no other process: its shard is its share of the
 * batch's rows, and every reduction leaves the values as they are (one rank's figures stand for
 * the world's).
 */
export function passThroughRank(rank: number, size = 2): DataParallel {
  const replicas: Replicas = {
    rank,
    size,
    gatherNegatives: false,
    allGather: <T extends tf.Tensor>(x: T) => x,
  };
  return {
    rank,
    size,
    replicas,
    prepare: () => {},
    shard: (images) => {
      const per = images.shape[0] / size;
      return tf.slice(images, [rank * per, 0, 0, 0], [per, -1, -1, -1]);
    },
    reduceGradients: (grads) => grads.map((g) => (g ? tf.clone(g) : null)),
    reduceNumbers: (values) => values,
    abort: (code) => {
      throw new Error(`abort ${code}`);
    },
  };
}
