/**
 * The report of `deno task protocol`: `report.md` (the table of arms and the comparison at the
 * smallest labeled size) and the SVG plots (loss curves per stage, accuracy and CER against
 * labeled-set size).
 *
 * @module
 */
import { type LineSeries, plotLines } from "../eval/mod.ts";

/** One pretraining stage, as `results.json` records it. */
export interface PretrainRecord {
  method: string;
  steps: number;
  epochs: number;
  batchSize: number;
  lr: number;
  finalLoss: number;
  /** Loss per step, from `metrics.jsonl`. */
  losses: number[];
  seconds: number;
  /** Whether this stage continued from a checkpoint. */
  resumed: boolean;
}

/** One arm at one labeled-set size. */
export interface ArmRecord {
  /** `ssl-<method>+head`, `ssl-<method>+fine-tune` or `supervised`. */
  arm: string;
  stage: "head" | "fine-tune" | "supervised";
  method: string | null;
  labeled: number;
  fraction: number;
  epochs: number;
  lr: number;
  batchSize: number;
  /** Sequence accuracy (sequence task) or top-1 accuracy (class task), in [0, 1]. */
  accuracy: number;
  /** Character error rate (sequence task). */
  cer: number | null;
  testCount: number;
  /** Mean training loss per epoch. */
  losses: number[];
  seconds: number;
}

/** `results.json`. */
export interface ProtocolResults {
  name: string;
  dataset: string;
  task: "sequence" | "class";
  backend: string;
  encoder: string;
  sizes: { unlabeled: number; labeled: number; test: number; labeledSizes: number[] };
  split: string;
  options: Record<string, unknown>;
  pretraining: PretrainRecord[];
  arms: ArmRecord[];
  /** SSL fine-tuning against the supervised baseline at the smallest labeled size. */
  comparison: Comparison[];
  umap: { plots: string[]; coloring: string } | null;
  plots: string[];
  seconds: number;
  /**
   * Training settings that differ from the source's defaults, as `--flag value (source: value)`;
   * absent in runs written before this field existed.
   */
  sourceDifferences?: string[];
}

/** One method's fine-tuned arm against the baseline at one size. */
export interface Comparison {
  method: string;
  labeled: number;
  sslAccuracy: number;
  supervisedAccuracy: number;
  /** SSL minus supervised, in accuracy points (fractions). */
  accuracyMargin: number;
  sslCer: number | null;
  supervisedCer: number | null;
  /** Supervised minus SSL CER (positive: SSL better). */
  cerMargin: number | null;
  beats: boolean;
}

/**
 * On an accuracy tie, the CER margin (in CER units) below which the two arms count as equal: at
 * tiny labeled sizes every arm sits near CER 1 (CTC still emitting mostly blanks) and differences of
 * a few thousandths are noise, not a win.
 */
export const CER_TIE_MARGIN = 0.05;

