/**
 * `deno task protocol`: the full evaluation protocol of our source, end to end.
 *
 * 1. Self-supervised pretraining of each method (SimCLR and SimSiam by default): SGD momentum
 *    0.8, lr 3e-4, batch 96, 10 epochs over the unlabeled set (800,000 images).
 * 2. Head training on the frozen encoder: AdamW lr 3e-4, batch 8, 10 epochs over the labeled set
 *    (40,000); the head is the source's two dense layers, per frame with CTC for text lines.
 * 3. Full fine-tuning of encoder and head: AdamW lr 3e-5, batch 8, 40 epochs.
 *
 * Baseline: the same encoder and head trained from scratch, AdamW lr 3e-4, batch 8, 50 epochs.
 * Stages 2, 3 and the baseline run at several labeled sizes (a label-efficiency curve), once per
 * seed (`--seeds`). `--config source|tuned` picks the training settings, `--scale
 * full|machine|<fraction>` the sizes. Every stage leaves its result under `runs/<name>/`, so
 * `--resume` skips finished stages and continues an interrupted pretraining from its checkpoint;
 * `--report` writes the report from the stages finished so far. The run writes `results.json`,
 * `report.md` and SVG plots (the label-efficiency curve first, loss curves, UMAP of embeddings)
 * after every finished seed (also to `--report-dir`, a folder to commit), so a lost machine loses
 * at most the seed under way; `--import <report folder>` takes the seeds finished there (a
 * committed `results.json` of the same settings, else {@linkcode ImportMismatchError}) and runs
 * only the others.
 *
 * `[0]` the source document, section "训练流程" (SimCLR/SimSiam on 800k lines, then 40k labels).
 *
 * @example
 * ```ts ignore
 * // deno task protocol --scale 0.001 --epochs-scale 0.5 --widths 16,32,64
 * ```
 *
 * @module
 */
import { type BackendName, useBackend } from "../backend/use_backend.ts";
import { releaseMemory } from "./_protocol_memory.ts";
import { formatDuration } from "../train/mod.ts";
import { givenOptions, type ParsedOptions, runCommand, UsageError } from "./_args.ts";
import { loadProtocolData } from "./_protocol_data.ts";
import { checkRunName, formatCounts, guardFreshRun, readRunJson, resumeOptions } from "./_runs.ts";
import { broadcastText, initWorld, launchedUnderMpi, type World } from "../distributed/mod.ts";
import type { ArmRecord, PretrainRecord, ProtocolResults } from "./_protocol_report.ts";
import { PROTOCOL_OPTIONS, RUNTIME_OPTIONS, USAGE } from "./_protocol_options.ts";
import { applyPresets } from "./_protocol_configs.ts";
import { list, plan, seedDir } from "./_protocol_plan.ts";
import { type Context, writeJson } from "./_protocol_io.ts";
import { armStage, initialModels, pretrainStage } from "./_protocol_stages.ts";
import { umapStage } from "./_protocol_umap.ts";
import { overallProgress, type StageEstimate } from "./_protocol_probe.ts";
import { estimate } from "./_protocol_estimate.ts";
import { readImports } from "./_protocol_import.ts";
import { checkReportDir, publishResults, startingUmap } from "./_protocol_publish.ts";

export type { ArmRecord, PretrainRecord, ProtocolResults } from "./_protocol_report.ts";
export { PROTOCOL_OPTIONS, REFERENCE_SIZES } from "./_protocol_options.ts";
export { sourceDifferences } from "./_protocol_configs.ts";
export type { MeanStd, Outcome, Verdict } from "./_protocol_verdict.ts";
export { ImportMismatchError } from "./_protocol_import.ts";
export { UsageError } from "./_args.ts";
export type { ImportMismatch } from "./_protocol_import.ts";
export type { OptionSpec, ParsedOptions } from "./_args.ts";

/**
 * Runs `deno task protocol` with `args`; returns the exit code (0 done, 1 failed or diverged, 2
 * bad command line) after printing to stdout/stderr.
 *
 * @param args the command-line arguments
 * @returns the exit code
 *
 * @example
 * ```ts
 * import { protocolMain } from "./protocol.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await protocolMain(["--bogus"]), 2);
 * ```
 */
