import { tf } from "../backend/tf.ts";
import type { World } from "./world.ts";

/** Options for {@linkcode allReduceMean}. */
export interface AllReduceMeanOptions {
  /**
   * Largest bucket in bytes: consecutive tensors are packed into one buffer up to this size and
   * each buffer is one all-reduce (PyTorch DDP's default bucket is 25 MB, Horovod's fusion
   * buffer 64 MB), so a network of many small tensors pays the latency once per bucket.
   * @default 25 * 2 ** 20
   */
  bucketBytes?: number;
}

/**
 * Averages a list of tensors (gradients) over the ranks of `world`: packed into buckets, each
 * bucket summed by one all-reduce and divided by the number of ranks. Nulls (variables without
 * a gradient) stay null; they must be null on every rank. Returns new tensors; the inputs are
 * not disposed.
 *
 * @param world the ranks (from `initWorld`)
 * @param tensors the tensors, the same shapes in the same order on every rank
 * @param options bucket size
 * @returns the averaged tensors, in order
 *
 * @example
 * ```ts
 * import { allReduceMean, initWorld } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const world = initWorld({ mpi: "never" });
 * const [g] = allReduceMean(world, [tf.tensor1d([1, 2])]);
 * assert.deepEqual(Array.from(g!.dataSync()), [1, 2]);
 * g!.dispose();
 * ```
 */
export function allReduceMean(
  world: World,
  tensors: readonly (tf.Tensor | null)[],
  options: AllReduceMeanOptions = {},
): (tf.Tensor | null)[] {
  const { bucketBytes = 25 * 2 ** 20 } = options;
  if (!(bucketBytes >= 4)) {
    throw new RangeError(
      `Cannot all-reduce: bucketBytes must be at least 4, received ${bucketBytes}`,
    );
  }
  const out: (tf.Tensor | null)[] = tensors.map(() => null);
  const capacity = Math.floor(bucketBytes / 4);
  let bucket: number[] = [];
  let filled = 0;
  const flush = () => {
    if (bucket.length === 0) return;
    const buffer = new Float32Array(filled);
    let offset = 0;
    for (const i of bucket) {
      buffer.set(tensors[i]!.dataSync() as Float32Array, offset);
      offset += tensors[i]!.size;
    }
    world.sumInPlace(buffer);
    const scale = 1 / world.size;
    if (world.size !== 1) { for (let j = 0; j < buffer.length; j++) buffer[j] *= scale; }
    offset = 0;
    for (const i of bucket) {
      const t = tensors[i]!;
      out[i] = tf.tensor(buffer.subarray(offset, offset + t.size), t.shape, "float32");
      offset += t.size;
    }
    bucket = [];
    filled = 0;
  };
  tensors.forEach((t, i) => {
    if (t === null) return;
    if (t.dtype !== "float32") {
      throw new TypeError(`Cannot all-reduce: expected float32 tensors, received ${t.dtype}`);
    }
    if (filled > 0 && filled + t.size > capacity) flush();
    bucket.push(i);
    filled += t.size;
  });
  flush();
  return out;
}
