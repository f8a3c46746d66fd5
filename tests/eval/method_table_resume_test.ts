import assert from "node:assert/strict";
import { runMethodTable, type TableDataset, type TableRow } from "../../eval/method_table.ts";
import { inTableOrder, tableMain } from "../../cli/table.ts";
import { renderTableMarkdown } from "../../eval/table_report.ts";
import { setupBackend } from "../_utils.ts";
import { tinyPatternSet } from "./_tiny_sets.ts";
import { oldTableMeta } from "./_table_meta.ts";

await setupBackend();

// A small stand-in for the 60k/10k sets: 256 + 64 noisy images of 10 classes (the kNN's k = 200
// needs a bank of at least 200), so a whole table of 2 steps per row runs in seconds.
const TRAIN = tinyPatternSet(256, 1), TEST = tinyPatternSet(64, 2);

async function run(seeds: number[], previous?: TableRow[], stopAfter?: (r: TableRow) => boolean) {
  const lines: string[] = [];
  const loads: string[] = [];
  let snapshot: TableRow[] = [];
  let rows: TableRow[] | undefined;
  try {
    rows = await runMethodTable({
      datasets: ["fashion-mnist"],
      methods: ["simclr"],
      steps: 2,
      seeds,
      widths: [4, 4, 4],
      probeEpochs: 1,
      ...(previous ? { previous } : {}),
      loadDataset: (d: TableDataset, split) => {
        loads.push(`${d} ${split}`);
        return Promise.resolve(split === "train" ? TRAIN : TEST);
      },
      log: (line) => lines.push(line),
      onRow: (row, all) => {
        // what the CLI writes after every seed: a JSON copy of every row so far
        snapshot = JSON.parse(JSON.stringify(all));
        if (stopAfter?.(row)) throw new Error("killed");
      },
    });
  } catch (e) {
    if ((e as Error).message !== "killed") throw e;
  }
  return { rows, lines, loads, snapshot };
}

const ran = (lines: string[]) =>
  lines.filter((l) => / seed \d+: (pretraining|training)/.test(l)).map((l) =>
    l.replace(/: (pre)?training.*/, "")
  );

Deno.test("method table resumes: a killed run continues at the seed where it stopped, rows done are read back", async () => {
  // killed after simclr's first seed (its report holds every baseline and simclr seed 0)
  const killed = await run([0, 1], undefined, (r) => r.method === "simclr" && r.seeds.length === 1);
  assert.equal(killed.rows, undefined);
  const simclr0 = killed.snapshot.find((r) => r.method === "simclr")!;
  assert.deepEqual(simclr0.seeds, [0]);
  assert.deepEqual(ran(killed.lines), [
    "fashion-mnist supervised seed 0",
    "fashion-mnist supervised seed 1",
    "fashion-mnist simclr seed 0",
  ]);

  // resumed from that report: only simclr seed 1 trains; the rest is read back unchanged
  const resumed = await run([0, 1], killed.snapshot);
  assert.deepEqual(ran(resumed.lines), ["fashion-mnist simclr seed 1"]);
  const rows = resumed.rows!;
  assert.deepEqual(rows.map((r) => r.method), [
    "raw pixels",
    "random init",
    "supervised",
    "simclr",
  ]);
  for (const r of rows) {
    const before = killed.snapshot.find((b) => b.method === r.method)!;
    const n = before.seeds.length;
    assert.deepEqual(r.seeds.slice(0, n), before.seeds, r.method);
    assert.deepEqual(r.knn20.slice(0, n), before.knn20, r.method);
    assert.deepEqual(r.linear.slice(0, n), before.linear, r.method);
  }
  assert.deepEqual(rows.find((r) => r.method === "simclr")!.seeds, [0, 1]);
  assert.ok(rows.find((r) => r.method === "simclr")!.recipe?.includes("sgd"));
  // each trained seed keeps its course (2 steps: 2 points), the one read back unchanged
  const curves = rows.find((r) => r.method === "simclr")!.curves!;
  assert.deepEqual(curves[0], simclr0.curves![0]);
  assert.deepEqual(curves.map((c) => c?.map((p) => p.step)), [[1, 2], [1, 2]]);
  assert.ok(curves.every((c) => c!.every((p) => Number.isFinite(p.loss) && p.zStd! > 0)));
  assert.equal(rows.find((r) => r.method === "raw pixels")!.curves, undefined);
  assert.equal(rows.find((r) => r.method === "supervised")!.curves?.length, 2);

  // resumed with a third seed and killed again after supervised seed 2: the report still holds
  // every row read back, including those after the kill point (simclr seeds 0 and 1)
  const third = await run(
    [0, 1, 2],
    JSON.parse(JSON.stringify(rows)),
    (r) => r.method === "supervised" && r.seeds.length === 3,
  );
  assert.deepEqual(ran(third.lines), ["fashion-mnist supervised seed 2"]);
  assert.deepEqual(third.snapshot.find((r) => r.method === "simclr")?.seeds, [0, 1]);

  // everything done: nothing trains and the data are not even loaded
  const again = await run([0, 1], JSON.parse(JSON.stringify(rows)));
  assert.deepEqual(ran(again.lines), []);
  assert.deepEqual(again.loads, []);
  assert.deepEqual(again.rows!.map((r) => r.knn20), rows.map((r) => r.knn20));
});

