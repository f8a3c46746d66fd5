import { tf } from "../backend/tf.ts";
import type { Replicas } from "../methods/types.ts";
import type { DataParallel } from "../train/train.ts";
import { allReduceMean } from "./all_reduce_mean.ts";
import { broadcastWeights } from "./broadcast_weights.ts";
import { syncBatchNorm } from "./sync_batch_norm.ts";
import { initWorld, type World } from "./world.ts";

/** Options for {@linkcode dataParallel}. */
export interface DataParallelOptions {
  /** The ranks. @default {initWorld({ mpi: "always" })} */
  world?: World;
  /**
   * Contrastive losses (SimCLR's NT-Xent) see the negatives of every rank, as SimCLR across TPU
   * cores (google-research/simclr `tpu_cross_replica_concat`); false: each rank's own only.
   * @default true
   */
  gatherNegatives?: boolean;
  /**
   * Batch normalization over the global batch (synchronized, see `syncBatchNorm`); false: each
   * rank normalizes its own shard, as PyTorch DDP without SyncBatchNorm.
   * @default false
   */
  syncBatchNorm?: boolean;
  /**
   * Gradient bucket size in bytes (see `allReduceMean`).
   * @default 25 * 2 ** 20
   */
  bucketBytes?: number;
}

const KEYS = ["world", "gatherNegatives", "syncBatchNorm", "bucketBytes"];

/**
 * Data-parallel training over MPI, as `train`'s `distributed` option: each rank takes its
 * contiguous shard of every global batch (rank r: rows r*B to (r+1)*B - 1), rank 0's weights are
 * broadcast before the first step, the gradients are averaged over ranks (bucketed all-reduce)
 * before clipping and the optimizer step, and the loss and metrics are averaged so every rank
 * logs (and stops on divergence) alike; only rank 0 writes. Launch with
 * `mpirun -np N deno run -A ...`; the global batch is N times the per-rank batch.
 *
 * @param options world, gathered negatives, synchronized batch norm, bucket size
 * @returns the hooks `train` calls
 *
 * @example
 * ```ts
 * import { dataParallel, initWorld } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const dp = dataParallel({ world: initWorld({ mpi: "never" }) });
 * assert.equal(dp.size, 1);
 * ```
 */
export function dataParallel(options: DataParallelOptions = {}): DataParallel {
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) {
      throw new TypeError(
        `Cannot set up data-parallel training: unknown option ${key}, expected one of ${
          KEYS.join(", ")
        }`,
      );
    }
  }
  const {
    world = initWorld({ mpi: "always" }),
    gatherNegatives = true,
    syncBatchNorm: sync = false,
    bucketBytes,
  } = options;
  const { rank, size } = world;
  const replicas: Replicas = {
    rank,
    size,
    gatherNegatives,
    allGather: (x) => world.allGather(x),
  };
  return {
    rank,
    size,
    replicas,
    prepare(nets) {
      if (sync) syncBatchNorm(nets, world);
      broadcastWeights(nets, world);
    },
    shard(images) {
      const n = images.shape[0];
      if (n % size !== 0) {
        throw new RangeError(
          `Cannot shard the batch: expected a global batch divisible by the ${size} ranks, received ${n}`,
        );
      }
      const b = n / size;
      return tf.slice(images, [rank * b, 0, 0, 0], [b, -1, -1, -1]);
    },
    reduceGradients: (grads) => allReduceMean(world, grads, { bucketBytes }),
    reduceNumbers(values) {
      const buffer = Float32Array.from(values);
      world.sumInPlace(buffer);
      return Array.from(buffer, (v, i) => size === 1 ? values[i] : v / size);
    },
    abort: (code) => world.abort(code),
  };
}
