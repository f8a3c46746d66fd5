/**
 * `deno task table`: pretrains every method on MNIST and Fashion-MNIST at one budget and writes
 * the method table (kNN k 20 / 200 on the full 10k test set with the 60k training set as bank,
 * linear probe; raw-pixel, random-init and supervised baselines) as markdown and JSON.
 *
 * @example
 * ```ts ignore
 * // deno task table --quick
 * ```
 *
 * @module
 */
import { type BackendName, useBackend } from "../backend/use_backend.ts";
import {
  runMethodTable,
  TABLE_DATASETS,
  TABLE_DEFAULT_FEATURES,
  TABLE_DEFAULT_VIEWS,
  TABLE_METHODS,
  type TableDataset,
  type TableFeatures,
  type TableViews,
} from "../eval/method_table.ts";
import { renderTableMarkdown, type TableReportMeta } from "../eval/table_report.ts";
import type { TableRow } from "../eval/method_table.ts";
import type { RecipeName } from "../methods/mod.ts";
import { type ParsedOptions, runCommand, UsageError } from "./_args.ts";
import { TABLE_OPTIONS } from "./_table_options.ts";
import { inTableOrder, mergeMeta, mergeRows } from "./_table_merge.ts";

export { inTableOrder, mergeMeta, mergeRows, TABLE_OPTIONS };

const USAGE = "Usage: deno task table [options]\n\n" +
  "Pretrains every method on MNIST and Fashion-MNIST at one budget and writes <out>.md and\n" +
  "<out>.json. Example:\n  deno task table --quick";

function list(value: unknown, allowed: readonly string[], name: string): string[] | undefined {
  if (value === undefined) return undefined;
  const items = String(value).split(",").map((s) => s.trim()).filter((s) => s);
  for (const i of items) {
    if (!allowed.includes(i)) {
      throw new UsageError(`--${name} must be among ${allowed.join(", ")}, received "${i}"`);
    }
  }
  return items;
}

