/**
 * Data-parallel training over MPI (Open MPI or MPICH through Deno FFI): the ranks of an
 * `mpirun` job, bucketed gradient all-reduce, weights broadcast from rank 0, differentiable
 * all-gather (gathered negatives, MoCo's keys, SwAV's Sinkhorn over the global batch),
 * synchronized batch norm, and `dataParallel()`, the hooks `train` runs with.
 *
 * Launch: `mpirun -np 2 deno run -A script.ts` (as root add `--allow-run-as-root`).
 *
 * @example
 * ```ts
 * import { initWorld } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const world = initWorld({ mpi: "never" });
 * assert.equal(world.rank, 0);
 * ```
 *
 * @module
 */
export * from "./world.ts";
export * from "./all_reduce_mean.ts";
export * from "./broadcast_weights.ts";
export * from "./broadcast_text.ts";
export * from "./sync_batch_norm.ts";
export * from "./data_parallel.ts";
export { MpiUnavailableError } from "./_mpi.ts";