export function protocolMain(args: string[]): Promise<number> {
  return runCommand(args, PROTOCOL_OPTIONS, USAGE, async (o) => {
    await runProtocol(o, givenOptions(args, PROTOCOL_OPTIONS));
    return 0;
  });
}

/**
 * Runs the protocol with parsed options and returns its results (also written to
 * `<out>/<run-name>/results.json` with `report.md` and `plots/`). With `estimate`, only probes
 * and prints the estimated wall time (the results then hold the name alone).
 *
 * @param cli options as {@linkcode parseOptions} returns them for {@linkcode PROTOCOL_OPTIONS}
 * @param given the options given explicitly (with `--resume`, any that differs from the saved
 *   run is refused; without it, they override `--config` and `--scale` presets)
 * @returns the results
 */
export async function runProtocol(
  cli: ParsedOptions,
  given: ReadonlySet<string> = new Set(),
): Promise<ProtocolResults> {
  // under mpirun: every rank runs this command and pretrains its shard; rank 0 writes and talks
  const world = launchedUnderMpi() ? initWorld() : null;
  if (!world || world.size === 1) return await protocolRun(cli, given, world);
  try {
    return await protocolRun(cli, given, world);
  } catch (e) {
    // one rank failing alone (rank 0 refusing an existing run, a failed arm) would leave the
    // others waiting at a barrier: end the whole job
    console.error(`rank ${world.rank}: ${e instanceof Error ? e.message : e}`);
    return world.abort(e instanceof UsageError ? 2 : 1);
  }
}

/** Options a `--resume` or `--report` may change: which seeds, and the reports they come from. */
const MUTABLE = ["seeds", "import"];

