import assert from "node:assert/strict";
import { runMethodTable, type TableDataset, type TableRow } from "../../eval/method_table.ts";
import { mergeRows } from "../../cli/table.ts";
import { UsageError } from "../../cli/_args.ts";
import { setupBackend } from "../_utils.ts";
import { tinyPatternSet } from "./_tiny_sets.ts";

await setupBackend();

// One rule adds seeds to a table row: `runMethodTable` adds each seed it runs to the row it read
// back from `previous` (--resume), and `deno task table --from` merges reports' rows. Both paths
// must give the same row from the same seeds.

const TRAIN = tinyPatternSet(256, 1), TEST = tinyPatternSet(64, 2);

async function simclr(seeds: number[], previous?: TableRow[]) {
  const lines: string[] = [];
  const rows = await runMethodTable({
    datasets: ["fashion-mnist"],
    methods: ["simclr"],
    steps: 2,
    seeds,
    widths: [4, 4, 4],
    probeEpochs: 1,
    skipBaselines: true,
    ...(previous ? { previous } : {}),
    loadDataset: (_d: TableDataset, split) => Promise.resolve(split === "train" ? TRAIN : TEST),
    log: (line) => lines.push(line),
  });
  const trained = lines.filter((l) => / seed \d+: pretraining/.test(l)).map((l) =>
    Number(l.match(/ seed (\d+):/)![1])
  );
  return { row: rows.find((r) => r.method === "simclr")!, trained };
}

/** Seed `i` of a row as a row of its own (its course too, where the row keeps courses). */
function seedOf(row: TableRow, i: number): TableRow {
  const one = <T>(v: T[]) => [v[i]];
  const { curves, ...rest } = row;
  return {
    ...rest,
    seeds: one(row.seeds),
    knn20: one(row.knn20),
    knn200: one(row.knn200),
    linear: one(row.linear),
    trainSeconds: one(row.trainSeconds),
    finalLoss: one(row.finalLoss),
    zStd: one(row.zStd),
    ...(curves ? { curves: one(curves) } : {}),
  };
}

Deno.test("table rows: a resumed run and --from give the same row from the same seeds", async () => {
  // seed 0 read back from a report made before courses were kept (no `curves`), its figures
  // marked so that no value of seed 1 can pass for them
  const first = await simclr([0]);
  const { curves: _, ...ran } = first.row;
  const old: TableRow = {
    ...ran,
    knn20: [0.125],
    knn200: [0.25],
    linear: [0.375],
    trainSeconds: [1234],
    finalLoss: [5.5],
    zStd: [0.0625],
  };
  const resumed = await simclr([0, 1], [JSON.parse(JSON.stringify(old))]);
  assert.deepEqual(resumed.trained, [1]);
  const row = resumed.row;
  // the resume path: seed 0 as read back, then seed 1 as it ran, under the one recipe
  assert.deepEqual(row.seeds, [0, 1]);
  for (const key of ["knn20", "knn200", "linear", "trainSeconds", "finalLoss", "zStd"] as const) {
    assert.equal(row[key].length, 2, key);
    assert.equal(row[key][0], old[key][0], key);
  }
  assert.equal(row.recipe, old.recipe);
  assert.match(row.recipe ?? "", /, views fashion$/);
  assert.equal(row.curves?.length, 2);
  assert.equal(row.curves![0], null);
  assert.deepEqual(row.curves![1]!.map((p) => p.step), [1, 2]);
  assert.equal(row.error, undefined);
  // the merge path: the report of seed 0 and one of seed 1 give that same row
  const merged = mergeRows([
    { path: "seed0.json", rows: [JSON.parse(JSON.stringify(old))] },
    { path: "seed1.json", rows: [seedOf(row, 1)] },
  ]);
  assert.deepEqual(merged, [row]);
  // and the other way round: seed 1's report first puts seed 1 first
  const [back] = mergeRows([
    { path: "seed1.json", rows: [seedOf(row, 1)] },
    { path: "seed0.json", rows: [old] },
  ]);
  assert.deepEqual(back.seeds, [1, 0]);
  assert.deepEqual(back.curves, [row.curves![1], null]);
  assert.deepEqual(back.linear, [row.linear[1], row.linear[0]]);
});

Deno.test("table resume: a row read back with another recipe takes no new seed, as --from refuses to merge it", async () => {
  const first = await simclr([0]);
  const other = { ...first.row, recipe: "simclr paper: LARS lr 4.8, views fashion" };
  // --from refuses to put seeds of two recipes in one row ...
  assert.throws(
    () =>
      mergeRows([{ path: "a", rows: [other] }, {
        path: "b",
        rows: [{ ...first.row, seeds: [1] }],
      }]),
    (e) => e instanceof UsageError && /another recipe/.test(e.message),
  );
  // ... and so does a resume: seed 1 is not trained into the row, whose recipe line stays true
  const resumed = await simclr([0, 1], [other]);
  assert.deepEqual(resumed.trained, []);
  assert.deepEqual(resumed.row.seeds, [0]);
  assert.equal(resumed.row.recipe, other.recipe);
  assert.match(resumed.row.error ?? "", /^seed 1: .*another recipe/);
});

Deno.test("table: a seed given twice is refused before anything runs, as --from refuses a seed in two reports", async () => {
  await assert.rejects(
    () => simclr([0, 0]),
    (e) => e instanceof RangeError && /seeds must differ, received 0, 0/.test(e.message),
  );
});

Deno.test("table --from: a merged row keeps one course per seed (none where no seed has one) and every error", () => {
  const r = (seeds: number[], curves?: TableRow["curves"]): TableRow => ({
    dataset: "mnist",
    method: "byol",
    kind: "ssl",
    seeds,
    knn20: seeds.map(() => 0.9),
    knn200: seeds.map(() => 0.9),
    linear: seeds.map(() => 0.9),
    trainSeconds: seeds.map(() => 1),
    finalLoss: seeds.map(() => 0.5),
    zStd: seeds.map(() => 0.1),
    ...(curves ? { curves } : {}),
  });
  const point = { step: 1, loss: 1, lr: 0.1 };
  // a report's seed 0 with a null course, another's seed 1 without: two seeds, no course
  const [none] = mergeRows([{ path: "a", rows: [r([0], [null])] }, { path: "b", rows: [r([1])] }]);
  assert.deepEqual(none.seeds, [0, 1]);
  assert.ok(none.curves === undefined || none.curves.length === 2, "one course per seed");
  const [some] = mergeRows([
    { path: "a", rows: [r([0], [null])] },
    { path: "b", rows: [r([1])] },
    { path: "c", rows: [r([2], [[point]])] },
  ]);
  assert.deepEqual(some.curves, [null, null, [point]]);
  // and both reports' errors
  const [failed] = mergeRows([
    { path: "a", rows: [{ ...r([0]), error: "seed 1: x" }] },
    { path: "b", rows: [{ ...r([2]), error: "seed 3: y" }] },
  ]);
  assert.equal(failed.error, "seed 1: x; seed 3: y");
});
