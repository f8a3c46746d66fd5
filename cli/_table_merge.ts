/**
 * `deno task table --from a.json,b.json`: merging reports written by earlier runs (one method's
 * seeds split over two reports, a paper-recipe report beside a solo-cifar one) into one report,
 * and the table's row order. Kept apart from cli/table.ts so that each file stays readable.
 *
 * @module
 */
import { joinSeeds, TABLE_DATASETS, TABLE_METHODS, type TableRow } from "../eval/method_table.ts";
import type { TableReportMeta } from "../eval/table_report.ts";
import { UsageError } from "./_args.ts";

/**
 * The rows of several reports as one report's: rows of the same dataset and method (e.g. seed 0
 * in one report, seed 1 in another) become one row holding every seed, by the rule a resumed run
 * adds its seeds by (`joinSeeds`); a seed that two reports both hold, or rows of one method made
 * with different recipes, are a {@linkcode UsageError} (the merged row could not say which it
 * shows).
 *
 * @param reports the reports' rows, with the path each came from (for the error)
 * @returns the merged rows, in the order they first appear; the reports' rows are left as they were
 */
export function mergeRows(reports: { path: string; rows: TableRow[] }[]): TableRow[] {
  const merged: TableRow[] = [];
  // the report each merged row first came from
  const from: string[] = [];
  for (const { path, rows } of reports) {
    for (const r of rows) {
      const i = merged.findIndex((m) => m.dataset === r.dataset && m.method === r.method);
      if (i < 0) {
        merged.push(r);
        from.push(path);
        continue;
      }
      try {
        merged[i] = joinSeeds(merged[i], r, { names: [from[i], path] });
      } catch (e) {
        if (e instanceof RangeError) throw new UsageError(`--from: ${e.message}`);
        throw e;
      }
    }
  }
  return merged;
}

/**
 * The meta of reports merged with `--from`: every seed any of them holds, each report's command,
 * load and date, their notes, and the recipe they share or, where they differ, `mixed: ` and
 * each report's recipe with its path (the rows' own recipe lines say which row has which).
 * Reports of another budget (steps, batch, probe epochs, widths) or with other views or features
 * on the same dataset are a {@linkcode UsageError}: one table holds one budget.
 *
 * @param reports the reports' meta, with the path each came from
 * @returns the merged meta
 */
export function mergeMeta(reports: { path: string; meta: TableReportMeta }[]): TableReportMeta {
  const first = reports[0].meta;
  const show = (v: unknown) => v === undefined ? "unset" : JSON.stringify(v);
  for (const { path, meta } of reports.slice(1)) {
    for (const key of ["steps", "batchSize", "probeEpochs"] as const) {
      if (show(meta[key]) !== show(first[key])) {
        throw new UsageError(
          `--from: ${reports[0].path} has ${key} ${show(first[key])}, ${path} has ${key} ${
            show(meta[key])
          }; one table holds one budget`,
        );
      }
    }
    // reports older than --widths were made with 16-32-64
    const widths = (m: TableReportMeta) => show(m.widths ?? [16, 32, 64]);
    if (widths(meta) !== widths(first)) {
      throw new UsageError(
        `--from: ${reports[0].path} has widths ${widths(first)}, ${path} has ${
          widths(meta)
        }; one table holds one encoder`,
      );
    }
  }
  // views and features are per dataset: the union, refused where two reports differ on one
  const perDataset = (key: "views" | "features") => {
    if (reports.every((r) => r.meta[key] === undefined)) return undefined;
    const all: Record<string, string> = {};
    const whose: Record<string, string> = {};
    for (const { path, meta } of reports) {
      for (const [d, v] of Object.entries(meta[key] ?? {})) {
        if (all[d] !== undefined && all[d] !== v) {
          throw new UsageError(
            `--from: ${whose[d]} has ${key} ${all[d]} on ${d}, ${path} has ${v}`,
          );
        }
        all[d] = v;
        whose[d] = path;
      }
    }
    return all;
  };
  const views = perDataset("views");
  const features = perDataset("features");
  const recipes = reports.map((r) => r.meta.recipe ?? "default");
  const unique = <T>(v: T[]) => [...new Set(v)];
  // every report's notes, per dataset and method (the first report's where two have one)
  const notes: Record<string, Record<string, string>> = {};
  for (const { meta } of [...reports].reverse()) {
    for (const [d, byMethod] of Object.entries(meta.notes ?? {})) {
      notes[d] = { ...notes[d], ...byMethod };
    }
  }
  const { notes: _firstNotes, ...firstWithoutNotes } = first;
  return {
    ...firstWithoutNotes,
    command: reports.map((r) => r.meta.command).join(" and "),
    seeds: unique(reports.flatMap((r) => r.meta.seeds)).sort((a, b) => a - b),
    recipe: unique(recipes).length === 1
      ? recipes[0]
      : `mixed: ${reports.map((r, i) => `${recipes[i]} (${r.path})`).join(", ")}`,
    ...(views ? { views } : {}),
    ...(features ? { features } : {}),
    backend: unique(reports.map((r) => r.meta.backend)).join(", "),
    date: unique(reports.map((r) => r.meta.date)).join(" and "),
    seconds: Math.max(...reports.map((r) => r.meta.seconds ?? 0)),
    load: reports.map((r) => r.meta.load ?? "unknown").join("; "),
    ...(Object.keys(notes).length ? { notes } : {}),
  };
}

/**
 * The rows of a report in table order: per dataset, the baselines first (in the order given),
 * then the methods in `TABLE_METHODS` order. A resumed `--methods` run's own rows come before
 * those it read back; every report it writes is put in this order.
 *
 * @param rows the rows, in any order
 * @returns a sorted copy
 */
export function inTableOrder(rows: TableRow[]): TableRow[] {
  const rank = (r: TableRow) =>
    r.kind === "baseline" ? -1 : (TABLE_METHODS as readonly string[]).indexOf(r.method);
  return [...rows].sort((a, b) =>
    TABLE_DATASETS.indexOf(a.dataset) - TABLE_DATASETS.indexOf(b.dataset) || rank(a) - rank(b)
  );
}
