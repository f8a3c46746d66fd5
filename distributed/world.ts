import { tf } from "../backend/tf.ts";
import { loadMpi, type MpiLibrary } from "./_mpi.ts";

/**
 * The ranks of an MPI job (`MPI_COMM_WORLD`) and the collectives data-parallel training uses:
 * on Float32Arrays, and on tensors with gradients (an all-gather whose gradient is summed over
 * the ranks back to each rank's own rows, an all-reduce whose gradient is all-reduced). Every
 * call is collective: all ranks must make the same calls in the same order.
 */
export interface World {
  /** This process's rank, from 0. */
  readonly rank: number;
  /** Number of ranks. */
  readonly size: number;
  /**
   * The MPI library loaded (`"open-mpi"` or `"mpich"` handles), `"single"` without MPI, or
   * `"custom"` (`transportWorld`).
   */
  readonly flavor: "open-mpi" | "mpich" | "single" | "custom";
  /** Elementwise sum over ranks, in place. */
  sumInPlace(values: Float32Array): void;
  /** Rank `root`'s `values` copied into every rank's, in place. */
  broadcastInPlace(values: Float32Array, root?: number): void;
  /** Every rank's `values` concatenated in rank order. */
  gather(values: Float32Array): Float32Array;
  /** Waits until every rank is here. */
  barrier(): void;
  /** `x` summed over ranks; its gradient is the upstream gradient summed over ranks. */
  allReduceSum<T extends tf.Tensor>(x: T): T;
  /** Every rank's `x` along axis 0 in rank order; its gradient: summed over ranks, own rows. */
  allGather<T extends tf.Tensor>(x: T): T;
  /** Ends every rank of the job with `code` (MPI_Abort). */
  abort(code: number): never;
}

/** Whether this process was started by `mpirun`/`mpiexec` with more than one rank. */
export function launchedUnderMpi(): boolean {
  try {
    const size = Deno.env.get("OMPI_COMM_WORLD_SIZE") ?? Deno.env.get("PMI_SIZE") ??
      Deno.env.get("PMIX_SIZE");
    return size !== undefined && Number(size) > 1;
  } catch {
    return false;
  }
}

function tensorCollectives(
  rank: number,
  size: number,
  sumInPlace: (v: Float32Array) => void,
  gather: (v: Float32Array) => Float32Array,
) {
  const summed = (x: tf.Tensor): tf.Tensor => {
    const values = Float32Array.from(x.dataSync() as Float32Array);
    sumInPlace(values);
    return tf.tensor(values, x.shape, "float32");
  };
  const allReduceSum = tf.customGrad((x) => {
    return { value: summed(x as tf.Tensor), gradFunc: (dy: tf.Tensor) => summed(dy) };
  });
  const allGather = tf.customGrad((x) => {
    const t = x as tf.Tensor;
    const local = t.dataSync() as Float32Array;
    const value = tf.tensor(gather(local), [t.shape[0] * size, ...t.shape.slice(1)], "float32");
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        const all = Float32Array.from(dy.dataSync() as Float32Array);
        sumInPlace(all);
        const n = local.length;
        return tf.tensor(all.slice(rank * n, (rank + 1) * n), t.shape, "float32");
      },
    };
  });
  return {
    allReduceSum: <T extends tf.Tensor>(x: T): T =>
      size === 1 ? tf.clone(x) : allReduceSum(x) as unknown as T,
    allGather: <T extends tf.Tensor>(x: T): T =>
      size === 1 ? tf.clone(x) : allGather(x) as unknown as T,
  };
}

/** The Float32Array collectives a {@linkcode World} is built on (MPI's, or a test's). */
export interface Transport {
  /** This process's rank, from 0. */
  rank: number;
  /** Number of ranks. */
  size: number;
  /** Elementwise sum over ranks, in place. */
  sumInPlace(values: Float32Array): void;
  /** Rank `root`'s `values` copied into every rank's, in place. */
  broadcastInPlace(values: Float32Array, root: number): void;
  /** Every rank's `values` concatenated in rank order. */
  gather(values: Float32Array): Float32Array;
  /** Waits until every rank is here. */
  barrier(): void;
  /** Ends every rank of the job. @default {Deno.exit(code)} */
  abort?(code: number): void;
}

