/**
 * Run folders shared by the tasks: names that stay inside `--out`, a fresh run that never
 * overwrites another run (or an interrupted checkpoint), and `--resume` that continues only a run
 * of the same task, with the saved settings, changing only what may change.
 *
 * @module
 */
import { checkpointLeftovers, hasCheckpoint } from "../train/mod.ts";
import { type ParsedOptions, UsageError } from "./_args.ts";

/** The tasks that write run folders; `config.json` records which one wrote it. */
export type RunKind = "pretrain" | "protocol";

/**
 * Checks that `--run-name` is one path segment (no `/`, `\`, `.` or `..`), so the run stays
 * inside `--out`.
 *
 * @param name the run name
 * @returns the name
 */
export function checkRunName(name: string): string {
  if (!name || name === "." || name === ".." || /[\/\\\0]/.test(name)) {
    throw new UsageError(
      `--run-name must be a single folder name (no "/", "\\", "." or ".."), received "${name}"`,
    );
  }
  return name;
}

/**
 * Reads a JSON file of a run; null when it does not exist, a one-line UsageError naming the file
 * when it is not valid JSON or cannot be read.
 *
 * @param path the file
 * @returns the parsed value, or null
 */
export async function readRunJson<T>(path: string): Promise<T | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new UsageError(`Cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new UsageError(`Cannot read ${path}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Refuses a fresh run in a folder that holds a run already: a `config.json` (of any task), a
 * `results.json`, or any checkpoint of `checkpoints` (including an interrupted save's leftovers).
 *
 * @param dir the run folder
 * @param checkpoints the checkpoint directories a run of this task writes there
 */
export async function guardFreshRun(dir: string, checkpoints: string[]): Promise<void> {
  const config = await readRunJson<{ command?: string }>(`${dir}/config.json`).catch(() => ({
    command: "unknown",
  }));
  const found: string[] = [];
  if (config) found.push(`a ${config.command ?? "unknown"} run's config.json`);
  if (await exists(`${dir}/results.json`)) found.push("results.json");
  for (const c of checkpoints) {
    for (const p of await checkpointLeftovers(c)) {
      found.push(p.startsWith(`${dir}/`) ? p.slice(dir.length + 1) : p);
    }
  }
  if (found.length > 0) {
    throw new UsageError(
      `${dir} already holds a run: pass --resume to continue it or choose another --run-name (found ${
        found.join(", ")
      })`,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false;
    throw e;
  }
}

/** How `--resume` treats the flags given with it. */
export interface ResumeRules {
  /** Options always taken from the command line (`out`, `quiet`, `backend`...). */
  runtime: readonly string[];
  /** Options that may change on resume; applied with a one-line notice. */
  mutable: readonly string[];
  /** The checkpoint that must exist for there to be something to resume (omitted: no check). */
  checkpoint?: string;
}

/**
 * The options of a resumed run: those saved in its `config.json`, the runtime ones from the
 * command line, and the `mutable` ones given on the command line (each change told through
 * `notice`). Refused (UsageError): no such run, a run of another task, nothing to resume (no
 * checkpoint), or a given flag that differs from the saved run and may not change.
 *
 * @param dir the run folder
 * @param kind the task resuming it
 * @param cli the parsed command line
 * @param given the options given explicitly on the command line (camelCase)
 * @param rules runtime and mutable options, and the checkpoint to require
 * @param notice told one line per changed setting
 * @returns the options to run with
 */
export async function resumeOptions(
  dir: string,
  kind: RunKind,
  cli: ParsedOptions,
  given: ReadonlySet<string>,
  rules: ResumeRules,
  notice: (line: string) => void = (l) => console.error(l),
): Promise<ParsedOptions> {
  const config = await readRunJson<{ command?: string; options?: ParsedOptions }>(
    `${dir}/config.json`,
  );
  if (!config) throw new UsageError(`--resume: no run to continue at ${dir} (config.json missing)`);
  if (config.command !== kind || !config.options || typeof config.options !== "object") {
    throw new UsageError(
      `--resume: ${dir} holds a ${
        config.command ?? "unknown"
      } run, not a ${kind} run; choose another --run-name`,
    );
  }
  if (rules.checkpoint && !(await hasCheckpoint(rules.checkpoint))) {
    throw new UsageError(
      `--resume: nothing to resume in ${dir}: no checkpoint at ${rules.checkpoint}`,
    );
  }
  const saved = config.options;
  const o: ParsedOptions = { ...saved };
  for (const k of rules.runtime) o[k] = cli[k];
  const refused: string[] = [];
  for (const k of given) {
    if (rules.runtime.includes(k) || k === "help" || k === "verbose") continue;
    const same = JSON.stringify(cli[k]) === JSON.stringify(saved[k]);
    if (same) continue;
    if (rules.mutable.includes(k)) {
      notice(
        `resume: --${kebab(k)} ${cli[k]} replaces the saved ${
          saved[k] === undefined ? "default" : String(saved[k])
        }`,
      );
      o[k] = cli[k];
    } else {
      refused.push(
        `--${kebab(k)} ${cli[k]} (saved: ${saved[k] === undefined ? "default" : saved[k]})`,
      );
    }
  }
  if (refused.length > 0) {
    throw new UsageError(
      `--resume continues ${dir} with its saved settings; ${refused.join(", ")} cannot change${
        rules.mutable.length
          ? ` (only ${rules.mutable.map((k) => `--${kebab(k)}`).join(", ")} can)`
          : ""
      }: drop ${refused.length > 1 ? "them" : "it"} or start a new --run-name`,
    );
  }
  return o;
}

function kebab(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** What an image folder held: the figures of the one summary line and of `config.json`. */
export interface ImageCounts {
  /** Images that decoded (or passed the scan). */
  loaded: number;
  /** Image files skipped: at the scan, or when they failed to decode. */
  skipped: number;
  /** Skipped files by reason. */
  reasons: Record<string, number>;
  /** Files that are no images (README.md) or lie outside the class folders. */
  ignored: number;
}

/**
 * `12 images, 6 skipped (truncated 2, undecodable 4), 1 non-image file ignored`.
 *
 * @param c the counts
 * @returns the summary line
 */
export function formatCounts(c: ImageCounts): string {
  const reasons = Object.entries(c.reasons).map(([k, v]) => `${k} ${v}`).join(", ");
  return `${c.loaded} images, ${c.skipped} skipped${reasons ? ` (${reasons})` : ""}${
    c.ignored ? `, ${c.ignored} non-image file${c.ignored > 1 ? "s" : ""} ignored` : ""
  }`;
}

/**
 * Refuses, before any work, an output folder that cannot be created because a file stands where
 * one of its folders should be (`--out results.json/x`): the first path that exists on the way
 * up must be a folder. Other failures (permissions, a full disk) surface when writing.
 *
 * @param path the folder a command will create and write into
 * @param flag the option that named it, for the message (`--out`)
 * @param given the option's value when it names a file in `path` (`--out views.png`)
 */
export async function checkOutputFolder(
  path: string,
  flag: string,
  given: string = path,
): Promise<void> {
  let p = path.replace(/\/+$/, "") || "/";
  for (;;) {
    try {
      const info = await Deno.stat(p);
      if (!info.isDirectory) {
        throw new UsageError(
          p === given
            ? `${flag} must name a folder, received ${given}, which is a file`
            : `${flag} ${given} cannot be created: ${p} is a file, not a folder`,
        );
      }
      return;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        if (e instanceof Deno.errors.NotADirectory) {
          // some ancestor of p is a file: keep walking up to name it
        } else throw e;
      }
    }
    const up = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) || "/" : ".";
    if (up === p) return;
    p = up;
  }
}
