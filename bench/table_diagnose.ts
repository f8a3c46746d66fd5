/**
 * One Fashion-MNIST method-table row (the table's own `runMethodTable`, so the same seed trains
 * the same run as `deno task table`), printed with its course: loss, zStd and lr in 20 stretches
 * of the pretraining (`TableRow.curves`). For bench/RESULTS.md "Issue 11, fourth session": why a
 * method's seed ends below raw pixels.
 *
 * ```sh
 * SELFSUP_THREADS=1 deno run -A bench/table_diagnose.ts '{"methods":["simsiam"],"seeds":[2]}' out.json
 * # a cheaper read-out for curves only: the first 1000 test images, one probe epoch
 * SELFSUP_THREADS=1 deno run -A bench/table_diagnose.ts '{"methods":["byol"],"seeds":[2],"testLimit":1000,"probeEpochs":1}' out.json
 * ```
 *
 * The JSON takes `runMethodTable`'s options (steps default 1000, no baselines), plus `testLimit`:
 * score on the first n test images only (the kNN bank stays the 60k).
 *
 * @module
 */
import { useBackend } from "../backend/use_backend.ts";
import { runMethodTable } from "../eval/method_table.ts";
import { fashionMnist } from "../data/mod.ts";
import { inMemoryDataset } from "../data/in_memory.ts";

const opts = JSON.parse(Deno.args[0] ?? "{}");
const out = Deno.args[1] ?? "table_diagnose.json";
await useBackend("native", { quiet: true });
const loadavg = async () => (await Deno.readTextFile("/proc/loadavg")).trim();
const load0 = await loadavg();
const t0 = performance.now();
const { testLimit, ...rest } = opts;
const rows = await runMethodTable({
  datasets: ["fashion-mnist"],
  steps: 1000,
  skipBaselines: true,
  seeds: [0],
  ...rest,
  loadDataset: async (_d, split) => {
    const ds = await fashionMnist(split);
    if (split === "train" || !testLimit) return ds;
    const [h, w, c] = ds.shape;
    return inMemoryDataset(
      "fashion-mnist test (first " + testLimit + ")",
      ds.images.slice(0, testLimit * h * w * c),
      ds.labels.slice(0, testLimit),
      ds.shape,
      10,
    );
  },
  log: (l) => console.error(new Date().toISOString().slice(11, 19), l),
  // every seed as it lands, so a stopped run keeps what it did
  onRow: (_row, all) => Deno.writeTextFile(out, JSON.stringify({ opts, rows: all }, null, 1)),
});
const load1 = await loadavg();
const res = { opts, rows, seconds: (performance.now() - t0) / 1000, load0, load1 };
await Deno.writeTextFile(out, JSON.stringify(res, null, 1));
const pct = (v: number[]) => v.map((x) => (100 * x).toFixed(1)).join(",");
for (const r of rows) {
  console.log(
    JSON.stringify(opts),
    r.method,
    `seeds ${r.seeds.join(",")} knn20 ${pct(r.knn20)} knn200 ${pct(r.knn200)} linear ${
      pct(r.linear)
    } final loss ${r.finalLoss.map((v) => v.toFixed(3)).join(",")} zStd ${
      r.zStd.map((v) => v.toFixed(4)).join(",")
    } train s ${r.trainSeconds.map((v) => v.toFixed(0)).join(",")} total s ${
      res.seconds.toFixed(0)
    } load ${load0} | ${load1}`,
  );
  r.curves?.forEach((curve, i) => {
    console.log(`  seed ${r.seeds[i]}: step loss zStd lr`);
    for (const p of curve ?? []) {
      console.log(
        `    ${p.step} ${p.loss.toFixed(4)} ${p.zStd?.toFixed(4) ?? ""} ${p.lr.toPrecision(3)}`,
      );
    }
  });
}
