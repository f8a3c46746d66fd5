/**
 * The verdict of `deno task protocol`: SSL fine-tuning against the supervised baseline at each
 * labeled size, decided on sequence (or top-1) accuracy by a paired comparison across seeds.
 *
 * The rule:
 * - "no arm learns at N labeled" when every arm at N, in every seed, has 0% accuracy (on a CTC
 *   task: all still on the blank plateau). CER never decides, so no win is claimed on CER alone.
 * - With one paired seed, no claim ("one seed: the noise is unknown").
 * - Otherwise the per-seed differences d_s = acc(SSL, s) - acc(supervised, s) are compared with
 *   their noise: the one-sided 95% Student-t half-width t(n-1) sd(d) / sqrt(n), at least one
 *   test image (1 / test count). "SSL beats supervised at N labeled" only when mean(d) exceeds it;
 *   "supervised beats SSL" when mean(d) is below its negative; else "within the noise".
 *
 * @module
 */
import type { ArmRecord } from "./_protocol_report.ts";

/** Mean and sample standard deviation (0 for one value). */
export interface MeanStd {
  /** Mean. */
  mean: number;
  /** Sample standard deviation (n - 1). */
  std: number;
  /** Number of values. */
  n: number;
}

/** Mean and sample std of `xs`. */
export function meanStd(xs: readonly number[]): MeanStd {
  const n = xs.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

// one-sided 95% quantiles of Student's t, by degrees of freedom 1..30
const T95 = [
  6.314,
  2.920,
  2.353,
  2.132,
  2.015,
  1.943,
  1.895,
  1.860,
  1.833,
  1.812,
  1.796,
  1.782,
  1.771,
  1.761,
  1.753,
  1.746,
  1.740,
  1.734,
  1.729,
  1.725,
  1.721,
  1.717,
  1.714,
  1.711,
  1.708,
  1.706,
  1.703,
  1.701,
  1.699,
  1.697,
];

/** The one-sided 95% quantile of Student's t with `df` degrees of freedom (>= 1). */
export function t95(df: number): number {
  return df <= T95.length ? T95[df - 1] : 1.645;
}

/** The outcome at one labeled size for one method. */
export type Outcome =
  | "ssl-beats-supervised"
  | "supervised-beats-ssl"
  | "within-noise"
  | "no-arm-learns"
  | "one-seed";

/** One method's fine-tuned arm against the baseline at one labeled size, over seeds. */
export interface Verdict {
  /** The pretraining method of the fine-tuned arm. */
  method: string;
  /** The labeled size. */
  labeled: number;
  /** Seeds with both arms. */
  seeds: number[];
  /** The fine-tuned arm's accuracy over the paired seeds. */
  ssl: MeanStd;
  /** The baseline's accuracy over the paired seeds. */
  supervised: MeanStd;
  /** The fine-tuned arm's CER (sequence task), shown, never deciding. */
  sslCer: MeanStd | null;
  /** The baseline's CER (sequence task). */
  supervisedCer: MeanStd | null;
  /** Paired differences SSL - supervised in accuracy (fractions), by seed. */
  differences: number[];
  /** Mean of the differences. */
  margin: number;
  /** The margin a win must exceed (fractions). */
  noise: number;
  /** What the rule decides. */
  outcome: Outcome;
  /** One sentence. */
  text: string;
}

const pts = (v: number) => `${v >= 0 ? "+" : ""}${(100 * v).toFixed(1)}`;

/**
 * The verdict at every labeled size, for every method with fine-tuned arms.
 *
 * @param arms every arm record of the run (all seeds; a record without `seed` is seed 0)
 * @returns verdicts ordered by labeled size, then method
 */
export function verdicts(arms: readonly ArmRecord[]): Verdict[] {
  const sizes = [...new Set(arms.map((a) => a.labeled))].sort((a, b) => a - b);
  const methods = [...new Set(arms.filter((a) => a.stage === "fine-tune").map((a) => a.method!))];
  const out: Verdict[] = [];
  for (const n of sizes) {
    const at = arms.filter((a) => a.labeled === n);
    const plateau = at.length > 0 && at.every((a) => a.accuracy === 0);
    const sup = new Map(
      at.filter((a) => a.stage === "supervised").map((a) => [a.seed ?? 0, a]),
    );
    for (const m of methods) {
      const ft = at.filter((a) => a.stage === "fine-tune" && a.method === m && sup.has(a.seed ?? 0))
        .sort((a, b) => (a.seed ?? 0) - (b.seed ?? 0));
      if (ft.length === 0) continue;
      const seeds = ft.map((a) => a.seed ?? 0);
      const pairs = ft.map((a) => [a, sup.get(a.seed ?? 0)!] as const);
      const differences = pairs.map(([s, b]) => s.accuracy - b.accuracy);
      const d = meanStd(differences);
      const testCount = Math.min(...pairs.map(([s, b]) => Math.min(s.testCount, b.testCount)));
      const noise = Math.max(
        seeds.length > 1 ? t95(seeds.length - 1) * d.std / Math.sqrt(seeds.length) : Infinity,
        1 / testCount,
      );
      const cers = (xs: ArmRecord[]) =>
        xs.every((a) => a.cer !== null) ? meanStd(xs.map((a) => a.cer!)) : null;
      const ssl = meanStd(pairs.map(([s]) => s.accuracy));
      const base = meanStd(pairs.map(([, b]) => b.accuracy));
      const outcome: Outcome = plateau
        ? "no-arm-learns"
        : seeds.length < 2
        ? "one-seed"
        : d.mean > noise
        ? "ssl-beats-supervised"
        : d.mean < -noise
        ? "supervised-beats-ssl"
        : "within-noise";
      const acc = `${(100 * ssl.mean).toFixed(1)}% vs ${(100 * base.mean).toFixed(1)}%`;
      const text = outcome === "no-arm-learns"
        ? `no arm learns at ${n} labeled: every arm at 0% accuracy in every seed (CTC blank plateau)`
        : outcome === "one-seed"
        ? `${m} at ${n} labeled: ${acc} (${
          pts(d.mean)
        } pts) from one seed; the noise is unknown, no claim`
        : `${
          outcome === "ssl-beats-supervised"
            ? `SSL (${m}) beats supervised at ${n} labeled`
            : outcome === "supervised-beats-ssl"
            ? `supervised beats SSL (${m}) at ${n} labeled`
            : `SSL (${m}) and supervised are within the noise at ${n} labeled`
        }: ${acc}, paired difference ${pts(d.mean)} +- ${
          (100 * d.std).toFixed(1)
        } pts over ${seeds.length} seeds (noise threshold ${(100 * noise).toFixed(1)} pts)`;
      out.push({
        method: m,
        labeled: n,
        seeds,
        ssl,
        supervised: base,
        sslCer: cers(pairs.map(([s]) => s)),
        supervisedCer: cers(pairs.map(([, b]) => b)),
        differences,
        margin: d.mean,
        noise,
        outcome,
        text,
      });
    }
  }
  return out;
}

/**
 * The smallest labeled size at which the supervised baseline reaches `threshold` mean accuracy
 * (the size that decides the source's question), or null.
 */
export function decidingSize(arms: readonly ArmRecord[], threshold = 0.1): number | null {
  const sizes = [...new Set(arms.map((a) => a.labeled))].sort((a, b) => a - b);
  for (const n of sizes) {
    const sup = arms.filter((a) => a.stage === "supervised" && a.labeled === n);
    if (sup.length > 0 && meanStd(sup.map((a) => a.accuracy)).mean >= threshold) return n;
  }
  return null;
}
