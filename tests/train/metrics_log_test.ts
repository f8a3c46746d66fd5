/**
 * Issue 17: `MetricsLog` (train/metrics_log.ts), its mirror test, with no tensors: the exact
 * bytes `append` writes, `open` creating or emptying the file, a resume keeping the step records
 * below the checkpoint's step and the eval records at or below it (written out by hand), `read`
 * skipping blank and torn lines, returning nothing for a missing file and passing on any other
 * error. `train` writing the log is tested in `train_test.ts` and the resume tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import { MetricsLog } from "../../train/metrics_log.ts";

async function inTemp(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("MetricsLog: open creates an empty file, append writes one JSON line per record", () =>
  inTemp(async (dir) => {
    const path = `${dir}/metrics.jsonl`;
    const log = await MetricsLog.open(path);
    assert.equal(log.path, path);
    assert.equal(await Deno.readTextFile(path), "");
    assert.deepEqual(await log.read(), []);
    await log.append({ kind: "step", step: 0, epoch: 0, loss: 1.5, lr: 0.1 });
    await log.append({ kind: "eval", step: 1, epoch: 0, knnTop1: 0.25, note: "a" });
    assert.equal(
      await Deno.readTextFile(path),
      '{"kind":"step","step":0,"epoch":0,"loss":1.5,"lr":0.1}\n' +
        '{"kind":"eval","step":1,"epoch":0,"knnTop1":0.25,"note":"a"}\n',
    );
    assert.deepEqual(await log.read(), [
      { kind: "step", step: 0, epoch: 0, loss: 1.5, lr: 0.1 },
      { kind: "eval", step: 1, epoch: 0, knnTop1: 0.25, note: "a" },
    ]);
  }));

const LINES = [
  '{"kind":"step","step":0,"epoch":0}',
  '{"kind":"eval","step":1,"epoch":0}',
  '{"kind":"step","step":1,"epoch":0}',
  '{"kind":"step","step":2,"epoch":1}',
  '{"kind":"eval","step":2,"epoch":1}',
  '{"kind":"eval","step":3,"epoch":1}',
  '{"kind":"step","step":3,"epoch":1}',
];

Deno.test("MetricsLog: open without keepBefore empties an existing file", () =>
  inTemp(async (dir) => {
    const path = `${dir}/metrics.jsonl`;
    await Deno.writeTextFile(path, LINES.join("\n") + "\n");
    const log = await MetricsLog.open(path);
    assert.equal(await Deno.readTextFile(path), "");
    assert.deepEqual(await log.read(), []);
  }));

Deno.test("MetricsLog: a resume keeps steps below keepBefore and evals at or below it", () =>
  inTemp(async (dir) => {
    const path = `${dir}/metrics.jsonl`;
    await Deno.writeTextFile(path, LINES.join("\n") + "\n");
    await MetricsLog.open(path, { keepBefore: 2 });
    // steps 0 and 1, and the evaluations after 1 and 2 steps; the evaluation after 3 steps and
    // steps 2 and 3 were written after the checkpoint
    assert.equal(
      await Deno.readTextFile(path),
      [LINES[0], LINES[1], LINES[2], LINES[4]].map((l) => l + "\n").join(""),
    );
    await Deno.writeTextFile(path, LINES.join("\n") + "\n");
    await MetricsLog.open(path, { keepBefore: 0 });
    assert.equal(await Deno.readTextFile(path), "");
    await Deno.writeTextFile(path, '{"kind":"eval","step":0,"epoch":0}\n' + LINES[0] + "\n");
    await MetricsLog.open(path, { keepBefore: 0 });
    assert.equal(await Deno.readTextFile(path), '{"kind":"eval","step":0,"epoch":0}\n');
    // a resume of a run that left no log starts an empty one
    await MetricsLog.open(`${dir}/fresh.jsonl`, { keepBefore: 5 });
    assert.equal(await Deno.readTextFile(`${dir}/fresh.jsonl`), "");
  }));

Deno.test("MetricsLog.read: blank and torn lines are skipped; a missing file reads empty; other errors pass", () =>
  inTemp(async (dir) => {
    const path = `${dir}/metrics.jsonl`;
    const log = await MetricsLog.open(path);
    await Deno.writeTextFile(path, `\n${LINES[0]}\n   \n${LINES[2]}\n{"kind":"st`);
    assert.deepEqual(await log.read(), [
      { kind: "step", step: 0, epoch: 0 },
      { kind: "step", step: 1, epoch: 0 },
    ]);
    // the torn line is dropped by a resume as well
    await MetricsLog.open(path, { keepBefore: 9 });
    assert.equal(await Deno.readTextFile(path), `${LINES[0]}\n${LINES[2]}\n`);
    await Deno.remove(path);
    assert.deepEqual(await log.read(), []);
    await Deno.mkdir(path);
    await assert.rejects(() => log.read(), Deno.errors.IsADirectory);
  }));

Deno.test("MetricsLog.open without keepBefore never reads the old log (a fresh run needs only to write it)", () =>
  inTemp(async (dir) => {
    const path = `${dir}/metrics.jsonl`;
    await Deno.writeTextFile(path, LINES.join("\n") + "\n");
    const deno = Deno as unknown as { readTextFile: typeof Deno.readTextFile };
    const readTextFile = deno.readTextFile;
    const read: string[] = [];
    deno.readTextFile = (p) => {
      read.push(String(p));
      return Promise.reject(new Deno.errors.PermissionDenied(`read access to ${p}`));
    };
    try {
      await MetricsLog.open(path);
    } finally {
      deno.readTextFile = readTextFile;
    }
    assert.deepEqual(read, []);
    assert.equal(await Deno.readTextFile(path), "");
  }));