async function protocolRun(
  cli: ParsedOptions,
  given: ReadonlySet<string>,
  world: World | null,
): Promise<ProtocolResults> {
  let o = cli;
  const lead = (world?.rank ?? 0) === 0;
  if (!lead) o = { ...o, quiet: true };
  if (o.runName !== undefined) checkRunName(String(o.runName));
  if (o.resume || o.report) {
    if (!o.runName) {
      throw new UsageError(
        `--${o.resume ? "resume" : "report"} needs --run-name (the run to ${
          o.resume ? "continue" : "report"
        })`,
      );
    }
    // --import and --seeds may change: a resumed run (or its report) pools the seeds finished in
    // a committed report with its own; the seed list only where the run has seed folders
    const saved = await readRunJson<{ options?: ParsedOptions }>(
      `${o.out}/${o.runName}/config.json`,
    ).catch(() => null);
    const seedFolders = saved?.options?.seeds !== undefined;
    o = await resumeOptions(
      `${o.out}/${o.runName}`,
      "protocol",
      lead ? cli : { ...cli, quiet: true },
      given,
      { runtime: [...RUNTIME_OPTIONS, "verbose"], mutable: seedFolders ? MUTABLE : ["import"] },
      lead && !cli.quiet ? undefined : () => {},
    );
  } else {
    o = applyPresets(o, given);
  }
  const p = plan(o);
  // --import: seeds finished in earlier reports of the same settings are taken, not run
  const imports = await readImports(
    o.import === undefined ? [] : list(String(o.import), "import"),
    p,
    o,
  );
  const toRun = p.seeds.filter((s) => !imports.seeds.has(s));
  if (o.reportDir !== undefined) await checkReportDir(String(o.reportDir), imports, p.seeds);
  if (world) {
    // the ranks' clocks differ: rank 0's name for all
    p.name = broadcastText(p.name, world);
    p.dir = `${o.out}/${p.name}`;
  }
  const reportOnly = !!o.report;
  if (!o.resume && !reportOnly && !o.estimate && lead) {
    await guardFreshRun(
      p.dir,
      toRun.flatMap((s) => p.methods.map((m) => `${seedDir(p, s)}/pretrain-${m}/checkpoint`)),
    );
  }
  const quiet = !!o.quiet;
  const say = (line: string) => {
    if (!quiet) console.error(`[protocol] ${line}`);
  };
  const t0 = performance.now();
  for (const line of imports.lines) say(line);
  const backend = await useBackend(o.backend as BackendName, { quiet });
  const config = {
    command: "protocol",
    options: o,
    resolved: {
      sizes: p.sizes,
      labeledSizes: p.labeledSizes,
      epochs: p.epochs,
      encoder: p.encoder,
      widths: p.widths ?? null,
      seeds: p.seeds,
    },
  };
  // the probe: always for --estimate and the full scale, else for the overall ETA when talking;
  // before the sets are rendered (800,000 lines take hours), on a few lines of the same kind
  let stages: StageEstimate[] | null = null;
  const rendered = !p.dataset.startsWith("folder:");
  if (
    lead && !reportOnly && rendered && toRun.length > 0 &&
    (o.estimate || String(o.scale) === "full" || !quiet)
  ) {
    const print = o.estimate || String(o.scale) === "full"
      ? (line: string) => console.error(`[protocol] ${line}`)
      : say;
    const batch = (o.pretrainBatch as number) * (world?.size ?? 1);
    const sizes = { unlabeled: 4 * batch, labeled: 3 * (o.batchSize as number), test: 32 };
    const probeData = await loadProtocolData(p.dataset, sizes, o.seed as number);
    // timed on a second set: the first pays one-off costs (fonts, MNIST files), 10x per line
    const tProbe = performance.now();
    await loadProtocolData(p.dataset, sizes, (o.seed as number) + 100);
    const perLine = (performance.now() - tProbe) / 1000 /
      (sizes.unlabeled + sizes.labeled + sizes.test);
    stages = (await estimate({ ...p, seeds: toRun }, probeData, world, print, perLine)).stages;
    // the probe's steps of both methods left ~1.4 GiB of buffers idle in the native pool, of
    // sizes stage 1 of one method and the labeled arms never ask for again (bench/RESULTS.md,
    // issue 12, H12): hand them back
    releaseMemory();
  }
  if (o.estimate) {
    world?.barrier();
    return { name: p.name } as ProtocolResults;
  }
  // data errors (a missing folder, too few images) surface before anything is written
  const tData = performance.now();
  // --report (or a run whose seeds are all imported) needs the task and the split's description
  // only: a few samples, not the sets; the rendered sets are kept in <run>/data/ for a resume
  // (not for --report, nor mpirun's ranks)
  const sample = reportOnly || toRun.length === 0;
  const data = await loadProtocolData(
    p.dataset,
    sample && !p.dataset.startsWith("folder:") ? { unlabeled: 96, labeled: 8, test: 8 } : p.sizes,
    o.seed as number,
    sample || world ? {} : { cacheDir: `${p.dir}/data` },
  );
  say(
    `data ready in ${
      ((performance.now() - tData) / 1000).toFixed(1)
    } s: ${data.label} [${data.shape}]`,
  );
  if (data.images && lead) {
    console.error(`${data.label}: ${formatCounts(data.images)}`);
    (config.resolved as Record<string, unknown>).images = data.images;
  }
  if (lead && !reportOnly) {
    await Deno.mkdir(`${p.dir}/plots`, { recursive: true });
    if (!o.resume) await writeJson(`${p.dir}/config.json`, config);
  }
  say(
    `${p.dir}: ${p.dataset}, ${p.sizes.unlabeled} unlabeled / ${p.sizes.labeled} labeled (arms at ${
      p.labeledSizes.join(", ")
    }) / ${p.sizes.test} test, methods ${p.methods.join(", ")}, seeds ${
      p.seeds.join(", ")
    }, backend ${backend}`,
  );
  const overall = stages ? overallProgress(stages) : null;
  overall?.finish("data", (performance.now() - tData) / 1000, true);
  const notes: string[] = [];
  const partialPretraining: PretrainRecord[] = [];
  const ctxOf = (seed: number): Context => ({
    p,
    data,
    backend,
    say: p.seeds.length > 1 ? (line) => say(`seed ${seed}: ${line}`) : say,
    quiet,
    world,
    seed,
    dir: seedDir(p, seed),
    reportOnly,
    notes,
    partialPretraining,
    finished: (key, seconds, ran) => {
      if (!overall) return;
      overall.finish(key, seconds, ran);
      if (ran) say(overall.line());
    },
  });
  // rank 0 saves each seed's initial nets; the others wait for them (they pretrain from them)
  const inits: { featureDim: number; sequence: boolean }[] = [];
  // stage 1 of one method, then its idle pooled buffers handed back: the next method's steps
  // have other sizes, and the labeled arms (batch 8) use a few MiB of them
  const pretrain = async (ctx: Context, method: string) => {
    const record = await pretrainStage(ctx, method);
    releaseMemory();
    return record;
  };
  if (lead && !reportOnly) { for (const s of toRun) inits.push(await initialModels(ctxOf(s))); }
  world?.barrier();
  if (!lead) {
    // stage 1 is the data-parallel one; the labeled arms, UMAP and the report are rank 0's alone
    for (const s of toRun) for (const m of p.methods) await pretrain(ctxOf(s), m);
    world!.barrier(); // until rank 0 has written the run, so mpirun sees every rank end together
    return { name: p.name } as ProtocolResults;
  }
  if (data.task === "sequence" && inits.some((i) => !i.sequence)) {
    throw new UsageError(
      `--encoder ${p.encoder} gives [B, D] features; text lines need --encoder sequence`,
    );
  }
  const pretraining: PretrainRecord[] = [];
  const arms: ArmRecord[] = [];
  const keep = <T>(xs: T[], x: T | null) => x && xs.push(x);
  // seed-major (each seed complete before the next) in one process; under mpirun every seed's
  // stage 1 first, since the other ranks take part in stage 1 only
  const seedMajor = !world || world.size === 1;
  if (!seedMajor) {
    for (const s of toRun) {
      for (const m of p.methods) keep(pretraining, await pretrain(ctxOf(s), m));
    }
  }
  // the UMAP: an imported report's (its plots copied here), else the first seed run here
  let umap = await startingUmap(imports, p.dir, reportOnly);
  // results.json, report.md and plots of the seeds finished so far: after every seed
  const publish = (pending: number[]) =>
    publishResults(
      {
        p,
        o,
        data,
        backend,
        imports,
        inits,
        notes,
        pretraining,
        arms,
        partialPretraining,
        umap,
        t0,
      },
      pending,
    );
  // the imported seeds first: every report written from here on holds them
  for (const s of p.seeds) {
    const imported = imports.seeds.get(s);
    if (!imported) continue;
    pretraining.push(...imported.pretraining);
    arms.push(...imported.arms);
  }
  for (const [i, s] of p.seeds.entries()) {
    if (imports.seeds.has(s)) continue;
    const ctx = ctxOf(s);
    if (seedMajor) { for (const m of p.methods) keep(pretraining, await pretrain(ctx, m)); }
    for (const n of p.labeledSizes) {
      for (const m of p.methods) {
        keep(arms, await armStage(ctx, "head", m, n));
        keep(arms, await armStage(ctx, "fine-tune", m, n));
      }
      keep(arms, await armStage(ctx, "supervised", null, n));
    }
    if (reportOnly) continue;
    // the arms' buffers (test-set batches) and this seed's garbage, before the next stage 1
    releaseMemory();
    if (!umap) umap = await umapStage(ctx);
    const pending = p.seeds.slice(i + 1).filter((x) => !imports.seeds.has(x));
    if (pending.length > 0) {
      await publish(pending);
      say(`seed ${s} finished: ${p.dir}/results.json holds it (seed(s) ${pending} to run)`);
    }
  }
  const results = await publish([]);
  say(`report: ${p.dir}/report.md (${formatDuration(results.seconds)})`);
  world?.barrier(); // the other ranks wait here for the run to be written
  const said = new Set<string>();
  for (const v of results.verdicts) {
    if (said.has(v.text)) continue;
    said.add(v.text);
    console.log(
      `${v.method} fine-tuned vs supervised at ${v.labeled} labeled: ${
        (100 * v.ssl.mean).toFixed(1)
      }% vs ${(100 * v.supervised.mean).toFixed(1)}% over ${v.seeds.length} seed(s) -> ${v.text}`,
    );
  }
  return results;
}

if (import.meta.main) {
  Deno.exit(await protocolMain(Deno.args));
}