/**
 * A world over any transport: the tensor collectives (with their gradients) built on its
 * Float32Array sum and gather. `initWorld` builds one over MPI; tests build one over a fake.
 *
 * @param transport rank, size and the Float32Array collectives
 * @returns the world
 *
 * @example
 * ```ts
 * import { transportWorld } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * // two ranks holding the same values: a sum doubles, a gather repeats
 * const world = transportWorld({
 *   rank: 0, size: 2,
 *   sumInPlace: (v) => v.forEach((x, i) => v[i] = 2 * x),
 *   broadcastInPlace: () => {},
 *   gather: (v) => Float32Array.from([...v, ...v]),
 *   barrier: () => {},
 * });
 * const x = tf.tensor1d([1, 2]);
 * const y = world.allReduceSum(x);
 * assert.deepEqual(Array.from(y.dataSync()), [2, 4]);
 * tf.dispose([x, y]);
 * ```
 */
export function transportWorld(transport: Transport): World {
  const { rank, size } = transport;
  if (!Number.isInteger(size) || size < 1 || !Number.isInteger(rank) || rank < 0 || rank >= size) {
    throw new RangeError(
      `Cannot build a world: expected 0 <= rank < size, received rank ${rank} and size ${size}`,
    );
  }
  const sumInPlace = (v: Float32Array) => {
    if (size > 1) transport.sumInPlace(v);
  };
  const gather = (v: Float32Array) => transport.gather(v);
  return {
    rank,
    size,
    flavor: "custom",
    sumInPlace,
    broadcastInPlace: (v, root = 0) => {
      if (size > 1) transport.broadcastInPlace(v, root);
    },
    gather,
    barrier: () => transport.barrier(),
    ...tensorCollectives(rank, size, sumInPlace, gather),
    abort(code) {
      transport.abort?.(code);
      Deno.exit(code);
    },
  };
}

let world: World | null = null;

function mpiWorld(mpi: MpiLibrary): World {
  mpi.init();
  // Finalize on the way out (also after Deno.exit), or mpirun reports an improper exit
  globalThis.addEventListener("unload", () => {
    try {
      mpi.finalize();
    } catch { /* already torn down */ }
  });
  const size = mpi.size();
  return {
    ...transportWorld({
      rank: mpi.rank(),
      size,
      sumInPlace(v) {
        const out = new Float32Array(v.length);
        mpi.allreduceSum(v, out);
        v.set(out);
      },
      broadcastInPlace: (v, root) => mpi.broadcast(v, root),
      gather(v) {
        const out = new Float32Array(v.length * size);
        mpi.allGather(v, out);
        return out;
      },
      barrier: () => mpi.barrier(),
      abort: (code) => mpi.abort(code),
    }),
    flavor: mpi.flavor,
  };
}

/** A world of one rank, where every collective is the identity (no MPI needed). */
function singleWorld(): World {
  return {
    rank: 0,
    size: 1,
    flavor: "single",
    sumInPlace: () => {},
    broadcastInPlace: () => {},
    gather: (v) => Float32Array.from(v),
    barrier: () => {},
    ...tensorCollectives(0, 1, () => {}, (v) => Float32Array.from(v)),
    abort: (code) => Deno.exit(code),
  };
}

/**
 * Joins the MPI job this process belongs to (`MPI_Init` once per process, `MPI_Finalize` at
 * exit) and returns its rank, size and collectives. Outside `mpirun` (and with `mpi: "never"`) it
 * is a world of one rank that needs no MPI library.
 *
 * @param options `mpi`: `"auto"` (MPI when launched by mpirun), `"always"` or `"never"`
 * @returns the world (the same object on every call)
 * @throws {MpiUnavailableError} when MPI is wanted and no MPI library loads (names openmpi-bin)
 *
 * @example
 * ```ts
 * import { initWorld } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const world = initWorld({ mpi: "never" });
 * assert.equal(world.size, 1);
 * const x = tf.tensor2d([[1, 2]]);
 * const g = world.allGather(x);
 * assert.deepEqual(g.shape, [1, 2]);
 * tf.dispose([x, g]);
 * ```
 */
export function initWorld(options: { mpi?: "auto" | "always" | "never" } = {}): World {
  const { mpi = "auto" } = options;
  if (!["auto", "always", "never"].includes(mpi)) {
    throw new RangeError(
      `Cannot init the world: mpi must be "auto", "always" or "never", received ${mpi}`,
    );
  }
  if (mpi === "never") return singleWorld();
  if (world) return world;
  if (mpi === "auto" && !launchedUnderMpi()) return singleWorld();
  world = mpiWorld(loadMpi());
  return world;
}