async function loadAverage(): Promise<string> {
  try {
    return (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

/** A table report's JSON, or a {@linkcode UsageError} naming the file that does not parse. */
function parseReport(
  text: string,
  path: string,
  flag: string,
): { meta: TableReportMeta; rows: TableRow[] } {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(
      `${flag}: expected a table report (JSON) in ${path}, received text that does not parse (${
        (e as Error).message
      })`,
    );
  }
}

/**
 * The notes of `--notes`: one line of text per dataset and method, or a {@linkcode UsageError}
 * saying what in the file is not.
 */
async function readNotes(path: string): Promise<Record<string, Record<string, string>>> {
  let notes: unknown;
  try {
    notes = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new UsageError(`--notes: cannot read ${path} as JSON (${(e as Error).message})`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(notes)) {
    throw new UsageError(`--notes: expected an object of datasets in ${path}`);
  }
  for (const [d, byMethod] of Object.entries(notes)) {
    if (!(TABLE_DATASETS as readonly string[]).includes(d) || !isObject(byMethod)) {
      throw new UsageError(
        `--notes: expected datasets among ${TABLE_DATASETS.join(", ")}, each an object of ` +
          `method: text, in ${path}; received "${d}"`,
      );
    }
    for (const [m, text] of Object.entries(byMethod)) {
      if (typeof text !== "string" || text.includes("\n")) {
        throw new UsageError(`--notes: the note of ${d} ${m} in ${path} must be one line of text`);
      }
    }
  }
  return notes as Record<string, Record<string, string>>;
}

/** Merges JSON reports written by earlier runs into one markdown + JSON report. */
async function merge(
  paths: string[],
  out: string,
  notes?: Record<string, Record<string, string>>,
): Promise<number> {
  const reports = await Promise.all(
    paths.map(async (p) => ({ path: p, ...parseReport(await Deno.readTextFile(p), p, "--from") })),
  );
  const meta: TableReportMeta = {
    ...mergeMeta(reports),
    // given notes replace the first report's
    ...(notes ? { notes } : {}),
  };
  const rows = inTableOrder(mergeRows(reports));
  await Deno.writeTextFile(`${out}.md`, renderTableMarkdown(rows, meta));
  await Deno.writeTextFile(`${out}.json`, JSON.stringify({ meta, rows }, null, 1) + "\n");
  console.log(renderTableMarkdown(rows, meta));
  return 0;
}

/**
 * The report of an earlier run at `path`, for --resume: refused when it was made with another
 * budget (steps, batch, probe epochs or recipe), since its rows would not be comparable.
 */
async function readEarlier(
  path: string,
  expected: {
    steps: number;
    batchSize: number;
    probeEpochs: number;
    recipe?: RecipeName;
    widths: number[];
    views: Record<string, string>;
    features: Record<string, string>;
  },
): Promise<{ meta: TableReportMeta; rows: TableRow[] } | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      console.error(`--resume: no ${path} yet; starting from the beginning`);
      return undefined;
    }
    throw e;
  }
  const earlier = parseReport(text, path, "--resume");
  const want = { ...expected, recipe: expected.recipe ?? "default" };
  // reports older than --widths / --views were made with 16-32-64 and mnistAugment
  const had = {
    ...earlier.meta,
    widths: earlier.meta.widths ?? [16, 32, 64],
    views: earlier.meta.views ?? Object.fromEntries(TABLE_DATASETS.map((d) => [d, "mnist"])),
    features: earlier.meta.features ??
      Object.fromEntries(TABLE_DATASETS.map((d) => [d, "pooled"])),
  };
  const show = (v: unknown) => typeof v === "object" ? JSON.stringify(v) : String(v);
  for (
    const key of [
      "steps",
      "batchSize",
      "probeEpochs",
      "recipe",
      "widths",
      "views",
      "features",
    ] as const
  ) {
    const a = key === "views"
      ? Object.fromEntries(Object.keys(want.views).map((d) => [d, had.views[d] ?? "mnist"]))
      : key === "features"
      ? Object.fromEntries(Object.keys(want.features).map((d) => [d, had.features[d] ?? "pooled"]))
      : had[key];
    if (show(a) !== show(want[key])) {
      throw new UsageError(
        `--resume: ${path} was made with ${key} ${show(a)}, this run has ${
          show(want[key])
        }; use another --out or the same settings`,
      );
    }
  }
  return earlier;
}

