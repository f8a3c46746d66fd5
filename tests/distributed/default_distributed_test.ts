/**
 * `train()` without a `distributed` option, launched by `mpirun -np 2`: its documented default is
 * data-parallel training with `dataParallel()`. Equal weights cannot tell that apart from each
 * rank training alone on the whole global batch (with synchronized BN both give one process's
 * weights), so the test looks at what each step saw: its shard of the global batch and a step
 * context with two replicas, and the weights of an explicit `dataParallel()` run with the same
 * (default) options. Without mpirun the test skips with a message, under CI=true it fails
 * (tests/_ci.ts).
 */
import assert from "node:assert/strict";
import { MPI_ENV, mpiAvailable, MPIRUN } from "./_mpirun.ts";

const WORKER = new URL("./_worker.ts", import.meta.url).pathname;
const GLOBAL_BATCH = 8; // 4 per rank
const STEPS = 2;

interface MethodOutput {
  weights: number[][];
  initial: number[][];
  losses: number[];
  stepBatches: number[];
  stepReplicas: (number | null)[];
}

/** Runs the worker under `mpirun -np 2` with `args`; rank 0's output for SimCLR. */
async function runMpi(args: string[]): Promise<MethodOutput> {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/out.json`;
    const { code, stdout, stderr } = await new Deno.Command("mpirun", {
      args: [
        ...MPIRUN,
        "-np",
        "2",
        Deno.execPath(),
        "run",
        "-A",
        WORKER,
        "--method",
        "simclr",
        "--global-batch",
        String(GLOBAL_BATCH),
        "--steps",
        String(STEPS),
        "--out",
        out,
        ...args,
      ],
      env: MPI_ENV,
    }).output();
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    assert.equal(code, 0, `worker failed (mpirun ${args.join(" ")}):\n${text}`);
    return JSON.parse(await Deno.readTextFile(out)).simclr;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "under mpirun -np 2, train() without a distributed option trains data-parallel",
  ignore: !mpiAvailable,
  async fn() {
    const [byDefault, explicit] = await Promise.all([
      runMpi(["--default-distributed"]),
      // dataParallel({ world }) with its defaults: BN per rank, gathered negatives
      runMpi(["--no-sync-bn"]),
    ]);
    // each step saw rank 0's shard (4 of 8 images) and a context with the 2 replicas; alone on
    // the global batch it would see 8 images and no replicas
    assert.deepEqual(byDefault.stepBatches, Array(STEPS).fill(GLOBAL_BATCH / 2));
    assert.deepEqual(byDefault.stepReplicas, Array(STEPS).fill(2));
    assert.deepEqual(explicit.stepBatches, byDefault.stepBatches);
    assert.deepEqual(explicit.stepReplicas, byDefault.stepReplicas);
    // the same training as the explicit dataParallel() run, step for step
    assert.deepEqual(byDefault.losses, explicit.losses);
    assert.deepEqual(byDefault.weights, explicit.weights);
    assert.notDeepEqual(byDefault.weights, byDefault.initial);
  },
});
