/** Options for {@linkcode progressReporter}. */
export interface ProgressOptions {
  /**
   * Draw a bar redrawn in place (`\r`) rather than plain lines.
   * @default Deno.stderr.isTerminal()
   */
  terminal?: boolean;
  /**
   * Where text goes.
   * @default writes to stderr
   */
  write?: (text: string) => void;
  /**
   * Plain mode: print every this many steps (and the last).
   * @default max(1, round(total / 20))
   */
  every?: number;
  /**
   * Steps already done when the clock starts (a resumed run), for the rate and ETA.
   * @default 0
   */
  start?: number;
  /**
   * Clock in milliseconds (tests pass a fake one).
   * @default performance.now
   */
  now?: () => number;
}

/** What {@linkcode progressReporter} returns. */
export interface ProgressReporter {
  /** Reports that `step` steps out of the total are done, with the figures to show. */
  update(step: number, fields: Record<string, number>): void;
  /** Prints a whole line (an evaluation, a checkpoint), without breaking the bar. */
  line(text: string): void;
  /** Ends the bar. */
  done(): void;
}

/**
 * Formats seconds as `1h02m`, `3m05s` or `12s` (`?` when not finite).
 *
 * @param seconds a duration
 * @returns the short form
 *
 * @example
 * ```ts
 * import { formatDuration } from "./progress.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatDuration(185), "3m05s");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, "0")}s`;
  return `${r}s`;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return a >= 100 ? v.toFixed(1) : v.toPrecision(4);
}

/**
 * A progress display for `total` steps: a bar with percentage, figures and ETA on a terminal, or
 * plain lines every few steps otherwise (logs and CI stay readable).
 *
 * @param total the number of steps
 * @param options terminal mode, output, frequency, clock
 * @returns a reporter
 *
 * @example
 * ```ts
 * import { progressReporter } from "./progress.ts";
 * import assert from "node:assert/strict";
 * const out: string[] = [];
 * let t = 0;
 * const p = progressReporter(4, { terminal: false, every: 2, write: (s) => out.push(s), now: () => t });
 * t = 1000; p.update(2, { loss: 1.5 });
 * p.done();
 * assert.match(out[0], /step 2\/4 .*loss 1\.500 .*ETA 1s/);
 * ```
 */
export function progressReporter(total: number, options: ProgressOptions = {}): ProgressReporter {
  const write = options.write ??
    ((text: string) => Deno.stderr.writeSync(new TextEncoder().encode(text)));
  const terminal = options.terminal ?? isStderrTerminal();
  const every = options.every ?? Math.max(1, Math.round(total / 20));
  const now = options.now ?? (() => performance.now());
  const start = now();
  const first = options.start ?? 0;
  let drawn = false;
  const width = 24;
  return {
    update(step, fields) {
      const elapsed = (now() - start) / 1000;
      const rate = (step - first) / Math.max(elapsed, 1e-9);
      const eta = (total - step) / rate;
      const figures = Object.entries(fields).map(([k, v]) => `${k} ${fmt(v)}`).join(" ");
      if (terminal) {
        const filled = Math.round(width * step / total);
        const bar = "#".repeat(filled) + ".".repeat(width - filled);
        write(
          `\r\x1b[2K[${bar}] ${step}/${total} ${Math.floor(100 * step / total)}% ${figures} ETA ${
            formatDuration(eta)
          }`,
        );
        drawn = true;
      } else if (step % every === 0 || step === total) {
        write(`step ${step}/${total} ${figures} ETA ${formatDuration(eta)}\n`);
      }
    },
    line(text) {
      write(terminal && drawn ? `\r\x1b[2K${text}\n` : `${text}\n`);
    },
    done() {
      if (terminal && drawn) write("\n");
      drawn = false;
    },
  };
}

function isStderrTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}
