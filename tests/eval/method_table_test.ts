import assert from "node:assert/strict";
import { TABLE_METHODS, tableMethodOptions, type TableRow } from "../../eval/method_table.ts";
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

Deno.test("deno task table rejects unknown methods and datasets (exit code 2)", async () => {
  assert.equal(await tableMain(["--methods", "simclr,bogus"]), 2);
  assert.equal(await tableMain(["--datasets", "cifar"]), 2);
  assert.equal(await tableMain(["--steps", "0"]), 2);
});
