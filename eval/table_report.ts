import { TABLE_METHODS, TABLE_PRETEXT_TASKS, type TableRow } from "./method_table.ts";

/** What a table report says about its run. */
export interface TableReportMeta {
  /** The command that made it. */
  command: string;
  /** Steps per pretraining. */
  steps: number;
  /** Images per step. */
  batchSize: number;
  /** Seeds. */
  seeds: number[];
  /** Backend. */
  backend: string;
  /** Linear-probe epochs (a resumed run must match). */
  probeEpochs?: number;
  /** Recipe family of the methods, "default" for each method's own (a resumed run must match). */
  recipe?: string;
  /** Encoder widths (a resumed run must match; absent in older reports: 16-32-64). */
  widths?: number[];
  /** Views per dataset (a resumed run must match; absent in older reports: mnist). */
  views?: Record<string, string>;
  /**
   * What kNN and probe read per dataset: `pooled` features or the pre-pool `map` (absent in older
   * reports: pooled).
   */
  features?: Record<string, string>;
  /** Load average when the run started and ended (`uptime`). */
  load?: string;
  /** Wall seconds of the whole run. */
  seconds?: number;
  /** When it ran (ISO). */
  date: string;
  /**
   * Notes per dataset and method, one line each (e.g. why a row stays below raw pixels, with a
   * pointer to bench/RESULTS.md): shown in a last column of that dataset's table.
   */
  notes?: Record<string, Record<string, string>>;
}

const pct = (v: number[]): string => {
  const ok = v.filter((x) => Number.isFinite(x));
  if (ok.length === 0) return "n/a";
  const m = ok.reduce((s, x) => s + x, 0) / ok.length;
  if (ok.length === 1) return (100 * m).toFixed(1);
  const sd = Math.sqrt(ok.reduce((s, x) => s + (x - m) ** 2, 0) / (ok.length - 1));
  return `${(100 * m).toFixed(1)} ± ${(100 * sd).toFixed(1)}`;
};
const meanOf = (v: number[]) => v.reduce((s, x) => s + x, 0) / Math.max(1, v.length);

/**
 * A pretext row's linear probe against the random-init encoder of the same seeds: the mean of
 * the per-seed differences in points, and on how many of the seeds both hold it is above.
 */
function pretextMargin(row: TableRow, random: TableRow): string {
  const diffs = row.seeds.flatMap((seed, i) => {
    const j = random.seeds.indexOf(seed);
    return j < 0 || !Number.isFinite(row.linear[i])
      ? []
      : [100 * (row.linear[i] - random.linear[j])];
  });
  if (!diffs.length) return `${row.method} n/a (no random-init seed in common)`;
  const m = meanOf(diffs);
  const above = diffs.filter((d) => d > 0).length;
  return `${row.method} ${m >= 0 ? "+" : ""}${
    m.toFixed(1)
  } (above on ${above} of ${diffs.length} seed${diffs.length > 1 ? "s" : ""})`;
}

/**
 * The method table as markdown: one table per dataset (baselines first), kNN top-1 at k 20 and
 * 200 and linear-probe top-1 as mean ± std over seeds, the k = 20 margin over raw pixels with a
 * plain "no" where a method does not beat them, pretraining seconds and final zStd; then the
 * verdicts the issue asks about (every SSL method above raw pixels at k = 20 on Fashion-MNIST;
 * best linear probe within 3 points of supervised; each pretext task's linear probe against the
 * random-init encoder, seed by seed) and each method's recipe.
 *
 * @param rows the rows of `runMethodTable`
 * @param meta how the run was made
 * @returns markdown
 *
 * @example
 * ```ts
 * import { renderTableMarkdown } from "./table_report.ts";
 * import assert from "node:assert/strict";
 * const row = (method: string, kind: "baseline" | "ssl", v: number) => ({
 *   dataset: "mnist" as const, method, kind, seeds: [0], knn20: [v], knn200: [v], linear: [v],
 *   trainSeconds: [0], finalLoss: [NaN], zStd: [NaN],
 * });
 * const md = renderTableMarkdown([row("raw pixels", "baseline", 0.9), row("simclr", "ssl", 0.8)], {
 *   command: "deno task table", steps: 1, batchSize: 64, seeds: [0], backend: "cpu", date: "",
 * });
 * assert.match(md, /\| simclr \| 80\.0 \| 80\.0 \| 80\.0 \| -10\.0 \(no\)/);
 * ```
 */
