/**
 * `--import`: seeds finished in an earlier protocol report (a committed `results.json`, say
 * `docs/protocol/synthetic-text-tuned/`) taken as they are, so a run continues a report whose
 * run folder is gone and trains only the seeds it lacks. The report's settings must equal this
 * run's (else {@linkcode ImportMismatchError}); only settings that do not change a seed's results
 * may differ (the seed list, where files go, the backend, progress output).
 *
 * @module
 */
import { camelCase, type ParsedOptions, UsageError } from "./_args.ts";
import { PROTOCOL_OPTIONS, RUNTIME_OPTIONS } from "./_protocol_options.ts";
import type { Plan } from "./_protocol_plan.ts";
import type { ArmRecord, PretrainRecord, ProtocolResults } from "./_protocol_report.ts";
import { readRunJson } from "./_runs.ts";

/**
 * Options that may differ between an imported report and this run: the seed list (the point of an
 * import), the runtime ones (where files go, the backend, progress), the import itself, and the
 * checkpoint cadence and UMAP size, which change no arm's result.
 */
export const IMPORT_FREE_OPTIONS: readonly string[] = [
  ...RUNTIME_OPTIONS,
  "seeds",
  "import",
  "reportDir",
  "checkpointEvery",
  "umapPoints",
  "help",
  "verbose",
];

/** One setting on which an imported report and this run differ. */
export interface ImportMismatch {
  /** The option, camelCase. */
  option: string;
  /** The report's value (its default when the report predates the option). */
  imported: unknown;
  /** This run's value. */
  current: unknown;
}

/** An imported report ran with other settings than this run: its seeds cannot be pooled. */
export class ImportMismatchError extends UsageError {
  /** The report folder. */
  readonly dir: string;
  /** Every setting that differs, with both values. */
  readonly mismatches: readonly ImportMismatch[];
  /**
   * The refusal of one report.
   *
   * @param dir the report folder
   * @param mismatches every setting that differs, with both values
   */
  constructor(dir: string, mismatches: readonly ImportMismatch[]) {
    const show = (v: unknown) => v === undefined ? "unset" : String(v);
    super(
      `--import ${dir}: its results.json ran with other settings than this run, so its seeds ` +
        `cannot be pooled with this run's: ${
          mismatches.map((m) =>
            `--${kebab(m.option)} ${show(m.imported)} there, ${show(m.current)} here`
          ).join("; ")
        }; give the report's values (or the --config/--scale that set them) or drop --import`,
    );
    this.name = "ImportMismatchError";
    this.dir = dir;
    this.mismatches = mismatches;
  }
}

function kebab(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function defaultOf(key: string): unknown {
  return PROTOCOL_OPTIONS.find((s) => camelCase(s.name) === key)?.default;
}

/**
 * The settings on which a report's options and this run's differ, ignoring
 * {@linkcode IMPORT_FREE_OPTIONS}; an option absent on one side counts as its default.
 *
 * @param imported the report's `options`
 * @param current this run's resolved options
 * @returns the differences, in option order
 */
export function importMismatches(
  imported: Readonly<Record<string, unknown>>,
  current: ParsedOptions,
): ImportMismatch[] {
  const keys = [...new Set([...Object.keys(current), ...Object.keys(imported)])]
    .filter((k) => !IMPORT_FREE_OPTIONS.includes(k));
  const out: ImportMismatch[] = [];
  for (const k of keys) {
    const a = imported[k] === undefined ? defaultOf(k) : imported[k];
    const b = current[k] === undefined ? defaultOf(k) : current[k];
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ option: k, imported: a, current: b });
  }
  return out;
}

/** The records of one seed, taken from a report. */
export interface ImportedSeed {
  /** The report folder it came from. */
  dir: string;
  pretraining: PretrainRecord[];
  arms: ArmRecord[];
}

/** What `--import` brings in: the finished seeds and the UMAP of the first report that has one. */
export interface Imports {
  seeds: Map<number, ImportedSeed>;
  umap: { dir: string; umap: NonNullable<ProtocolResults["umap"]> } | null;
  /** One line per report: which of its seeds were taken, which left (unfinished, not asked). */
  lines: string[];
  /** The encoder line of the first report read (for a run whose seeds are all imported). */
  encoder: string | null;
  /** Every seed finished in each report, by report folder (whether taken or not). */
  finished: Map<string, number[]>;
}

/** The arm records a finished seed holds: head and fine-tune per method, and supervised, per size. */
function expectedArms(p: Plan): { arm: string; labeled: number }[] {
  return p.labeledSizes.flatMap((n) => [
    ...p.methods.flatMap((m) => [
      { arm: `ssl-${m}+head`, labeled: n },
      { arm: `ssl-${m}+fine-tune`, labeled: n },
    ]),
    { arm: "supervised", labeled: n },
  ]);
}

/**
 * Reads each report folder's `results.json`, refuses one whose settings differ from `o`, and
 * returns the seeds of the plan finished there: every method's pretraining and every arm at every
 * labeled size. A seed finished in two reports is taken from the first.
 *
 * @param dirs the report folders, as `--import` lists them
 * @param p the plan of this run
 * @param o this run's resolved options
 * @returns the imported seeds
 */
export async function readImports(
  dirs: readonly string[],
  p: Plan,
  o: ParsedOptions,
): Promise<Imports> {
  const out: Imports = {
    seeds: new Map(),
    umap: null,
    lines: [],
    encoder: null,
    finished: new Map(),
  };
  for (const dir of dirs) {
    const path = `${dir}/results.json`;
    const r = await readRunJson<ProtocolResults>(path);
    if (!r) throw new UsageError(`--import ${dir}: no protocol report there (${path} missing)`);
    if (!r.options || !Array.isArray(r.arms) || !Array.isArray(r.pretraining)) {
      throw new UsageError(`--import ${dir}: ${path} is not a protocol results.json`);
    }
    const mismatches = importMismatches(r.options, o);
    if (mismatches.length > 0) throw new ImportMismatchError(dir, mismatches);
    out.encoder ??= typeof r.encoder === "string" ? r.encoder : null;
    const taken: number[] = [], unfinished: number[] = [], elsewhere: number[] = [];
    const finished: number[] = [];
    const seedsThere = [
      ...new Set([...r.pretraining.map((x) => x.seed ?? 0), ...r.arms.map((a) => a.seed ?? 0)]),
    ].sort((a, b) => a - b);
    for (const s of seedsThere) {
      const pre = r.pretraining.filter((x) => (x.seed ?? 0) === s && p.methods.includes(x.method));
      const arms = r.arms.filter((a) => (a.seed ?? 0) === s);
      const done = p.methods.every((m) => pre.some((x) => x.method === m)) &&
        expectedArms(p).every((e) => arms.some((a) => a.arm === e.arm && a.labeled === e.labeled));
      if (done) finished.push(s);
      if (!p.seeds.includes(s) || out.seeds.has(s)) {
        elsewhere.push(s);
        continue;
      }
      if (!done) {
        unfinished.push(s);
        continue;
      }
      out.seeds.set(s, { dir, pretraining: pre, arms });
      taken.push(s);
    }
    out.finished.set(dir, finished);
    if (!out.umap && r.umap && taken.length > 0) out.umap = { dir, umap: r.umap };
    out.lines.push(
      `--import ${dir}: seed(s) ${taken.length ? taken.join(", ") : "none"} taken as finished` +
        (unfinished.length ? `; seed(s) ${unfinished.join(", ")} unfinished there, run here` : "") +
        (elsewhere.length
          ? `; seed(s) ${elsewhere.join(", ")} not asked for or taken already`
          : ""),
    );
  }
  return out;
}
