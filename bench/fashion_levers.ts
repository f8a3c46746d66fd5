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
import { useBackend } from "../backend/use_backend.ts";
import { runMethodTable } from "../eval/method_table.ts";
import { fashionAugment } from "../augment/mod.ts";

const opts = JSON.parse(Deno.args[0] ?? "{}");
const out = Deno.args[1] ?? "fashion_levers.json";
await useBackend("native", { quiet: true });
const loadavg = async () => (await Deno.readTextFile("/proc/loadavg")).trim();
const load0 = await loadavg();
const t0 = performance.now();
const { fashion, features, ...rest } = opts;
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
  log: (l) => console.error(new Date().toISOString().slice(11, 19), l),
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
    } train s ${r.trainSeconds.map((v) => v.toFixed(0)).join(",")} total s ${
      res.seconds.toFixed(0)
    } load ${load0} | ${load1}`,
  );
}