Deno.test("method table resumed with fewer seeds than its report keeps every seed read back", async () => {
  const full = await run([0, 1]);
  const fewer = await run([0], JSON.parse(JSON.stringify(full.rows)));
  assert.deepEqual(ran(fewer.lines), []);
  for (const r of fewer.rows!) {
    const before = full.rows!.find((b) => b.method === r.method)!;
    assert.deepEqual(r.seeds, before.seeds, r.method);
    assert.deepEqual(r.knn20, before.knn20, r.method);
  }
  assert.deepEqual(fewer.rows!.find((r) => r.method === "simclr")!.seeds, [0, 1]);
  // and what the CLI writes after every seed holds them too
  assert.deepEqual(fewer.snapshot.find((r) => r.method === "supervised")!.seeds, [0, 1]);
});

Deno.test("a resumed --methods run's report is in table order (its own rows first in the run)", () => {
  const row = (dataset: TableDataset, method: string, kind: TableRow["kind"]): TableRow => ({
    dataset,
    method,
    kind,
    seeds: [0],
    knn20: [0.9],
    knn200: [0.9],
    linear: [0.9],
    trainSeconds: [1],
    finalLoss: [NaN],
    zStd: [NaN],
  });
  // what runMethodTable hands onRow after `--resume --methods vicreg` on a report of other rows
  const got = inTableOrder([
    row("fashion-mnist", "vicreg", "ssl"),
    row("fashion-mnist", "raw pixels", "baseline"),
    row("fashion-mnist", "random init", "baseline"),
    row("fashion-mnist", "supervised", "baseline"),
    row("fashion-mnist", "rotation", "pretext"),
    row("fashion-mnist", "simclr", "ssl"),
    row("mnist", "simclr", "ssl"),
    row("mnist", "raw pixels", "baseline"),
  ]).map((r) => `${r.dataset} ${r.method}`);
  assert.deepEqual(got, [
    "mnist raw pixels",
    "mnist simclr",
    "fashion-mnist raw pixels",
    "fashion-mnist random init",
    "fashion-mnist supervised",
    "fashion-mnist simclr",
    "fashion-mnist vicreg",
    "fashion-mnist rotation",
  ]);
});

Deno.test("deno task table --resume refuses a report made with another budget (exit code 2)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const meta = oldTableMeta();
    await Deno.writeTextFile(`${dir}/t.json`, JSON.stringify({ meta, rows: [] }));
    assert.equal(await tableMain(["--steps", "7", "--out", `${dir}/t`, "--resume"]), 2);
    assert.equal(
      await tableMain(["--steps", "5", "--probe-epochs", "3", "--out", `${dir}/t`, "--resume"]),
      2,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("table report: a row of a stopped table says how many of the seeds it holds", () => {
  const row = (method: string, seeds: number[]): TableRow => ({
    dataset: "mnist",
    method,
    kind: method === "raw pixels" ? "baseline" : "ssl",
    seeds,
    knn20: seeds.map(() => 0.9),
    knn200: seeds.map(() => 0.9),
    linear: seeds.map(() => 0.9),
    trainSeconds: seeds.map(() => 1),
    finalLoss: seeds.map(() => NaN),
    zStd: seeds.map(() => NaN),
  });
  const md = renderTableMarkdown(
    [row("raw pixels", [0]), row("simclr", [0, 1, 2]), row("byol", [0])],
    { command: "", steps: 1, batchSize: 64, seeds: [0, 1, 2], backend: "cpu", date: "" },
  );
  assert.match(md, /\| raw pixels \| 90\.0 /);
  assert.match(md, /\| simclr \| 90\.0 ± 0\.0 /);
  assert.match(md, /\| byol \(1 of 3 seeds\) \| 90\.0 /);
});

Deno.test("method table: progress shows each training's steps with an ETA", async () => {
  const text: string[] = [];
  await runMethodTable({
    datasets: ["fashion-mnist"],
    methods: ["simclr"],
    steps: 4,
    seeds: [0],
    widths: [4, 4, 4],
    probeEpochs: 1,
    skipBaselines: true,
    loadDataset: (_d: TableDataset, split) => Promise.resolve(split === "train" ? TRAIN : TEST),
    progress: (t) => text.push(t),
  });
  // train()'s display: plain lines ("step 4/4 ...") or, on a terminal, a bar ("[###] 4/4 ...")
  assert.match(text.join(""), /\b4\/4 .*loss \S+.* ETA \S+/);
});
