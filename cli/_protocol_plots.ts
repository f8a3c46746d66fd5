/**
 * The plots of `deno task protocol`: the label-efficiency curve (accuracy and CER against the
 * labeled-set size, one line per arm, error bars of one std over seeds), then the loss curves of
 * every stage.
 *
 * @module
 */
import { type LineSeries, plotLines } from "../eval/mod.ts";
import type { ArmRecord, ProtocolResults } from "./_protocol_report.ts";
import { meanStd } from "./_protocol_verdict.ts";

/** Trailing means over `window` steps, from the first full window on. */
function smooth(ys: readonly number[], window: number): { x: number[]; y: number[] } {
  const x: number[] = [], y: number[] = [];
  for (let i = window; i <= ys.length; i++) {
    x.push(i);
    y.push(ys.slice(i - window, i).reduce((a, b) => a + b, 0) / window);
  }
  return { x, y };
}

/**
 * One line per arm: the mean of `metric` over seeds at each labeled size, with the std as error
 * bars.
 */
export function curveSeries(
  arms: readonly ArmRecord[],
  metric: (a: ArmRecord) => number | null,
): LineSeries[] {
  const names = [...new Set(arms.map((a) => a.arm))];
  return names.map((name) => {
    const rows = arms.filter((a) => a.arm === name);
    const sizes = [...new Set(rows.map((r) => r.labeled))].sort((a, b) => a - b);
    const stats = sizes.map((n) =>
      meanStd(rows.filter((r) => r.labeled === n).map((r) => metric(r) ?? NaN))
    );
    return {
      name,
      x: sizes,
      y: stats.map((s) => s.mean),
      yErr: stats.map((s) => s.std),
    };
  });
}

/** Writes the plots under `dir`, the label-efficiency curve first; returns their file names. */
export async function writePlots(
  dir: string,
  results: Pick<ProtocolResults, "pretraining" | "arms" | "task">,
): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const files: string[] = [];
  if (results.arms.length > 0) {
    const seeds = new Set(results.arms.map((a) => a.seed ?? 0)).size;
    const over = seeds > 1 ? ` (mean +- std over ${seeds} seeds)` : "";
    // every measured size labeled: the log axis's own ticks (1, 2, 5 x 10^k) may miss all but one
    const xTicks = [...new Set(results.arms.map((a) => a.labeled))];
    await plotLines(
      curveSeries(results.arms, (a) => a.accuracy),
      `${dir}/accuracy_vs_labeled.svg`,
      {
        title: results.task === "sequence"
          ? `Sequence accuracy against labeled lines${over}`
          : `Top-1 accuracy against labeled images${over}`,
        xLabel: "labeled images (log scale)",
        yLabel: "accuracy",
        logX: true,
        xTicks,
      },
    );
    files.push("accuracy_vs_labeled.svg");
    if (results.task === "sequence") {
      await plotLines(curveSeries(results.arms, (a) => a.cer), `${dir}/cer_vs_labeled.svg`, {
        title: `Character error rate against labeled lines${over}`,
        xLabel: "labeled images (log scale)",
        yLabel: "CER",
        logX: true,
        xTicks,
      });
      files.push("cer_vs_labeled.svg");
    }
  }
  const finite = (xs: number[]) => xs.some(Number.isFinite);
  // one plot per method: their losses live on different scales (SimCLR's InfoNCE starts near
  // log(2B - 1), SimSiam's negative cosine within [-1, 1]), so a shared axis flattens one of them
  for (const method of [...new Set(results.pretraining.map((p) => p.method))]) {
    const runs = results.pretraining.filter((p) => p.method === method && finite(p.losses));
    if (runs.length === 0) continue;
    const file = `loss_pretrain_${method.replace(/[^a-z0-9]/gi, "_")}.svg`;
    const series: LineSeries[] = [];
    for (const p of runs) {
      const tag = runs.length > 1 ? ` seed ${p.seed ?? 0}` : "";
      series.push({
        name: `${method}${tag} (per step)`,
        x: p.losses.map((_, i) => i + 1),
        y: p.losses,
      });
      const window = Math.min(10, Math.floor(p.losses.length / 4));
      if (window >= 2 && runs.length === 1) {
        series.push({ name: `mean of ${window} steps`, ...smooth(p.losses, window) });
      }
    }
    const p = runs[0];
    await plotLines(series, `${dir}/${file}`, {
      title: `Stage 1: ${method} pretraining loss (batch ${p.batchSize}, lr ${p.lr})`,
      xLabel: "step",
      yLabel: "loss",
    });
    files.push(file);
  }
  // loss curves of the first seed (every seed's would be too many lines to read)
  const seed0 = Math.min(...results.arms.map((a) => a.seed ?? 0));
  for (const stage of ["head", "fine-tune", "supervised"] as const) {
    const arms = results.arms.filter((a) =>
      a.stage === stage && a.losses.length > 0 && (a.seed ?? 0) === seed0
    );
    if (arms.length === 0) continue;
    const file = `loss_${stage.replace("-", "_")}.svg`;
    const several = new Set(results.arms.map((a) => a.seed ?? 0)).size > 1;
    const what = results.task === "sequence" ? "CTC loss" : "cross-entropy";
    await plotLines(
      arms.map((a) => ({
        name: `${a.arm} n=${a.labeled}`,
        x: a.losses.map((_, i) => i + 1),
        y: a.losses,
      })),
      `${dir}/${file}`,
      {
        title: (stage === "head"
          ? `Stage 2: head training, encoder frozen (${what})`
          : stage === "fine-tune"
          ? `Stage 3: full fine-tuning (${what})`
          : `Baseline: supervised from scratch (${what})`) + (several ? `, seed ${seed0}` : ""),
        xLabel: "epoch",
        yLabel: "mean training loss",
      },
    );
    files.push(file);
  }
  return files;
}
