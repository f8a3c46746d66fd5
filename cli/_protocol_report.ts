/**
 * The report of `deno task protocol`: `report.md` (the table of arms and the comparison at the
 * smallest labeled size) and the SVG plots (loss curves per stage, accuracy and CER against
 * labeled-set size).
 *
 * @module
 */
import type { Verdict } from "./_protocol_verdict.ts";
import { meanStd } from "./_protocol_verdict.ts";

/** One pretraining stage, as `results.json` records it. */
export interface PretrainRecord {
  /** The self-supervised method. */
  method: string;
  /** The seed of this pass (absent in runs without `--seeds`: the run's `--seed`). */
  seed?: number;
  /** Optimizer steps taken. */
  steps: number;
  /** Passes over the unlabeled set. */
  epochs: number;
  /** Global batch size. */
  batchSize: number;
  /** SGD learning rate. */
  lr: number;
  /** Loss of the last step. */
  finalLoss: number;
  /** Loss per step, from `metrics.jsonl`. */
  losses: number[];
  /** Wall time of this stage. */
  seconds: number;
  /** Whether this stage continued from a checkpoint. */
  resumed: boolean;
}

/** One arm at one labeled-set size. */
export interface ArmRecord {
  /** `ssl-<method>+head`, `ssl-<method>+fine-tune` or `supervised`. */
  arm: string;
  /** The seed of this pass (absent in runs without `--seeds`: the run's `--seed`). */
  seed?: number;
  /** Stage 2 (head on the frozen encoder), stage 3 (whole network) or the baseline. */
  stage: "head" | "fine-tune" | "supervised";
  /** The pretraining method (null for the baseline). */
  method: string | null;
  /** Labeled images the arm trained on. */
  labeled: number;
  /** Their fraction of the labeled set. */
  fraction: number;
  /** Passes over them. */
  epochs: number;
  /** AdamW learning rate. */
  lr: number;
  /** Batch size. */
  batchSize: number;
  /** Sequence accuracy (sequence task) or top-1 accuracy (class task), in [0, 1]. */
  accuracy: number;
  /** Character error rate (sequence task). */
  cer: number | null;
  /** Test images scored. */
  testCount: number;
  /** Mean training loss per epoch. */
  losses: number[];
  /** Wall time of this arm. */
  seconds: number;
}

