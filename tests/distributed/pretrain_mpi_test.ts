/**
 * `deno task pretrain` under `mpirun -np 2`, unchanged: one run directory (rank 0's clock names
 * it), written once (one metrics record per step, one summary), the global batch recorded, and
 * `--resume` continuing it with the same ranks. Skips without mpirun, fails under CI=true.
 */
import assert from "node:assert/strict";
import { mpiAvailable, runUnderMpirun, stepRecords } from "./_mpirun.ts";

const CLI = new URL("../../cli/pretrain.ts", import.meta.url).pathname;

function pretrain(args: string[]): Promise<string> {
  return runUnderMpirun(CLI, [
    "--train-size",
    "64",
    "--batch-size",
    "8",
    "--knn-bank",
    "0",
    "--quiet",
    ...args,
  ]);
}

Deno.test({
  name: "pretrain under mpirun -np 2: one run written once by rank 0, resumable",
  ignore: !mpiAvailable,
  async fn() {
    const out = await Deno.makeTempDir();
    try {
      const first = await pretrain(["--steps", "2", "--out", out]);
      const runs = [...Deno.readDirSync(out)].map((e) => e.name);
      assert.equal(runs.length, 1, `expected one run directory, found ${runs}`);
      const dir = `${out}/${runs[0]}`;
      assert.equal(first.match(/run written to/g)?.length, 1, first);
      const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
      assert.equal(config.resolved.ranks, 2);
      assert.equal(config.resolved.batchPerRank, 8);
      assert.deepEqual(await stepRecords(`${dir}/metrics.jsonl`), [0, 1]);

      await pretrain(["--resume", "--run-name", runs[0], "--steps", "4", "--out", out]);
      assert.deepEqual(await stepRecords(`${dir}/metrics.jsonl`), [0, 1, 2, 3]);
      const results = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
      assert.equal(results.steps, 4);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
