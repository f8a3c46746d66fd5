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
 * Stages 2, 3 and the baseline run at 1%, 10% and 100% of the labeled set. Every stage leaves
 * its result under `runs/<name>/`, so `--resume` skips finished stages and continues an
 * interrupted pretraining from its checkpoint. The run writes `results.json`, `report.md` and
 * SVG plots (loss curves, accuracy and CER against labeled-set size, UMAP of embeddings).
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
import { givenOptions, type ParsedOptions, runCommand, UsageError } from "./_args.ts";
import { loadProtocolData } from "./_protocol_data.ts";
import { checkRunName, formatCounts, guardFreshRun, resumeOptions } from "./_runs.ts";
import { broadcastText, initWorld, launchedUnderMpi, type World } from "../distributed/mod.ts";
import {
  type ArmRecord,
  compareAtSmallest,
  type PretrainRecord,
  type ProtocolResults,
  reportMarkdown,
  writePlots,
} from "./_protocol_report.ts";
import {
  PROTOCOL_OPTIONS,
  RUNTIME_OPTIONS,
  sourceDifferences,
  USAGE,
} from "./_protocol_options.ts";
import { plan } from "./_protocol_plan.ts";
import { type Context, writeJson } from "./_protocol_io.ts";
import { armStage, initialModels, pretrainStage } from "./_protocol_stages.ts";
import { umapStage } from "./_protocol_umap.ts";

export type { ArmRecord, Comparison, PretrainRecord, ProtocolResults } from "./_protocol_report.ts";
export { PROTOCOL_OPTIONS, REFERENCE_SIZES, sourceDifferences } from "./_protocol_options.ts";

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
 * `<out>/<run-name>/results.json` with `report.md` and `plots/`).
 *
 * @param cli options as {@linkcode parseOptions} returns them for {@linkcode PROTOCOL_OPTIONS}
 * @param given the options given explicitly (with `--resume`, any that differs from the saved
 *   run is refused)
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

async function protocolRun(
  cli: ParsedOptions,
  given: ReadonlySet<string>,
  world: World | null,
): Promise<ProtocolResults> {
  let o = cli;
  const lead = (world?.rank ?? 0) === 0;
  if (!lead) o = { ...o, quiet: true };
  if (o.runName !== undefined) checkRunName(String(o.runName));
  if (o.resume) {
    if (!o.runName) throw new UsageError("--resume needs --run-name (the run to continue)");
    o = await resumeOptions(
      `${o.out}/${o.runName}`,
      "protocol",
      lead ? cli : { ...cli, quiet: true },
      given,
      {
        runtime: [...RUNTIME_OPTIONS, "verbose"],
        mutable: [],
      },
    );
  }
  const p = plan(o);
  if (world) {
    // the ranks' clocks differ: rank 0's name for all
    p.name = broadcastText(p.name, world);
    p.dir = `${o.out}/${p.name}`;
  }
  if (!o.resume && lead) {
    await guardFreshRun(p.dir, p.methods.map((m) => `${p.dir}/pretrain-${m}/checkpoint`));
  }
  const quiet = !!o.quiet;
  const say = (line: string) => {
    if (!quiet) console.error(`[protocol] ${line}`);
  };
  const t0 = performance.now();
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
    },
  };
  // data errors (a missing folder, too few images) surface before anything is written
  const tData = performance.now();
  const data = await loadProtocolData(p.dataset, p.sizes, o.seed as number);
  say(
    `data ready in ${
      ((performance.now() - tData) / 1000).toFixed(1)
    } s: ${data.label} [${data.shape}]`,
  );
  if (data.images && lead) {
    console.error(`${data.label}: ${formatCounts(data.images)}`);
    (config.resolved as Record<string, unknown>).images = data.images;
  }
  if (lead) {
    await Deno.mkdir(`${p.dir}/plots`, { recursive: true });
    if (!o.resume) await writeJson(`${p.dir}/config.json`, config);
  }
  say(
    `${p.dir}: ${p.dataset}, ${p.sizes.unlabeled} unlabeled / ${p.sizes.labeled} labeled (arms at ${
      p.labeledSizes.join(", ")
    }) / ${p.sizes.test} test, methods ${p.methods.join(", ")}, backend ${backend}`,
  );
  const ctx: Context = { p, data, backend, say, quiet, world };
  // rank 0 saves the initial nets; the others wait for them (they pretrain from that encoder)
  const init = lead ? await initialModels(ctx) : null;
  world?.barrier();
  if (!lead) {
    // stage 1 is the data-parallel one; the labeled arms, UMAP and the report are rank 0's alone
    for (const m of p.methods) await pretrainStage(ctx, m);
    world!.barrier(); // until rank 0 has written the run, so mpirun sees every rank end together
    return { name: p.name } as ProtocolResults;
  }
  if (data.task === "sequence" && !init!.sequence) {
    throw new UsageError(
      `--encoder ${p.encoder} gives [B, D] features; text lines need --encoder sequence`,
    );
  }

  const pretraining: PretrainRecord[] = [];
  for (const m of p.methods) pretraining.push(await pretrainStage(ctx, m));
  const arms: ArmRecord[] = [];
  for (const n of p.labeledSizes) {
    for (const m of p.methods) {
      arms.push(await armStage(ctx, "head", m, n));
      arms.push(await armStage(ctx, "fine-tune", m, n));
    }
    arms.push(await armStage(ctx, "supervised", null, n));
  }
  const umap = await umapStage(ctx);
  const partial = { pretraining, arms, task: data.task };
  const plots = await writePlots(`${p.dir}/plots`, partial);
  const results: ProtocolResults = {
    name: p.name,
    dataset: p.dataset,
    task: data.task,
    backend,
    encoder: `${p.encoder}${p.widths ? ` (widths ${p.widths.join(",")})` : ""}, feature dim ${
      init!.featureDim
    }`,
    sizes: { ...p.sizes, labeledSizes: p.labeledSizes },
    split: data.split,
    options: o,
    pretraining,
    arms,
    comparison: compareAtSmallest(arms),
    umap,
    plots,
    seconds: (performance.now() - t0) / 1000,
    sourceDifferences: sourceDifferences(o),
  };
  await writeJson(`${p.dir}/results.json`, results);
  await Deno.writeTextFile(`${p.dir}/report.md`, reportMarkdown(results));
  say(`report: ${p.dir}/report.md (${results.seconds.toFixed(1)} s)`);
  world?.barrier(); // the other ranks wait here for the run to be written
  for (const c of results.comparison) {
    console.log(
      `${c.method} fine-tuned vs supervised at ${c.labeled} labeled: ${
        (100 * c.sslAccuracy).toFixed(1)
      }% vs ${(100 * c.supervisedAccuracy).toFixed(1)}%` + (c.cerMargin !== null
        ? `, CER ${c.sslCer!.toFixed(3)} vs ${c.supervisedCer!.toFixed(3)}`
        : "") +
        ` -> ${c.beats ? "SSL beats" : "SSL does not beat"} the baseline`,
    );
  }
  return results;
}

if (import.meta.main) {
  Deno.exit(await protocolMain(Deno.args));
}
