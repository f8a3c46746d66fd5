/**
 * The protocol's supervised baseline alone, at any labeled sizes: where does the baseline leave
 * CTC's blank plateau? Takes `deno task protocol`'s options, builds each seed's initial nets and
 * runs the protocol's own supervised arm (`armStage`, the same code, files and layout:
 * `<out>/<run-name>/seed-<s>/arms/supervised-<n>.json`), without stage 1 or the SSL arms, whose
 * pretraining costs about 20 minutes of a quiet core per seed at `--scale machine`. The arms
 * depend only on the seed, the labeled and test sets and the baseline's settings, so they are the
 * arms a full protocol run with the same options would train.
 *
 * ```
 * deno run -A bench/protocol_baseline_sweep.ts --dataset synthetic-text --scale machine \
 *   --config tuned --labeled 500 --fractions 0.5,0.6,0.8,1 --test 1200 --seeds 0,1,2 \
 *   --run-name sweep --out runs --backend native
 * ```
 *
 * Finished arms are skipped on a second start, so a killed sweep resumes where it stopped;
 * `--report` only collects the finished ones. The per-size table (mean +- std over seeds) and
 * every arm go to `<out>/<run-name>/sweep.json`, and to `--report-dir` when given.
 *
 * @module
 */
import { type BackendName, useBackend } from "../backend/use_backend.ts";
import { givenOptions, parseOptions } from "../cli/_args.ts";
import { PROTOCOL_OPTIONS } from "../cli/_protocol_options.ts";
import { applyPresets } from "../cli/_protocol_configs.ts";
import { plan, seedDir } from "../cli/_protocol_plan.ts";
import { loadProtocolData } from "../cli/_protocol_data.ts";
import { armStage, initialModels } from "../cli/_protocol_stages.ts";
import { type Context, writeJson } from "../cli/_protocol_io.ts";
import type { ArmRecord } from "../cli/_protocol_report.ts";

const args = Deno.args;
const o = applyPresets(parseOptions(args, PROTOCOL_OPTIONS), givenOptions(args, PROTOCOL_OPTIONS));
const p = plan(o);
const backend = await useBackend(o.backend as BackendName, {});
// the baseline never reads the unlabeled set: one batch of it, the labeled and test sets in full
// (every line depends only on its render seed and index, so these are the protocol's sets)
const data = await loadProtocolData(
  p.dataset,
  { ...p.sizes, unlabeled: o.pretrainBatch as number },
  o.seed as number,
);
const say = (line: string) => console.error(`[baseline sweep] ${line}`);
say(
  `${p.dir}: ${p.dataset}, supervised ${p.epochs.supervised} epochs lr ${o.supervisedLr} at ${
    p.labeledSizes.join(", ")
  } labeled, ${p.sizes.test} test, seeds ${p.seeds.join(", ")}, backend ${backend}`,
);
const arms: ArmRecord[] = [];
// --report: only collect the arms finished so far (runs nothing)
const reportOnly = !!o.report;
const contexts = p.seeds.map((seed): Context => ({
  p,
  data,
  backend,
  say: (line) => say(`seed ${seed}: ${line}`),
  quiet: false,
  world: null,
  seed,
  dir: seedDir(p, seed),
  reportOnly,
}));
if (!reportOnly) { for (const ctx of contexts) await initialModels(ctx); }
// size-major: every seed of a size before the next size, so a stopped sweep has whole sizes
for (const n of p.labeledSizes) {
  for (const ctx of contexts) {
    const arm = await armStage(ctx, "supervised", null, n);
    if (arm) arms.push(arm);
  }
}
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const table = p.labeledSizes.map((n) => {
  const done = p.seeds.map((s) => arms.find((a) => a.seed === s && a.labeled === n) ?? null);
  const acc = done.filter((a) => a !== null).map((a) => a!.accuracy);
  const mean = acc.reduce((a, b) => a + b, 0) / Math.max(1, acc.length);
  const sd = Math.sqrt(
    acc.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, acc.length - 1),
  );
  return {
    labeled: n,
    perSeed: done.map((a) => a?.accuracy ?? null),
    mean,
    std: sd,
    n: acc.length,
  };
});
console.log(`labeled | ${p.seeds.map((s) => `seed ${s}`).join(" | ")} | mean +- std`);
for (const r of table) {
  console.log(
    `${r.labeled} | ${r.perSeed.map((a) => (a === null ? "-" : pct(a))).join(" | ")} | ${
      r.n > 0 ? `${pct(r.mean)} +- ${(100 * r.std).toFixed(1)} (${r.n} seeds)` : "-"
    }`,
  );
}
const results = {
  what: "the protocol's supervised baseline alone (bench/protocol_baseline_sweep.ts)",
  command: ["deno run -A bench/protocol_baseline_sweep.ts", ...args].join(" "),
  options: o,
  sizes: p.sizes,
  labeledSizes: p.labeledSizes,
  epochs: p.epochs.supervised,
  seeds: p.seeds,
  table,
  arms,
};
await writeJson(`${p.dir}/sweep.json`, results);
if (o.reportDir !== undefined) {
  await Deno.mkdir(String(o.reportDir), { recursive: true });
  await writeJson(`${o.reportDir}/sweep.json`, results);
}
