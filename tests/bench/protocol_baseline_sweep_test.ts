import assert from "node:assert/strict";
import { protocolMain } from "../../cli/protocol.ts";

// tiny nets and sets: the sweep's supervised arm must be the protocol's, number for number
const OPTIONS = [
  "--dataset",
  "synthetic-text",
  "--config",
  "tuned",
  "--methods",
  "simclr",
  "--unlabeled",
  "2",
  "--pretrain-batch",
  "2",
  "--labeled",
  "8",
  "--fractions",
  "0.5,1",
  "--min-labeled",
  "4",
  "--test",
  "4",
  "--widths",
  "4,8",
  "--supervised-epochs",
  "2",
  "--seeds",
  "1",
  "--backend",
  "cpu",
];

Deno.test("baseline sweep: its supervised arms are the protocol's, and a finished arm is skipped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const code = await protocolMain([
      ...OPTIONS,
      "--quiet",
      "--run-name",
      "full",
      "--out",
      dir,
    ]);
    assert.equal(code, 0);
    const sweep = async () =>
      await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("../../bench/protocol_baseline_sweep.ts", import.meta.url).pathname,
          ...OPTIONS,
          "--run-name",
          "sweep",
          "--out",
          dir,
          "--report-dir",
          `${dir}/report`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
    const out = await sweep();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    for (const n of [4, 8]) {
      const read = async (run: string) =>
        JSON.parse(await Deno.readTextFile(`${dir}/${run}/seed-1/arms/supervised-${n}.json`));
      const [a, b] = [await read("full"), await read("sweep")];
      assert.deepEqual(b.losses, a.losses, `losses at ${n}`);
      assert.equal(b.accuracy, a.accuracy);
      assert.equal(b.cer, a.cer);
    }
    const report = JSON.parse(await Deno.readTextFile(`${dir}/report/sweep.json`));
    assert.deepEqual(report.labeledSizes, [4, 8]);
    assert.equal(report.arms.length, 2);
    // a second start runs nothing: every arm is read back
    const again = await sweep();
    assert.equal(again.code, 0);
    assert.match(new TextDecoder().decode(again.stderr), /n=8: finished earlier, skipped/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
