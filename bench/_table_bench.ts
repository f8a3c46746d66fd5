/**
 * The run-and-report frame that bench/table_diagnose.ts and bench/fashion_levers.ts share: JSON
 * options and the output path from the command line, the native backend, the load average
 * before and after, the result JSON (`{ opts, rows, seconds, load0, load1 }`) and one summary
 * line per row on stdout.
 *
 * @module
 */
import { useBackend } from "../backend/use_backend.ts";
import type { TableRow } from "../eval/method_table.ts";

/** A bench run under way: its options, output path, and the load and time at its start. */
export interface TableBench {
  // deno-lint-ignore no-explicit-any
  opts: any;
  out: string;
  load0: string;
  t0: number;
}

/** `/proc/loadavg`, trimmed. */
export const loadavg = async (): Promise<string> =>
  (await Deno.readTextFile("/proc/loadavg")).trim();

/** A progress line on stderr, prefixed with the UTC time. */
export const timedLog = (line: string): void =>
  console.error(new Date().toISOString().slice(11, 19), line);

/** Reads `<json> [out]` from the command line, selects the native backend, notes load and time. */
export async function startTableBench(defaultOut: string): Promise<TableBench> {
  const opts = JSON.parse(Deno.args[0] ?? "{}");
  const out = Deno.args[1] ?? defaultOut;
  await useBackend("native", { quiet: true });
  return { opts, out, load0: await loadavg(), t0: performance.now() };
}

/**
 * Writes the result JSON and prints one line per row: options, method, seeds, kNN k 20 / 200 and
 * linear accuracy per seed, then `fields(row)` (e.g. final loss and zStd), train seconds, total
 * seconds, load before | after; `after(row)` runs after each row's line (e.g. to print its curves).
 */
export async function finishTableBench(
  bench: TableBench,
  rows: TableRow[],
  fields: (row: TableRow) => string = () => "",
  after: (row: TableRow) => void = () => {},
): Promise<{ seconds: number; load1: string }> {
  const { opts, out, load0, t0 } = bench;
  const load1 = await loadavg();
  const res = { opts, rows, seconds: (performance.now() - t0) / 1000, load0, load1 };
  await Deno.writeTextFile(out, JSON.stringify(res, null, 1));
  for (const r of rows) {
    console.log(
      JSON.stringify(opts),
      r.method,
      `seeds ${r.seeds.join(",")} knn20 ${pct(r.knn20)} knn200 ${pct(r.knn200)} linear ${
        pct(r.linear)
      }${fields(r)} train s ${r.trainSeconds.map((v) => v.toFixed(0)).join(",")} total s ${
        res.seconds.toFixed(0)
      } load ${load0} | ${load1}`,
    );
    after(r);
  }
  return { seconds: res.seconds, load1 };
}

/** Accuracies as percentages with one decimal, comma-separated. */
export const pct = (v: number[]): string => v.map((x) => (100 * x).toFixed(1)).join(",");