/** Compares every method's fine-tuned arm with the baseline at the smallest labeled size. */
export function compareAtSmallest(arms: readonly ArmRecord[]): Comparison[] {
  if (arms.length === 0) return [];
  const n = Math.min(...arms.map((a) => a.labeled));
  const sup = arms.find((a) => a.stage === "supervised" && a.labeled === n);
  if (!sup) return [];
  return arms.filter((a) => a.stage === "fine-tune" && a.labeled === n).map((a) => {
    const cerMargin = a.cer !== null && sup.cer !== null ? sup.cer - a.cer : null;
    const accuracyMargin = a.accuracy - sup.accuracy;
    return {
      method: a.method!,
      labeled: n,
      sslAccuracy: a.accuracy,
      supervisedAccuracy: sup.accuracy,
      accuracyMargin,
      sslCer: a.cer,
      supervisedCer: sup.cer,
      cerMargin,
      // accuracy decides; on a tie (e.g. both 0 on tiny data) a CER lower by CER_TIE_MARGIN does
      beats: accuracyMargin > 0 ||
        (accuracyMargin === 0 && cerMargin !== null && cerMargin >= CER_TIE_MARGIN),
    };
  });
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const signedPts = (v: number) => `${v >= 0 ? "+" : ""}${(100 * v).toFixed(1)} pts`;
const secs = (s: number) => s < 90 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;

/** Trailing means over `window` steps, from the first full window on. */
function smooth(ys: readonly number[], window: number): { x: number[]; y: number[] } {
  const x: number[] = [], y: number[] = [];
  for (let i = window; i <= ys.length; i++) {
    x.push(i);
    y.push(mean(ys.slice(i - window, i)));
  }
  return { x, y };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Writes the loss and accuracy plots under `dir`; returns their file names. */
export async function writePlots(
  dir: string,
  results: Pick<ProtocolResults, "pretraining" | "arms" | "task">,
): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const files: string[] = [];
  const finite = (xs: number[]) => xs.some(Number.isFinite);
  // one plot per method: their losses live on different scales (SimCLR's InfoNCE starts near
  // log(2B - 1), SimSiam's negative cosine within [-1, 1]), so a shared axis flattens one of them
  for (const p of results.pretraining) {
    if (!finite(p.losses)) continue;
    const file = `loss_pretrain_${p.method.replace(/[^a-z0-9]/gi, "_")}.svg`;
    const series: LineSeries[] = [{
      name: `${p.method} (per step)`,
      x: p.losses.map((_, i) => i + 1),
      y: p.losses,
    }];
    const window = Math.min(10, Math.floor(p.losses.length / 4));
    if (window >= 2) series.push({ name: `mean of ${window} steps`, ...smooth(p.losses, window) });
    await plotLines(series, `${dir}/${file}`, {
      title: `Stage 1: ${p.method} pretraining loss (batch ${p.batchSize}, lr ${p.lr})`,
      xLabel: "step",
      yLabel: "loss",
    });
    files.push(file);
  }
  for (const stage of ["head", "fine-tune", "supervised"] as const) {
    const arms = results.arms.filter((a) => a.stage === stage && a.losses.length > 0);
    if (arms.length === 0) continue;
    const file = `loss_${stage.replace("-", "_")}.svg`;
    await plotLines(
      arms.map((a) => ({
        name: `${a.arm} n=${a.labeled}`,
        x: a.losses.map((_, i) => i + 1),
        y: a.losses,
      })),
      `${dir}/${file}`,
      {
        title: stage === "head"
          ? "Stage 2: head training, encoder frozen (CTC loss)"
          : stage === "fine-tune"
          ? "Stage 3: full fine-tuning (CTC loss)"
          : "Baseline: supervised from scratch (CTC loss)",
        xLabel: "epoch",
        yLabel: "mean training loss",
      },
    );
    files.push(file);
  }
  const armNames = [...new Set(results.arms.map((a) => a.arm))];
  const bySize = (metric: (a: ArmRecord) => number | null) =>
    armNames.map((name) => {
      const rows = results.arms.filter((a) => a.arm === name).sort((a, b) => a.labeled - b.labeled);
      return { name, x: rows.map((r) => r.labeled), y: rows.map((r) => metric(r) ?? NaN) };
    });
  if (armNames.length > 0) {
    await plotLines(bySize((a) => a.accuracy), `${dir}/accuracy_vs_labeled.svg`, {
      title: results.task === "sequence"
        ? "Sequence accuracy against labeled-set size"
        : "Top-1 accuracy against labeled-set size",
      xLabel: "labeled images (log scale)",
      yLabel: "accuracy",
      logX: true,
    });
    files.push("accuracy_vs_labeled.svg");
    if (results.task === "sequence") {
      await plotLines(bySize((a) => a.cer), `${dir}/cer_vs_labeled.svg`, {
        title: "Character error rate against labeled-set size",
        xLabel: "labeled images (log scale)",
        yLabel: "CER",
        logX: true,
      });
      files.push("cer_vs_labeled.svg");
    }
  }
  return files;
}

/** The Markdown report. */
export function reportMarkdown(r: ProtocolResults): string {
  const seq = r.task === "sequence";
  const lines: string[] = [];
  lines.push(`# Protocol run \`${r.name}\``, "");
  lines.push(
    `Dataset: ${r.dataset} (${
      r.task === "sequence" ? "CTC line recognition" : "classification"
    }); ` +
      `encoder: ${r.encoder}; backend: ${r.backend}; total wall time ${secs(r.seconds)}.`,
    "",
  );
  lines.push(
    `Sets: ${r.sizes.unlabeled} unlabeled, ${r.sizes.labeled} labeled (arms at ${
      r.sizes.labeledSizes.join(", ")
    }), ${r.sizes.test} test. Split: ${r.split}.`,
    "",
  );
  const seen = r.pretraining.map((p) => `${p.method} ${p.steps * p.batchSize}`).join(", ");
  const epochsOf = (stage: ArmRecord["stage"]) =>
    r.arms.find((a) => a.stage === stage)?.epochs ?? "-";
  lines.push(
    `Compute against the reference protocol [0]: pretraining saw ${seen} images (reference: ` +
      `8,000,000 = 10 epochs of 800,000); head / fine-tune / baseline ran ${epochsOf("head")} / ${
        epochsOf("fine-tune")
      } / ${epochsOf("supervised")} epochs (reference: 10 / 40 / 50 over 40,000 labeled lines).`,
    "",
  );
  if (r.sourceDifferences) {
    lines.push(
      r.sourceDifferences.length === 0
        ? "Training settings: the source's defaults."
        : `Training settings that differ from the source's defaults: ${
          r.sourceDifferences.join("; ")
        }.`,
      "",
    );
  }
  lines.push("## Pretraining", "");
  lines.push(
    "| method | steps | epochs | batch | lr | loss, first 10 steps | loss, last 10 steps | final loss | wall time |",
  );
  lines.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const p of r.pretraining) {
    const k = Math.min(10, p.losses.length);
    const ends = k === 0
      ? "- | -"
      : `${mean(p.losses.slice(0, k)).toFixed(4)} | ${mean(p.losses.slice(-k)).toFixed(4)}`;
    lines.push(
      `| ${p.method} | ${p.steps} | ${p.epochs} | ${p.batchSize} | ${p.lr} | ${ends} | ${
        p.finalLoss.toFixed(4)
      } | ${secs(p.seconds)}${p.resumed ? " (resumed)" : ""} |`,
    );
  }
  lines.push("", "## Arms", "");
  lines.push(
    seq
      ? "| arm | labeled | epochs | lr | sequence accuracy | CER | wall time |"
      : "| arm | labeled | epochs | lr | top-1 accuracy | wall time |",
  );
  lines.push(seq ? "|---|---:|---:|---:|---:|---:|---:|" : "|---|---:|---:|---:|---:|---:|");
  const sorted = [...r.arms].sort((a, b) => a.labeled - b.labeled || a.arm.localeCompare(b.arm));
  for (const a of sorted) {
    lines.push(
      `| ${a.arm} | ${a.labeled} | ${a.epochs} | ${a.lr} | ${pct(a.accuracy)} | ${
        seq ? `${a.cer === null ? "-" : a.cer.toFixed(3)} | ` : ""
      }${secs(a.seconds)} |`,
    );
  }
  lines.push(
    "",
    "## SSL fine-tuning against the supervised baseline at the smallest labeled size",
    "",
  );
  if (r.comparison.length === 0) {
    lines.push("No comparison: the fine-tune or supervised arm is missing.");
  }
  for (const c of r.comparison) {
    lines.push(
      `- ${c.method}, ${c.labeled} labeled: fine-tuned ${pct(c.sslAccuracy)} vs supervised ${
        pct(c.supervisedAccuracy)
      } (${signedPts(c.accuracyMargin)})` +
        (c.cerMargin !== null
          ? `; CER ${c.sslCer!.toFixed(3)} vs ${c.supervisedCer!.toFixed(3)} (${
            Math.abs(c.cerMargin) < 5e-4
              ? "equal"
              : `${c.cerMargin > 0 ? "SSL lower by" : "SSL higher by"} ${
                Math.abs(c.cerMargin).toFixed(3)
              }`
          })`
          : "") +
        (c.accuracyMargin === 0 && c.cerMargin !== null && c.cerMargin > 0 && !c.beats
          ? ` (a CER margin under ${CER_TIE_MARGIN} on tied accuracy counts as a tie)`
          : "") +
        `: SSL ${c.beats ? "beats" : "does not beat"} the baseline.`,
    );
  }
  lines.push("", "## Plots", "");
  for (const p of r.plots) lines.push(`![${p}](plots/${p})`);
  if (r.umap) {
    lines.push("", `UMAP coloring: ${r.umap.coloring}`, "");
    for (const p of r.umap.plots) lines.push(`![${p}](plots/${p})`);
  }
  lines.push("");
  return lines.join("\n");
}