async function table(o: ParsedOptions): Promise<number> {
  const quick = !!o.quick;
  const steps = (o.steps as number | undefined) ?? (quick ? 100 : 1000);
  const seedCount = (o.seeds as number | undefined) ?? (quick ? 1 : 3);
  const probeEpochs = (o.probeEpochs as number | undefined) ?? (quick ? 3 : 10);
  const methods = list(o.methods, TABLE_METHODS, "methods");
  const datasets = list(o.datasets, TABLE_DATASETS, "datasets") as TableDataset[] | undefined;
  const out = (o.out as string | undefined) ?? `bench/table/table${quick ? "-quick" : ""}`;
  const notes = o.notes !== undefined ? await readNotes(String(o.notes)) : undefined;
  if (o.from !== undefined) return await merge(String(o.from).split(","), out, notes);
  const backend = await useBackend(o.backend as BackendName | undefined, { quiet: true });
  const seeds = Array.from({ length: seedCount }, (_, i) => i);
  const features = Object.fromEntries(
    (datasets ?? TABLE_DATASETS).map((
      d,
    ) => [d, (o.features as TableFeatures | undefined) ?? TABLE_DEFAULT_FEATURES[d]]),
  ) as Record<TableDataset, TableFeatures>;
  const widths = String(o.widths).split(",").map((s) => Number(s.trim()));
  if (!widths.length || !widths.every((w) => Number.isInteger(w) && w >= 1)) {
    throw new UsageError(`--widths must be positive integers, received "${o.widths}"`);
  }
  const views = Object.fromEntries(
    (datasets ?? TABLE_DATASETS).map((
      d,
    ) => [d, (o.views as TableViews | undefined) ?? TABLE_DEFAULT_VIEWS[d]]),
  ) as Record<TableDataset, TableViews>;
  const recipe = o.recipe as RecipeName | undefined;
  const earlier = o.resume
    ? await readEarlier(`${out}.json`, {
      steps,
      batchSize: o.batchSize as number,
      probeEpochs,
      recipe,
      widths,
      views,
      features,
    })
    : undefined;
  const loadStart = await loadAverage();
  const t0 = performance.now();
  const dir = out.includes("/") ? out.slice(0, out.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  const meta = (): TableReportMeta => ({
    // a resumed run names the earlier commands too
    command: (earlier ? `${earlier.meta.command}; then ` : "") +
      `deno task table ${Deno.args.join(" ")}`.trim(),
    steps,
    batchSize: o.batchSize as number,
    // a resumed report keeps the earlier run's seeds beside this run's
    seeds: [...new Set([...(earlier?.meta.seeds ?? []), ...seeds])].sort((a, b) => a - b),
    probeEpochs,
    recipe: recipe ?? "default",
    widths,
    views,
    features,
    backend,
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    // a resumed run counts the earlier runs' time too
    seconds: (earlier?.meta.seconds ?? 0) + (performance.now() - t0) / 1000,
    // a resumed run keeps its report's notes unless given others
    ...(notes ?? earlier?.meta.notes ? { notes: notes ?? earlier?.meta.notes } : {}),
  });
  const earlierLoad = earlier?.meta.load ? `${earlier.meta.load}; then ` : "";
  // a resumed --methods run's own rows come before those read back: the report is in table order
  const write = async (unordered: TableRow[], load: string) => {
    const rows = inTableOrder(unordered);
    const m = { ...meta(), load: earlierLoad + load };
    await Deno.writeTextFile(`${out}.md`, renderTableMarkdown(rows, m));
    await Deno.writeTextFile(`${out}.json`, JSON.stringify({ meta: m, rows }, null, 1) + "\n");
  };
  console.error(
    `method table: ${steps} steps x ${o.batchSize} per pretraining, seeds ${seeds.join(",")}, ` +
      `${probeEpochs} probe epochs, backend ${backend}, load ${loadStart}; writing ${out}.md` +
      (earlier
        ? ` (resuming: ${earlier.rows.reduce((n, r) => n + r.seeds.length, 0)} row seeds read back)`
        : " (if it is stopped, the same command with --resume continues it)"),
  );
  const rows = await runMethodTable({
    steps,
    batchSize: o.batchSize as number,
    seeds,
    probeEpochs,
    widths,
    views,
    features,
    ...(methods ? { methods } : {}),
    ...(datasets ? { datasets } : {}),
    skipBaselines: !!o.noBaselines,
    skipSupervised: !!o.noSupervised,
    ...(recipe ? { recipe } : {}),
    ...(earlier ? { previous: earlier.rows } : {}),
    log: (line) => console.error(line),
    progress: true,
    onRow: (_row, all) => write(all, `${loadStart} (start)`),
  });
  await write(rows, `${loadStart} (start), ${await loadAverage()} (end)`);
  console.log(renderTableMarkdown(inTableOrder(rows), { ...meta(), load: loadStart }));
  return 0;
}

/**
 * Runs `deno task table` with `args`; returns the exit code.
 *
 * @param args the command-line arguments
 * @returns the exit code (0 done, 2 bad command line)
 *
 * @example
 * ```ts
 * import { tableMain } from "./table.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await tableMain(["--methods", "bogus"]), 2);
 * ```
 */
export function tableMain(args: string[]): Promise<number> {
  return runCommand(args, TABLE_OPTIONS, USAGE, table);
}

if (import.meta.main) {
  Deno.exit(await tableMain(Deno.args));
}