export function renderTableMarkdown(rows: TableRow[], meta: TableReportMeta): string {
  const out: string[] = [];
  out.push(
    `Command: \`${meta.command}\` (${meta.steps} steps of ${meta.batchSize} per pretraining, ` +
      `seeds ${meta.seeds.join(", ")}, backend ${meta.backend}${
        meta.widths ? `, ConvNet ${meta.widths.join("-")}` : ""
      }${
        meta.views
          ? `, views ${Object.entries(meta.views).map(([d, v]) => `${v} on ${d}`).join(", ")}`
          : ""
      }${
        meta.features
          ? `, encoder features ${
            Object.entries(meta.features).map(([d, v]) =>
              `${v === "map" ? "the map before the pooling" : "pooled"} on ${d}`
            ).join(", ")
          }`
          : ""
      }${meta.seconds !== undefined ? `, ${(meta.seconds / 60).toFixed(1)} min in all` : ""}${
        meta.load ? `, load ${meta.load}` : ""
      }, ${meta.date}).`,
    "",
    "Evaluation: the full 10k test set against the full 60k training set as kNN bank (cosine, " +
      "weights exp(sim / 0.1)), and a linear probe (AdamW, standardized features) on the 60k; " +
      "top-1 %, mean ± std over seeds.",
    "",
  );
  const datasets = [...new Set(rows.map((r) => r.dataset))];
  for (const d of datasets) {
    const rs = rows.filter((r) => r.dataset === d);
    const raw = rs.find((r) => r.method === "raw pixels");
    out.push(`### ${d === "mnist" ? "MNIST" : "Fashion-MNIST"}`, "");
    // the notes of this dataset's rows, in a last column when there are any
    const notes = meta.notes?.[d] ?? {};
    const noted = rs.some((r) => notes[r.method]);
    out.push(
      "| Method | kNN k=20 | kNN k=200 | Linear | k=20 vs raw pixels | Pretrain s | zStd |" +
        (noted ? " Note |" : ""),
      "|---|---:|---:|---:|---|---:|---:|" + (noted ? "---|" : ""),
    );
    for (const r of rs) {
      const margin = raw && r !== raw
        ? (() => {
          const m = 100 * (meanOf(r.knn20) - meanOf(raw.knn20));
          return `${m >= 0 ? "+" : ""}${m.toFixed(1)} (${m > 0 ? "yes" : "no"})`;
        })()
        : "";
      const secs = meanOf(r.trainSeconds);
      const z = r.zStd.filter((x) => Number.isFinite(x));
      // a row of a stopped or still running table: say how many of the seeds it holds
      const name = r.method !== "raw pixels" && r.seeds.length < meta.seeds.length
        ? `${r.method} (${r.seeds.length} of ${meta.seeds.length} seeds)`
        : r.method;
      out.push(
        `| ${name} | ${pct(r.knn20)} | ${pct(r.knn200)} | ${pct(r.linear)} | ${margin} | ${
          secs > 0 ? secs.toFixed(0) : ""
        } | ${z.length ? meanOf(z).toFixed(3) : ""} |${
          noted ? ` ${(notes[r.method] ?? "").replaceAll("|", "\\|")} |` : ""
        }`,
      );
    }
    for (const r of rs.filter((r) => r.error)) out.push(`- ${r.method} failed: ${r.error}`);
    out.push("");
    const ssl = rs.filter((r) => r.kind === "ssl");
    if (raw && ssl.length) {
      const below = ssl.filter((r) => meanOf(r.knn20) <= meanOf(raw.knn20)).map((r) => r.method);
      // the table's SSL methods: every method but the pretext tasks
      const all = TABLE_METHODS.length - TABLE_PRETEXT_TASKS.length;
      const partial = ssl.length < all
        ? ` (only ${ssl.length} of the table's ${all} SSL methods in this report: ${
          ssl.map((r) => r.method).join(", ")
        })`
        : "";
      // with notes, the rows below raw pixels that do not say why are named
      const unexplained = below.filter((m) => !notes[m]);
      out.push(
        below.length === 0
          ? `- Every SSL method beats raw pixels at k = 20 (${pct(raw.knn20)}%)${partial}.`
          : `- Below raw pixels at k = 20 (${pct(raw.knn20)}%): ${below.join(", ")} (${
            ssl.length - below.length
          } of ${ssl.length} SSL methods beat them)${partial}${
            noted
              ? unexplained.length
                ? `; no note for ${unexplained.join(", ")}`
                : "; each has a note in the Note column"
              : ""
          }.`,
      );
    }
    const sup = rs.find((r) => r.method === "supervised");
    const trained = rs.filter((r) => r.kind !== "baseline");
    if (sup && trained.length) {
      const best = trained.reduce((a, b) => meanOf(b.linear) > meanOf(a.linear) ? b : a);
      const gap = 100 * (meanOf(sup.linear) - meanOf(best.linear));
      out.push(
        `- Best linear probe: ${best.method} ${pct(best.linear)}% vs supervised ${
          pct(sup.linear)
        }% (${gap.toFixed(1)} points ${gap <= 3 ? "behind: within 3" : "behind: not within 3"}).`,
      );
    }
    const random = rs.find((r) => r.method === "random init");
    const pretext = rs.filter((r) => r.kind === "pretext");
    if (random && pretext.length) {
      out.push(
        `- Pretext tasks' linear probe against the random-init encoder (${
          pct(random.linear)
        }%), seed by seed: ${pretext.map((r) => pretextMargin(r, random)).join("; ")}.`,
      );
    }
    out.push("");
  }
  // one line per method and recipe: a method made with two recipes on two datasets (reports
  // merged with `--from`) shows both, each with the datasets it was made on
  const recipes = new Map<string, Map<string, string[]>>();
  for (const r of rows) {
    if (!r.recipe) continue;
    const byRecipe = recipes.get(r.method) ?? new Map<string, string[]>();
    byRecipe.set(r.recipe, [...(byRecipe.get(r.recipe) ?? []), r.dataset]);
    recipes.set(r.method, byRecipe);
  }
  if (recipes.size) {
    out.push("Recipes (resolved at this budget):", "");
    for (const [m, byRecipe] of recipes) {
      for (const [r, datasets] of byRecipe) {
        out.push(byRecipe.size === 1 ? `- ${m}: ${r}` : `- ${m} (${datasets.join(", ")}): ${r}`);
      }
    }
    out.push("");
  }
  return out.join("\n");
}
