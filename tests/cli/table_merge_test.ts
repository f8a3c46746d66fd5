import assert from "node:assert/strict";
import type { TableRow } from "../../eval/method_table.ts";
import { mergeMeta, mergeRows, tableMain } from "../../cli/table.ts";
import { UsageError } from "../../cli/_args.ts";
import { renderTableMarkdown } from "../../eval/table_report.ts";
import { assertUserError, captureMain } from "./_helpers.ts";

// `deno task table --from a.json,b.json`: one report from several, e.g. the solo-cifar methods
// and the paper-recipe ones, or seed 0 and seed 1 run side by side

const row = (method: string, seeds: number[], v: number, recipe?: string): TableRow => ({
  dataset: "fashion-mnist",
  method,
  kind: method === "raw pixels" ? "baseline" : "ssl",
  seeds,
  knn20: seeds.map(() => v),
  knn200: seeds.map(() => v),
  linear: seeds.map(() => v),
  trainSeconds: seeds.map(() => 1),
  finalLoss: seeds.map(() => 0.5),
  zStd: seeds.map(() => 0.1),
  ...(recipe ? { recipe } : {}),
});
const meta = (recipe: string, seeds = [0]) => ({
  command: `deno task table --recipe ${recipe}`,
  steps: 4000,
  batchSize: 64,
  seeds,
  probeEpochs: 10,
  recipe,
  widths: [16, 32, 64],
  views: { "fashion-mnist": "fashion" },
  features: { "fashion-mnist": "map" },
  backend: "native",
  date: "2026-12-03 13:10 UTC",
  load: "1.0 1.0 1.0",
});

Deno.test("table --from: reports of different recipes merge into meta that says so, each row keeps its own recipe line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/solo.json`,
      JSON.stringify({
        meta: meta("solo-cifar"),
        rows: [row("barlow-twins", [0], 0.86, "barlow-twins solo-cifar: LARS lr 0.3")],
      }),
    );
    await Deno.writeTextFile(
      `${dir}/paper.json`,
      JSON.stringify({
        meta: meta("default"),
        rows: [
          row("raw pixels", [0], 0.845),
          row("moco-v2", [0], 0.85, "moco-v2 paper: SGD lr 0.0075"),
        ],
      }),
    );
    const out = `${dir}/merged`;
    assert.equal(
      await tableMain(["--from", `${dir}/solo.json,${dir}/paper.json`, "--out", out]),
      0,
    );
    const json = JSON.parse(await Deno.readTextFile(`${out}.json`));
    // not the first report's "solo-cifar": moco-v2 was not trained with it
    assert.equal(
      json.meta.recipe,
      `mixed: solo-cifar (${dir}/solo.json), default (${dir}/paper.json)`,
    );
    const md = await Deno.readTextFile(`${out}.md`);
    assert.match(md, /- barlow-twins: barlow-twins solo-cifar: LARS lr 0\.3\n/);
    assert.match(md, /- moco-v2: moco-v2 paper: SGD lr 0\.0075\n/);
    // a merged report is not resumed as if it had one recipe
    const resume = await captureMain(tableMain, [
      "--datasets",
      "fashion-mnist",
      "--methods",
      "moco-v2",
      "--seeds",
      "1",
      "--steps",
      "4000",
      "--out",
      out,
      "--resume",
    ]);
    assertUserError(
      resume,
      /was made with recipe mixed: solo-cifar .*, this run has default/,
      "resume",
    );
    // one recipe: the merged report keeps it
    assert.equal(
      mergeMeta([{ path: "a", meta: meta("solo-cifar") }, {
        path: "b",
        meta: meta("solo-cifar", [1]),
      }]).recipe,
      "solo-cifar",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("table --from: seed 0 and seed 1 of one method in two reports become one row of both seeds", () => {
  const first = row("byol", [0], 0.86, "r");
  const rows = mergeRows([
    { path: "s0", rows: [row("raw pixels", [0], 0.845), first] },
    { path: "s1", rows: [row("byol", [1], 0.88, "r")] },
  ]);
  assert.deepEqual(rows.map((r) => r.method), ["raw pixels", "byol"]);
  assert.deepEqual(rows[1].seeds, [0, 1]);
  for (const key of ["knn20", "knn200", "linear"] as const) {
    assert.deepEqual(rows[1][key], [0.86, 0.88], key);
  }
  assert.deepEqual(rows[1].trainSeconds, [1, 1]);
  assert.deepEqual(rows[1].finalLoss, [0.5, 0.5]);
  assert.deepEqual(rows[1].zStd, [0.1, 0.1]);
  // the reports' own rows are left as they were
  assert.deepEqual(first.seeds, [0]);
  assert.deepEqual(first.zStd, [0.1]);
  const m = mergeMeta([{ path: "s0", meta: meta("solo-cifar") }, {
    path: "s1",
    meta: meta("solo-cifar", [1]),
  }]);
  assert.deepEqual(m.seeds, [0, 1]);
  // the same seed twice, one method's seeds with two recipes, two budgets: refused
  assert.throws(
    () =>
      mergeRows([{ path: "a", rows: [row("byol", [0], 0.8)] }, {
        path: "b",
        rows: [row("byol", [0], 0.9)],
      }]),
    (e) => e instanceof UsageError && /byol seed 0 is in both a and b/.test(e.message),
  );
  assert.throws(
    () =>
      mergeRows([{ path: "a", rows: [row("byol", [0], 0.8, "x")] }, {
        path: "b",
        rows: [row("byol", [1], 0.9, "y")],
      }]),
    UsageError,
  );
  assert.throws(
    () =>
      mergeMeta([{ path: "a", meta: meta("solo-cifar") }, {
        path: "b",
        meta: { ...meta("solo-cifar"), steps: 1000 },
      }]),
    (e) => e instanceof UsageError && /steps 4000, b has steps 1000/.test(e.message),
  );
  // notes of every report are kept
  const noted = mergeMeta([
    { path: "a", meta: { ...meta("default"), notes: { "fashion-mnist": { byol: "x" } } } },
    { path: "b", meta: { ...meta("default"), notes: { "fashion-mnist": { swav: "y" } } } },
  ]);
  assert.deepEqual(noted.notes, { "fashion-mnist": { byol: "x", swav: "y" } });
});

Deno.test("table --from: one method made with two recipes on two datasets lists both recipes, each with its dataset", () => {
  const mnist = {
    ...row("barlow-twins", [0], 0.9, "barlow-twins solo-cifar: LARS lr 0.3"),
    dataset: "mnist" as const,
  };
  const fashion = row("barlow-twins", [0], 0.86, "barlow-twins paper: LARS lr 0.05");
  const md = renderTableMarkdown(
    mergeRows([{ path: "a", rows: [mnist] }, { path: "b", rows: [fashion] }]),
    { ...meta("mixed"), views: { mnist: "mnist", "fashion-mnist": "fashion" } },
  );
  const recipes = md.slice(md.indexOf("Recipes (resolved at this budget):"));
  assert.match(recipes, /- barlow-twins \(mnist\): barlow-twins solo-cifar: LARS lr 0\.3\n/);
  assert.match(recipes, /- barlow-twins \(fashion-mnist\): barlow-twins paper: LARS lr 0\.05\n/);
  // one recipe on both datasets: one line, no dataset
  const same = renderTableMarkdown(
    [mnist, { ...fashion, recipe: mnist.recipe }],
    meta("solo-cifar"),
  );
  assert.match(same, /\n- barlow-twins: barlow-twins solo-cifar: LARS lr 0\.3\n/);
  assert.equal(same.match(/- barlow-twins/g)?.length, 1);
});
