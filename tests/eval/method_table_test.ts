import assert from "node:assert/strict";
import {
  TABLE_METHODS,
  tableMethodOptions,
  type TableRow,
  trainingCurve,
} from "../../eval/method_table.ts";
import { renderTableMarkdown } from "../../eval/table_report.ts";
import { tableMain } from "../../cli/table.ts";
import { createMethod, METHOD_NAMES } from "../../methods/mod.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

const row = (
  method: string,
  kind: TableRow["kind"],
  knn20: number[],
  linear = knn20,
): TableRow => ({
  dataset: "fashion-mnist",
  method,
  kind,
  seeds: knn20.map((_, i) => i),
  knn20,
  knn200: knn20,
  linear,
  trainSeconds: knn20.map(() => 0),
  finalLoss: knn20.map(() => NaN),
  zStd: knn20.map(() => NaN),
});
const META = {
  command: "deno task table --quick",
  steps: 100,
  batchSize: 64,
  seeds: [0, 1],
  backend: "native",
  date: "2026-12-01 03:00 UTC",
};

Deno.test("table report: mean ± std per row, the k=20 margin over raw pixels says no where a method does not beat them", () => {
  const md = renderTableMarkdown([
    row("raw pixels", "baseline", [0.845]),
    row("supervised", "baseline", [0.90, 0.92]),
    row("byol", "ssl", [0.86, 0.88], [0.89, 0.89]),
    row("simsiam", "ssl", [0.80, 0.82]),
    row("rotation", "pretext", [0.70, 0.70]),
  ], META);
  assert.match(md, /### Fashion-MNIST/);
  // mean 87.0, sample std 1.4
  assert.match(md, /\| byol \| 87\.0 ± 1\.4 \| 87\.0 ± 1\.4 \| 89\.0 ± 0\.0 \| \+2\.5 \(yes\)/);
  assert.match(md, /\| simsiam \| 81\.0 ± 1\.4 .*\| -3\.5 \(no\)/);
  assert.match(
    md,
    /Below raw pixels at k = 20 \(84\.5%\): simsiam \(1 of 2 SSL methods beat them\)/,
  );
  // best probe byol 89.0 vs supervised 91.0: 2.0 points behind
  assert.match(
    md,
    /Best linear probe: byol 89\.0 ± 0\.0% vs supervised 91\.0 ± 1\.4% \(2\.0 points behind: within 3\)/,
  );
  const all = renderTableMarkdown(
    [row("raw pixels", "baseline", [0.8]), row("byol", "ssl", [0.9])],
    META,
  );
  assert.match(all, /Every SSL method beats raw pixels/);
});

Deno.test("table report: notes in a last column, and the rows below raw pixels that no note explains are named", () => {
  const rows = [
    row("raw pixels", "baseline", [0.845]),
    row("byol", "ssl", [0.81]),
    row("swav", "ssl", [0.83]),
    row("simclr", "ssl", [0.85]),
  ];
  const notes = { "fashion-mnist": { byol: "budget | see RESULTS.md" }, mnist: { swav: "x" } };
  const md = renderTableMarkdown(rows, { ...META, seeds: [0], notes });
  assert.match(md, /\| Method \|.*\| zStd \| Note \|\n\|---\|.*\|---:\|---\|\n/);
  // the note's own "|" does not split the cell; rows without a note have an empty one
  assert.match(
    md,
    /\| byol \| 81\.0 .*\| -3\.5 \(no\) \| {2}\| {2}\| budget \\\| see RESULTS\.md \|\n/,
  );
  assert.match(md, /\| swav \| 83\.0 .*\| -1\.5 \(no\) \| {2}\| {2}\| {2}\|\n/);
  // another dataset's note is not this one's
  assert.match(md, /\(1 of 3 SSL methods beat them\) \(only .*\); no note for swav\.\n/);
  const both = renderTableMarkdown(rows, {
    ...META,
    seeds: [0],
    notes: { "fashion-mnist": { byol: "budget", swav: "recipe" } },
  });
  assert.match(
    both,
    /\(1 of 3 SSL methods beat them\) \(only .*\); each has a note in the Note column\.\n/,
  );
  // no notes: no column, and the verdict as before
  const plain = renderTableMarkdown(rows, { ...META, seeds: [0] });
  assert.doesNotMatch(plain, /Note/);
  assert.match(plain, /\| zStd \|\n/);
  assert.match(plain, /\(1 of 3 SSL methods beat them\) \(only [^;]*\)\.\n/);
});

Deno.test("deno task table --notes: the notes go into the report and its JSON, a later --from keeps them, a bad file exits 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rows = [row("raw pixels", "baseline", [0.845]), row("byol", "ssl", [0.81])];
    await Deno.writeTextFile(
      `${dir}/t.json`,
      JSON.stringify({ meta: { ...META, seeds: [0] }, rows }),
    );
    await Deno.writeTextFile(
      `${dir}/notes.json`,
      JSON.stringify({ "fashion-mnist": { byol: "budget (RESULTS.md)" } }),
    );
    const args = ["--from", `${dir}/t.json`, "--out", `${dir}/t`];
    assert.equal(await tableMain([...args, "--notes", `${dir}/notes.json`]), 0);
    const md = await Deno.readTextFile(`${dir}/t.md`);
    assert.match(md, /\| byol \| 81\.0 .*\| budget \(RESULTS\.md\) \|/);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/t.json`));
    assert.deepEqual(json.meta.notes, { "fashion-mnist": { byol: "budget (RESULTS.md)" } });
    // re-rendered without --notes: the report's own notes stay
    assert.equal(await tableMain(args), 0);
    assert.match(await Deno.readTextFile(`${dir}/t.md`), /\| budget \(RESULTS\.md\) \|/);
    // a resumed run (here with every seed read back) keeps them too
    const resumed = {
      ...json.meta,
      recipe: "default",
      probeEpochs: 10,
      widths: [16, 32, 64],
      views: { "fashion-mnist": "fashion" },
      features: { "fashion-mnist": "map" },
    };
    await Deno.writeTextFile(`${dir}/t.json`, JSON.stringify({ meta: resumed, rows }));
    const resume = [
      "--datasets",
      "fashion-mnist",
      "--methods",
      "byol",
      "--seeds",
      "1",
      "--no-baselines",
    ];
    assert.equal(
      await tableMain([...resume, "--steps", "100", "--out", `${dir}/t`, "--resume"]),
      0,
    );
    assert.deepEqual(
      JSON.parse(await Deno.readTextFile(`${dir}/t.json`)).meta.notes,
      json.meta.notes,
    );
    assert.match(await Deno.readTextFile(`${dir}/t.md`), /\| budget \(RESULTS\.md\) \|/);
    for (
      const bad of [
        "not json",
        JSON.stringify(["budget"]),
        JSON.stringify({ cifar: { byol: "budget" } }),
        JSON.stringify({ "fashion-mnist": { byol: 3 } }),
        JSON.stringify({ "fashion-mnist": { byol: "two\nlines" } }),
      ]
    ) {
      await Deno.writeTextFile(`${dir}/bad.json`, bad);
      assert.equal(await tableMain([...args, "--notes", `${dir}/bad.json`]), 2, bad);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("table: every table method exists, and the small-encoder adaptations build", () => {
  for (const m of TABLE_METHODS) assert.ok(METHOD_NAMES.includes(m), m);
  assert.deepEqual(tableMethodOptions("swav", 1000), {
    preset: "small",
    freezePrototypesIterations: 5,
  });
  for (const m of ["barlow-twins", "vicreg", "moco-v2", "swav"]) {
    const s = createMethod(m, {
      encoder: "convnet",
      inputShape: [28, 28, 1],
      seed: 0,
      widths: [4],
      ...tableMethodOptions(m, 100),
    });
    assert.equal(s.method.name, m);
  }
});

Deno.test("table: a pretraining's course in stretches of equal length, the remainder in the last", () => {
  const history = Array.from({ length: 45 }, (_, i) => ({ loss: i, zStd: 2 * i, lr: 100 + i }));
  const curve = trainingCurve(history, 4);
  // stretches of 11 steps: 0-10, 11-21, 22-32, then 33-44 (12 steps)
  assert.deepEqual(curve.map((p) => p.step), [11, 22, 33, 45]);
  assert.deepEqual(curve.map((p) => p.loss), [5, 16, 27, 38.5]);
  assert.deepEqual(curve.map((p) => p.zStd), [10, 32, 54, 77]);
  assert.deepEqual(curve.map((p) => p.lr), [110, 121, 132, 144]);
  // shorter than the points asked: one point per step; no zStd logged: none in the points
  assert.deepEqual(trainingCurve([{ loss: 1, lr: 0.1 }, { loss: 3, lr: 0.2 }], 20), [
    { step: 1, loss: 1, lr: 0.1 },
    { step: 2, loss: 3, lr: 0.2 },
  ]);
  assert.deepEqual(trainingCurve([], 20), []);
  // a pretext task's accuracy is kept, as a mean over the stretch
  assert.deepEqual(
    trainingCurve([{ loss: 1, lr: 0.1, top1: 0.25 }, { loss: 3, lr: 0.2, top1: 0.75 }], 1),
    [{ step: 2, loss: 2, lr: 0.2, top1: 0.5 }],
  );
});

Deno.test("deno task table rejects unknown methods and datasets (exit code 2)", async () => {
  assert.equal(await tableMain(["--methods", "simclr,bogus"]), 2);
  assert.equal(await tableMain(["--datasets", "cifar"]), 2);
  assert.equal(await tableMain(["--steps", "0"]), 2);
});
