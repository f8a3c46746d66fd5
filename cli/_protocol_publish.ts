/**
 * What a protocol run publishes: `results.json`, `report.md` and the plots of the seeds finished
 * so far (after every seed, so a lost machine loses at most the seed under way), the UMAP it
 * carries over from an imported report or an earlier run, and the copy to `--report-dir`.
 *
 * @module
 */
import type { ParsedOptions } from "./_args.ts";
import { UsageError } from "./_args.ts";
import type { ProtocolData } from "./_protocol_data.ts";
import {
  configOverrides,
  configReasons,
  ourChoices,
  sourceDifferences,
} from "./_protocol_configs.ts";
import type { Imports } from "./_protocol_import.ts";
import { exists, writeJson } from "./_protocol_io.ts";
import type { Plan } from "./_protocol_plan.ts";
import { writePlots } from "./_protocol_plots.ts";
import {
  type ArmRecord,
  type PretrainRecord,
  type ProtocolResults,
  reportMarkdown,
} from "./_protocol_report.ts";
import { decidingSize, verdicts } from "./_protocol_verdict.ts";
import { readRunJson } from "./_runs.ts";

/** Where a run stands when it writes its report. */
export interface RunState {
  p: Plan;
  o: ParsedOptions;
  data: Pick<ProtocolData, "task" | "split">;
  backend: string;
  imports: Imports;
  /** The initial nets of the seeds run here (the first gives the feature width). */
  inits: { featureDim: number }[];
  /** Where unfinished stages stand (`--report`). */
  notes: string[];
  /** Finished pretraining stages, in the order they ended. */
  pretraining: PretrainRecord[];
  /** Finished labeled arms, in the order they ended. */
  arms: ArmRecord[];
  /** The losses so far of pretraining stages still under way (`--report`). */
  partialPretraining: PretrainRecord[];
  umap: ProtocolResults["umap"];
  /** `performance.now()` at the run's start. */
  t0: number;
}

/**
 * Writes `results.json`, `report.md` and the plots of the seeds finished so far to the run folder
 * (and copies them to `--report-dir`); returns the results.
 *
 * @param run where the run stands
 * @param pending the seeds still to run (none for the final report)
 */
export async function publishResults(run: RunState, pending: number[]): Promise<ProtocolResults> {
  const { p, o, data, imports, inits, notes } = run;
  await Deno.mkdir(`${p.dir}/plots`, { recursive: true });
  const order = (seed: number | undefined) => p.seeds.indexOf(seed ?? 0);
  const pre = [...run.pretraining].sort((a, b) => order(a.seed) - order(b.seed));
  const byArm = [...run.arms].sort((a, b) => order(a.seed) - order(b.seed));
  // a partial report also plots the losses of a pretraining still under way
  const plots = await writePlots(`${p.dir}/plots`, {
    pretraining: [...pre, ...run.partialPretraining],
    arms: byArm,
    task: data.task,
  });
  const featureDim = inits[0]?.featureDim;
  const inProgress = [
    ...notes,
    ...(pending.length > 0 ? [`seed(s) ${pending.join(", ")} still to run`] : []),
  ];
  const results: ProtocolResults = {
    name: p.name,
    dataset: p.dataset,
    task: data.task,
    backend: run.backend,
    encoder: inits.length === 0 && imports.encoder
      ? imports.encoder
      : `${p.encoder}${p.widths ? ` (widths ${p.widths.join(",")})` : ""}${
        featureDim ? `, feature dim ${featureDim}` : ""
      }`,
    config: String(o.config ?? "source"),
    seeds: p.seeds,
    sizes: { ...p.sizes, labeledSizes: p.labeledSizes },
    split: data.split,
    options: o,
    pretraining: pre,
    arms: byArm,
    verdicts: verdicts(byArm),
    decidingSize: decidingSize(byArm),
    umap: run.umap,
    plots,
    seconds: (performance.now() - run.t0) / 1000,
    sourceDifferences: sourceDifferences(o, p.sizes),
    configReasons: configReasons(o),
    configOverrides: configOverrides(o),
    ourChoices: ourChoices(o, {
      encoder: p.encoder,
      widths: p.widths ?? null,
      test: p.sizes.test,
      seeds: p.seeds,
    }),
    ...(imports.lines.length > 0 ? { imported: imports.lines } : {}),
    ...(inProgress.length > 0 ? { inProgress } : {}),
    complete: pre.length === p.seeds.length * p.methods.length &&
      byArm.length === p.seeds.length * p.labeledSizes.length * (2 * p.methods.length + 1),
  };
  await writeJson(`${p.dir}/results.json`, results);
  await Deno.writeTextFile(`${p.dir}/report.md`, reportMarkdown(results));
  if (o.reportDir !== undefined) await copyReport(p.dir, String(o.reportDir));
  return results;
}

/**
 * The UMAP a run starts with: an imported report's (its plots copied into the run), with
 * `--report` the one the run wrote if its plots are still there, else none (the first seed run
 * here draws it).
 *
 * @param imports the reports `--import` reads
 * @param dir the run folder
 * @param reportOnly `--report`
 */
export async function startingUmap(
  imports: Imports,
  dir: string,
  reportOnly: boolean,
): Promise<ProtocolResults["umap"]> {
  if (imports.umap) {
    await Deno.mkdir(`${dir}/plots`, { recursive: true });
    for (const f of imports.umap.umap.plots) {
      await Deno.copyFile(`${imports.umap.dir}/plots/${f}`, `${dir}/plots/${f}`);
    }
    return imports.umap.umap;
  }
  if (!reportOnly) return null;
  // --report runs no UMAP: it keeps the one the run wrote, if its plots are still there
  const before = await readRunJson<ProtocolResults>(`${dir}/results.json`).catch(() => null);
  const kept = before?.umap;
  if (
    kept && (await Promise.all(kept.plots.map((f) => exists(`${dir}/plots/${f}`)))).every(Boolean)
  ) {
    return kept;
  }
  return null;
}

/**
 * Refuses a `--report-dir` that is a folder `--import` reads when this run's seeds leave out seeds
 * finished there: the copy would overwrite that report without them.
 */
export async function checkReportDir(
  dir: string,
  imports: Imports,
  seeds: number[],
): Promise<void> {
  const target = await Deno.realPath(dir).catch(() => null);
  if (target === null) return;
  for (const [from, finished] of imports.finished) {
    const lost = finished.filter((s) => !seeds.includes(s));
    if (lost.length > 0 && (await Deno.realPath(from).catch(() => null)) === target) {
      throw new UsageError(
        `--report-dir ${dir} is the report --import reads, and this run's --seeds ${
          seeds.join(",")
        } leave out its finished seed(s) ${lost.join(", ")}: writing there would drop them; ` +
          `add them to --seeds or choose another --report-dir`,
      );
    }
  }
}

/**
 * Copies a run's report (results.json, report.md, config.json, plots/) to `to`; files there that
 * the run does not write (PNG copies of the plots) are left.
 */
async function copyReport(from: string, to: string): Promise<void> {
  if ((await Deno.realPath(from)) === (await Deno.realPath(to).catch(() => null))) return;
  await Deno.mkdir(`${to}/plots`, { recursive: true });
  for (const f of ["results.json", "report.md", "config.json"]) {
    try {
      await Deno.copyFile(`${from}/${f}`, `${to}/${f}.tmp`);
      await Deno.rename(`${to}/${f}.tmp`, `${to}/${f}`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  for await (const e of Deno.readDir(`${from}/plots`)) {
    if (e.isFile) await Deno.copyFile(`${from}/plots/${e.name}`, `${to}/plots/${e.name}`);
  }
}
