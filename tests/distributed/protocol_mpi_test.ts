/**
 * `deno task protocol` under `mpirun -np 2`, unchanged: stage 1 data-parallel (the global batch
 * recorded), one run directory (rank 0's clock names it) written once by rank 0, both ranks
 * ending with 0, and `--resume` finding the finished run. Skips without mpirun, fails under
 * CI=true.
 */
import assert from "node:assert/strict";
import { mpiAvailable, runUnderMpirun, stepRecords } from "./_mpirun.ts";
import { tinyProtocolArgs } from "../cli/_helpers.ts";

const CLI = new URL("../../cli/protocol.ts", import.meta.url).pathname;

/** The smallest protocol: 32 unlabeled lines in global batches of 2 x 8, one epoch each. */
const TINY = tinyProtocolArgs({
  methods: "simclr",
  "pretrain-batch": "8",
  labeled: "8",
  test: "8",
});

function protocol(args: string[]): Promise<string> {
  // a rank left waiting (at a barrier rank 0 never reaches) fails the test, not hangs it
  return runUnderMpirun(CLI, [...TINY, ...args], ["--timeout", "90"]);
}

Deno.test({
  name: "protocol under mpirun -np 2: stage 1 data-parallel, one run written once by rank 0",
  ignore: !mpiAvailable,
  async fn() {
    const out = await Deno.makeTempDir();
    try {
      const first = await protocol(["--out", out]);
      const runs = [...Deno.readDirSync(out)].map((e) => e.name);
      assert.equal(runs.length, 1, `expected one run directory, found ${runs}`);
      const dir = `${out}/${runs[0]}`;
      // one report line and one comparison line: rank 0 alone talks and writes
      assert.equal(first.match(/\[protocol\] report:/g)?.length, 1, first);
      assert.equal(first.match(/fine-tuned vs supervised/g)?.length, 1, first);
      const results = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
      assert.equal(results.name, runs[0]);
      // 32 lines in global batches of 16 (8 on each rank): 2 steps, each recorded once
      assert.equal(results.pretraining[0].steps, 2);
      assert.equal(results.pretraining[0].batchSize, 16);
      assert.deepEqual(await stepRecords(`${dir}/pretrain-simclr/metrics.jsonl`), [0, 1]);
      const config = JSON.parse(await Deno.readTextFile(`${dir}/pretrain-simclr/config.json`));
      assert.equal(config.config.ranks, 2);

      // stage 1 as if interrupted after its last checkpoint: both ranks resume from it
      await Deno.remove(`${dir}/pretrain-simclr/done.json`);
      const again = await protocol(["--out", out, "--resume", "--run-name", runs[0]]);
      assert.equal(
        again.match(/stage 1 simclr: .*resuming from its checkpoint/g)?.length,
        1,
        again,
      );
      assert.match(again, /n=8: finished earlier, skipped/);
      assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name), runs);
      assert.deepEqual(await stepRecords(`${dir}/pretrain-simclr/metrics.jsonl`), [0, 1]);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
