/**
 * Shared by the command-line tests: running a task's `main` with its console captured, the
 * smallest protocol run's arguments, whether a path exists, and the shape of a user error.
 *
 * @module
 */
import assert from "node:assert/strict";

/** What a task's `main` printed (console.log as `out`, console.error as `err`) and returned. */
export interface Captured {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs `main(args)` with console.log and console.error captured (lines joined by newlines) and
 * restored afterwards, also when `main` throws. `warnings: "err"` captures console.warn into `err`
 * too; by default warnings print as usual.
 */
export async function captureMain(
  main: (args: string[]) => Promise<number>,
  args: string[],
  options: { warnings?: "err" | "print" } = {},
): Promise<Captured> {
  const out: string[] = [], err: string[] = [];
  const { log, error, warn } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  if (options.warnings === "err") console.warn = console.error;
  try {
    const code = await main(args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    Object.assign(console, { log, error, warn });
  }
}

/**
 * Arguments of a protocol run small enough for a test (MNIST lines, 32 unlabeled, 16 labeled and
 * 16 test images, one epoch per stage, widths 4-8, a checkpoint every step), with `options`
 * (flag name without `--` -> value) added or replacing those values in place; an option given
 * `undefined` is left out.
 */
export function tinyProtocolArgs(options: Record<string, string | undefined> = {}): string[] {
  const base: Record<string, string | undefined> = {
    dataset: "mnist-lines",
    unlabeled: "32",
    "pretrain-batch": "16",
    labeled: "16",
    test: "16",
    fractions: "1",
    "pretrain-epochs": "1",
    "head-epochs": "1",
    "finetune-epochs": "1",
    "supervised-epochs": "1",
    widths: "4,8",
    "head-hidden": "8",
    "umap-points": "0",
    "checkpoint-every": "1",
  };
  const merged = { ...base, ...options };
  return Object.entries(merged).flatMap(([name, value]) =>
    value === undefined ? [] : [`--${name}`, value]
  );
}

/** Whether `path` exists (anything `Deno.stat` can see). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A user error as every task reports it: exit 2, one `error: ...` line matching `pattern`, no stack trace. */
export function assertUserError(
  r: { code: number; err: string },
  pattern: RegExp,
  what: string,
): void {
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.err}`);
  const lines = r.err.split("\n").filter((l) => l.startsWith("error: "));
  assert.equal(lines.length, 1, `${what}: one error line\n${r.err}`);
  assert.match(lines[0], pattern, what);
  assert.ok(!/^\s+at /m.test(r.err), `${what}: no stack trace\n${r.err}`);
}