/** `results.json`. */
export interface ProtocolResults {
  /** The run name. */
  name: string;
  /** The `--dataset`. */
  dataset: string;
  /** CTC line recognition or classification. */
  task: "sequence" | "class";
  /** The TensorFlow.js backend used. */
  backend: string;
  /** Architecture, widths and feature size. */
  encoder: string;
  /** Set sizes and the labeled sizes of the arms. */
  sizes: { unlabeled: number; labeled: number; test: number; labeledSizes: number[] };
  /** How the sets are kept apart. */
  split: string;
  /** The resolved options. */
  options: Record<string, unknown>;
  /** Every finished pretraining stage, all seeds. */
  pretraining: PretrainRecord[];
  /** Every finished arm, all seeds. */
  arms: ArmRecord[];
  /** `source` or `tuned` (absent in runs before `--config`: source unless options say else). */
  config?: string;
  /** The seeds every stage ran with. */
  seeds?: number[];
  /** SSL fine-tuning against the baseline at every labeled size, paired over seeds. */
  verdicts: Verdict[];
  /** The smallest labeled size where the baseline reaches 10% mean accuracy, or null. */
  decidingSize: number | null;
  /** UMAP plot files and what their colors mean. */
  umap: { plots: string[]; coloring: string; seed?: number } | null;
  /** Plot files under `plots/`, the label-efficiency curve first. */
  plots: string[];
  /** Wall time of this invocation. */
  seconds: number;
  /** The source's settings this run changed, as `--flag value (source: value)`. */
  sourceDifferences?: string[];
  /** Why `--config tuned` (or another named configuration) sets what it sets. */
  configReasons?: string[];
  /** Settings of the named configuration this run replaced with its own, `--flag value (tuned: value)`. */
  configOverrides?: string[];
  /** The choices the source leaves open, with the value used. */
  ourChoices?: string[];
  /** With `--report` on an unfinished run: where the unfinished stages stand. */
  inProgress?: string[];
  /** With `--import`: which seeds came from which earlier report, one line per report. */
  imported?: string[];
  /** Whether every stage of every seed finished (false: a report of the stages so far). */
  complete?: boolean;
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const secs = (s: number) =>
  s < 90
    ? `${s.toFixed(1)} s`
    : s < 5400
    ? `${(s / 60).toFixed(1)} min`
    : `${(s / 3600).toFixed(2)} h`;

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** `12.3 +- 1.2%` over seeds (the std is left out for one seed). */
function pctStats(xs: readonly number[]): string {
  const s = meanStd(xs);
  return s.n > 1
    ? `${(100 * s.mean).toFixed(1)} +- ${(100 * s.std).toFixed(1)}%`
    : `${(100 * s.mean).toFixed(1)}%`;
}

function numStats(xs: readonly number[]): string {
  const s = meanStd(xs);
  return s.n > 1 ? `${s.mean.toFixed(3)} +- ${s.std.toFixed(3)}` : s.mean.toFixed(3);
}

/**
 * The Markdown report: the label-efficiency curve first, then the verdict, the mean +- std table,
 * the settings (the source's, which this run changed, and ours), pretraining and per-seed rows.
 *
 * @param r the results
 * @returns the report
 */
export function reportMarkdown(r: ProtocolResults): string {
  const seq = r.task === "sequence";
  const seeds = r.seeds ?? [...new Set(r.arms.map((a) => a.seed ?? 0))];
  const lines: string[] = [];
  lines.push(`# Protocol run \`${r.name}\``, "");
  if (r.complete === false) {
    lines.push(
      `**Partial report**: written from the stages finished so far (${r.pretraining.length} ` +
        `pretraining stages, ${r.arms.length} arms); \`--resume\` continues the run.`,
      "",
    );
    for (const n of r.inProgress ?? []) lines.push(`- In progress: ${n}.`);
    if (r.inProgress?.length) lines.push("");
  }
  lines.push(
    `Dataset: ${r.dataset} (${seq ? "CTC line recognition" : "classification"}); configuration: ${
      r.config ?? "source"
    }; encoder: ${r.encoder}; backend: ${r.backend}; seeds: ${seeds.join(", ")}; wall time of ` +
      `this invocation ${secs(r.seconds)}.`,
    "",
  );
  if (r.imported?.length) {
    lines.push("Seeds imported from earlier reports of the same settings (not run again):", "");
    for (const l of r.imported) lines.push(`- ${l}`);
    lines.push("");
  }
  lines.push(
    `Sets: ${r.sizes.unlabeled} unlabeled, ${r.sizes.labeled} labeled (arms at ${
      r.sizes.labeledSizes.join(", ")
    }), ${r.sizes.test} test (one line = ${
      (100 / r.sizes.test).toFixed(2)
    } points). Split: ${r.split}.`,
    "",
  );
  const curve = r.plots.filter((p) => p.endsWith("_vs_labeled.svg"));
  const withData = new Set(r.arms.map((a) => a.seed ?? 0)).size;
  if (curve.length > 0) {
    lines.push(
      "## Label efficiency",
      "",
      `Mean over the seeds with a result, error bars one std${
        withData > 1 ? ` (${withData} seeds)` : " (one seed so far: no error bars)"
      }.`,
      "",
    );
    for (const p of curve) lines.push(`![${p}](plots/${p})`);
    lines.push("");
  }
  lines.push("## Verdict", "");
  lines.push(
    "SSL fine-tuning against the supervised baseline, decided on " +
      (seq ? "sequence accuracy" : "top-1 accuracy") +
      " by a paired comparison across seeds: a win only where the mean paired difference exceeds " +
      "the one-sided 95% Student-t half-width (at least one test line); CER never decides.",
    "",
  );
  if (r.verdicts.length === 0) lines.push("No verdict: no fine-tuned arm has its baseline yet.");
  // "no arm learns at N" is the same sentence for every method: once
  for (const text of new Set(r.verdicts.map((v) => v.text))) lines.push(`- ${text}.`);
  lines.push("");
  const supervisedSizes = r.arms.filter((a) => a.stage === "supervised").map((a) => a.labeled);
  if (r.decidingSize !== undefined && supervisedSizes.length > 0) {
    // at the run's smallest size the baseline may have reached 10% with fewer lines already
    const unbounded = r.decidingSize === Math.min(...supervisedSizes);
    lines.push(
      r.decidingSize === null
        ? "The baseline reaches 10% mean accuracy at no labeled size of this run."
        : `The smallest labeled size where the baseline reaches 10% mean accuracy, the size that ` +
          `decides the source's question: ${r.decidingSize}. There: ${
            r.verdicts.filter((v) => v.labeled === r.decidingSize).map((v) => v.text).join("; ")
          }.${
            unbounded
              ? ` ${r.decidingSize} is the smallest size this run measured: whether the baseline ` +
                "reaches 10% with fewer labeled lines is not measured here."
              : ""
          }`,
      "",
    );
  }
  lines.push(`## Arms (mean +- std over seeds)`, "");
  lines.push(
    seq
      ? "| arm | labeled | seeds | sequence accuracy | CER |"
      : "| arm | labeled | seeds | top-1 accuracy |",
  );
  lines.push(seq ? "|---|---:|---:|---:|---:|" : "|---|---:|---:|---:|");
  const keys = [...new Set(r.arms.map((a) => `${a.labeled}\u0000${a.arm}`))].sort((x, y) => {
    const [nx, ax] = x.split("\u0000"), [ny, ay] = y.split("\u0000");
    return Number(nx) - Number(ny) || ax.localeCompare(ay);
  });
  for (const k of keys) {
    const [n, arm] = k.split("\u0000");
    const rows = r.arms.filter((a) => a.arm === arm && a.labeled === Number(n));
    const cers = rows.map((a) => a.cer).filter((c): c is number => c !== null);
    lines.push(
      `| ${arm} | ${n} | ${rows.length} | ${pctStats(rows.map((a) => a.accuracy))} |${
        seq ? ` ${cers.length ? numStats(cers) : "-"} |` : ""
      }`,
    );
  }
  lines.push("", "## Settings", "");
  if (r.sourceDifferences) {
    lines.push(
      r.sourceDifferences.length === 0
        ? "The source's settings, all kept: none of them changed by this run."
        : `The source's settings that this run changed (the source's value in brackets): ${
          r.sourceDifferences.join("; ")
        }. The source's settings not listed here are kept at its values (of SGD momentum 0.8, ` +
          "lr 3e-4, batch 96, 10 epochs; AdamW lr 3e-4, batch 8, 10 head epochs; AdamW lr 3e-5, " +
          "40 fine-tune epochs; supervised AdamW lr 3e-4, batch 8, 50 epochs; 800,000 / 40,000 " +
          "lines).",
      "",
    );
  }
  if (r.configReasons?.length) {
    lines.push(`Why \`--config ${r.config}\` changes them:`, "");
    for (const c of r.configReasons) lines.push(`- --${c}`);
    lines.push("");
  }
  if (r.configOverrides?.length) {
    lines.push(
      `This run's own settings over \`--config ${r.config}\` (the configuration's value in ` +
        `brackets; the reasons above are not theirs): ${r.configOverrides.join("; ")}.`,
      "",
    );
  }
  if (r.ourChoices) {
    lines.push("Choices the source leaves open (ours), with the value used:", "");
    for (const c of r.ourChoices) lines.push(`- ${c}`);
    lines.push("");
  }
  const seen = r.pretraining.map((p) => p.steps * p.batchSize);
  if (seen.length > 0) {
    lines.push(
      `Compute against the reference protocol [0]: pretraining saw ${
        seen.length ? Math.round(mean(seen)) : 0
      } images per method and seed (reference: 8,000,000 = 10 epochs of 800,000).`,
      "",
    );
  }
  lines.push("## Pretraining", "");
  lines.push(
    "| method | seed | steps | epochs | batch | lr | loss, first 10 steps | loss, last 10 steps | wall time |",
  );
  lines.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const p of r.pretraining) {
    const k = Math.min(10, p.losses.length);
    const ends = k === 0
      ? "- | -"
      : `${mean(p.losses.slice(0, k)).toFixed(4)} | ${mean(p.losses.slice(-k)).toFixed(4)}`;
    lines.push(
      `| ${p.method} | ${
        p.seed ?? 0
      } | ${p.steps} | ${p.epochs} | ${p.batchSize} | ${p.lr} | ${ends} | ${secs(p.seconds)}${
        p.resumed ? " (resumed)" : ""
      } |`,
    );
  }
  lines.push("", "## Arms by seed", "");
  lines.push(
    seq
      ? "| arm | labeled | seed | epochs | lr | sequence accuracy | CER | wall time |"
      : "| arm | labeled | seed | epochs | lr | top-1 accuracy | wall time |",
  );
  lines.push(
    seq ? "|---|---:|---:|---:|---:|---:|---:|---:|" : "|---|---:|---:|---:|---:|---:|---:|",
  );
  const sorted = [...r.arms].sort((a, b) =>
    a.labeled - b.labeled || a.arm.localeCompare(b.arm) || (a.seed ?? 0) - (b.seed ?? 0)
  );
  for (const a of sorted) {
    lines.push(
      `| ${a.arm} | ${a.labeled} | ${a.seed ?? 0} | ${a.epochs} | ${a.lr} | ${pct(a.accuracy)} | ${
        seq ? `${a.cer === null ? "-" : a.cer.toFixed(3)} | ` : ""
      }${secs(a.seconds)} |`,
    );
  }
  const rest = r.plots.filter((p) => !curve.includes(p));
  if (rest.length > 0 || r.umap) {
    lines.push("", "## Loss curves and embeddings", "");
    for (const p of rest) lines.push(`![${p}](plots/${p})`);
  }
  if (r.umap) {
    lines.push(
      "",
      `UMAP${
        r.umap.seed !== undefined ? ` of seed ${r.umap.seed}'s encoders` : ""
      }; coloring: ${r.umap.coloring}`,
      "",
    );
    for (const p of r.umap.plots) lines.push(`![${p}](plots/${p})`);
  }
  lines.push("");
  return lines.join("\n");
}
