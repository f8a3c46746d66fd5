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
 * # keep every trained encoder (dir/<dataset>-<method>-s<seed>/model.json) for bench/knn_variants.ts
 * SELFSUP_THREADS=1 deno run -A bench/table_diagnose.ts '{"methods":["barlow-twins"],"saveEncoders":"/tmp/enc"}' out.json
 * ```
 *
 * The JSON takes `runMethodTable`'s options (steps default 1000, no baselines), plus `testLimit`:
 * score on the first n test images only (the kNN bank stays the 60k), and `saveEncoders`: a
 * folder to export each trained encoder to (`exportEncoder`).
 *
 * @module
 */
import { runMethodTable } from "../eval/method_table.ts";
import { exportEncoder } from "../eval/export_encoder.ts";
import { fashionMnist } from "../data/mod.ts";
import { inMemoryDataset } from "../data/in_memory.ts";
import { finishTableBench, startTableBench, timedLog } from "./_table_bench.ts";

const bench = await startTableBench("table_diagnose.json");
const { opts, out } = bench;
const { testLimit, saveEncoders, ...rest } = opts;
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
  log: timedLog,
  // every seed as it lands, so a stopped run keeps what it did
  onRow: (_row, all) => Deno.writeTextFile(out, JSON.stringify({ opts, rows: all }, null, 1)),
  ...(saveEncoders
    ? {
      onEncoder: async (encoder, { dataset, method, seed }) => {
        const dir = `${saveEncoders}/${dataset}-${method.replaceAll(" ", "-")}-s${seed}`;
        await exportEncoder(encoder, dir);
        timedLog(`encoder saved to ${dir}`);
      },
    }
    : {}),
});
await finishTableBench(
  bench,
  rows,
  (r) =>
    ` final loss ${r.finalLoss.map((v) => v.toFixed(3)).join(",")} zStd ${
      r.zStd.map((v) => v.toFixed(4)).join(",")
    }`,
  (r) =>
    r.curves?.forEach((curve, i) => {
      console.log(`  seed ${r.seeds[i]}: step loss zStd lr`);
      for (const p of curve ?? []) {
        console.log(
          `    ${p.step} ${p.loss.toFixed(4)} ${p.zStd?.toFixed(4) ?? ""} ${p.lr.toPrecision(3)}`,
        );
      }
    }),
);
