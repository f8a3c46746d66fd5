/**
 * One method-table row on Fashion-MNIST with one lever changed (views, widths, encoder features,
 * SimCLR's temperature), for bench/RESULTS.md "Fashion-MNIST views and encoder features": the
 * table's own `runMethodTable` (full 60k bank, 10k test set, kNN k 20 / 200 tau 0.1, linear
 * probe), SimCLR alone unless `methods` / `skipBaselines` say otherwise.
 *
 * ```sh
 * SELFSUP_THREADS=1 deno run -A bench/fashion_levers.ts '{"steps":1000,"views":{"fashion-mnist":"mnist"}}' out.json
 * SELFSUP_THREADS=1 deno run -A bench/fashion_levers.ts '{"steps":1000,"features":"map"}' out.json
 * SELFSUP_THREADS=1 deno run -A bench/fashion_levers.ts '{"steps":1000,"fashion":{"scale":[0.2,1]}}' out.json
 * ```
 *
 * The JSON takes `runMethodTable`'s options, plus `features` as one name for Fashion-MNIST and
 * `fashion` as `fashionAugment`'s options (custom views).
 *
 * @module
 */
import { runMethodTable } from "../eval/method_table.ts";
import { fashionAugment } from "../augment/mod.ts";
import { finishTableBench, startTableBench, timedLog } from "./_table_bench.ts";

const bench = await startTableBench("fashion_levers.json");
const { fashion, features, ...rest } = bench.opts;
if (features) rest.features = { "fashion-mnist": features };
const rows = await runMethodTable({
  datasets: ["fashion-mnist"],
  methods: ["simclr"],
  skipBaselines: true,
  seeds: [0],
  ...rest,
  ...(fashion
    ? {
      views: {
        "fashion-mnist": {
          name: `fashion ${JSON.stringify(fashion)}`,
          augment: fashionAugment(fashion),
        },
      },
    }
    : {}),
  log: timedLog,
});
await finishTableBench(bench, rows);
