/**
 * Declarative command-line options shared by the CLIs: parsing with `node:util` `parseArgs`
 * (strict: unknown options are errors), typed conversion, range checks and `--help` text.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { CheckpointError, TrainingDivergedError } from "../train/errors.ts";
import { DatasetError } from "../data/dataset.ts";

/** One option of a command. */
export interface OptionSpec {
  /** Kebab-case name without dashes: `batch-size`. */
  name: string;
  /** How the value is read. */
  type: "string" | "number" | "integer" | "boolean";
  /** Shown in `--help`. */
  description: string;
  /** Value when the option is absent (undefined: optional, no value). */
  default?: string | number | boolean;
  /** Allowed values of a string option. */
  choices?: readonly string[];
  /** Smallest allowed number. */
  min?: number;
  /** Largest allowed number. */
  max?: number;
  /** The smallest number is excluded. */
  minExclusive?: boolean;
  /** Text shown instead of the default value (e.g. "per dataset"). */
  defaultText?: string;
}

/** A user mistake on the command line: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  /**
   * A usage error.
   *
   * @param message what was expected and what was received, one line
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parsed values by camelCase name; absent optional options are `undefined`. */
export type ParsedOptions = Record<string, string | number | boolean | undefined>;

/** `batch-size` -> `batchSize`. */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Parses `args` against `specs` (`--help` is always accepted). Unknown options, missing values,
 * positionals (unless `positionals` collects them), non-numbers, values outside choices or ranges
 * are {@linkcode UsageError}s whose message says what was expected and what was received.
 *
 * @param args the command-line arguments
 * @param specs the command's options
 * @param positionals when given, bare arguments are allowed and pushed here in order
 * @returns the values by camelCase name
 */
export function parseOptions(
  args: string[],
  specs: readonly OptionSpec[],
  positionals?: string[],
): ParsedOptions {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
    verbose: { type: "boolean" },
  };
  for (const s of specs) options[s.name] = { type: s.type === "boolean" ? "boolean" : "string" };
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: !!positionals });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown) {
      throw new UsageError(
        `Unknown option ${unknown[1]}${
          suggest(unknown[1], specs)
        }; run with --help to list the options`,
      );
    }
    const positional = /Unexpected argument '([^']+)'/.exec(message);
    if (positional) {
      throw new UsageError(
        `Unexpected argument "${positional[1]}": every value must follow its --option`,
      );
    }
    const ambiguous = /Option '(--[^ ']+)[^']*' argument is ambiguous/.exec(message);
    if (ambiguous) {
      throw new UsageError(
        `${ambiguous[1]} needs a value; write a value that starts with a dash as ${
          ambiguous[1]
        }=-1`,
      );
    }
    throw new UsageError(message.split("\n")[0]);
  }
  positionals?.push(...parsed.positionals);
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const out: ParsedOptions = { help: values.help === true };
  if (values.verbose === true) out.verbose = true;
  for (const s of specs) {
    const raw = values[s.name];
    out[camelCase(s.name)] = raw === undefined ? s.default : convert(s, raw);
  }
  return out;
}

function suggest(given: string, specs: readonly OptionSpec[]): string {
  const name = given.replace(/^-+/, "").split("=")[0];
  let best: string | null = null, bestD = 3;
  for (const s of specs) {
    const d = editDistance(name, s.name);
    if (d < bestD) [best, bestD] = [s.name, d];
  }
  return best ? ` (did you mean --${best}?)` : "";
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]++;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

function convert(s: OptionSpec, raw: string | boolean): string | number | boolean {
  if (s.type === "boolean") return raw as boolean;
  const text = raw as string;
  if (s.type === "string") {
    if (
      s.choices && !s.choices.includes(text) &&
      !s.choices.some((c) => c.endsWith(":") && text.startsWith(c))
    ) {
      throw new UsageError(
        `--${s.name} must be one of ${s.choices.join(", ")}, received "${text}"`,
      );
    }
    return text;
  }
  const v = Number(text);
  if (text.trim() === "" || !Number.isFinite(v)) {
    throw new UsageError(`--${s.name} must be a number, received "${text}"`);
  }
  if (s.type === "integer" && !Number.isInteger(v)) {
    throw new UsageError(`--${s.name} must be an integer, received ${text}`);
  }
  if (s.min !== undefined && (s.minExclusive ? v <= s.min : v < s.min)) {
    throw new UsageError(
      `--${s.name} must be ${s.minExclusive ? ">" : ">="} ${s.min}, received ${text}`,
    );
  }
  if (s.max !== undefined && v > s.max) {
    throw new UsageError(`--${s.name} must be <= ${s.max}, received ${text}`);
  }
  return v;
}

/** The `--help` text: usage line, then one aligned line per option with its default. */
export function formatHelp(usage: string, specs: readonly OptionSpec[]): string {
  const rows = specs.map((s) => {
    const value = s.type === "boolean"
      ? ""
      : s.choices
      ? ` <${s.choices.join("|")}>`
      : ` <${s.type === "string" ? "value" : "n"}>`;
    const def = s.defaultText ??
      (s.default === undefined || s.default === false ? "" : String(s.default));
    return [`  --${s.name}${value}`, `${s.description}${def ? ` (default: ${def})` : ""}`];
  });
  rows.push(["  --verbose", "print the stack trace of an error"]);
  rows.push(["  -h, --help", "print this help and exit"]);
  const width = Math.min(40, Math.max(...rows.map((r) => r[0].length)) + 2);
  return `${usage}\n\nOptions:\n${
    rows.map(([a, b]) => a.length >= width ? `${a}\n${" ".repeat(width)}${b}` : a.padEnd(width) + b)
      .join("\n")
  }\n`;
}

/**
 * The options given explicitly in `args` (camelCase names), as opposed to defaults: `--resume`
 * compares exactly these with the saved run.
 *
 * @param args the command-line arguments
 * @param specs the command's options
 * @returns the names given
 */
export function givenOptions(args: string[], specs: readonly OptionSpec[]): Set<string> {
  const bare = specs.map((s) => ({ ...s, default: undefined }));
  const parsed = parseOptions(args, bare);
  return new Set(
    specs.map((s) => camelCase(s.name)).filter((k) => parsed[k] !== undefined),
  );
}

/** What JavaScript engines and tfjs say when an allocation fails. */
const OUT_OF_MEMORY =
  /allocation failed|Invalid typed array length|Array buffer allocation|out of memory|OOM/i;

/** Options that size the tensors a command allocates (named when an allocation fails). */
const MEMORY_OPTIONS = [
  "batch-size",
  "pretrain-batch",
  "widths",
  "queue-size",
  "knn-bank",
  "knn-queries",
  "train-size",
];

const ENGINE_TYPE_ERROR =
  /^Cannot (read|set) properties of|is not a function|is not iterable|is not a constructor|Assignment to constant/;

/**
 * Whether `e` is a user, data or file-system error (printed as one line, exit 2) rather than a
 * bug: bad usage and validation (`UsageError`, `TypeError`, `RangeError`), unusable data
 * (`DatasetError`), a damaged checkpoint (`CheckpointError`), a JSON file that does not parse
 * (`SyntaxError`), and the operating system's
 * refusals (`Deno.errors.*`: not found, permission denied, not a directory, disk full...).
 *
 * @param e the error
 * @returns true when it is the user's to fix
 */
export function isUserError(e: unknown): e is Error {
  // the engine's own TypeErrors are bugs, not validation: they keep their stack
  if (e instanceof TypeError && ENGINE_TYPE_ERROR.test(e.message)) return false;
  if (
    e instanceof UsageError || e instanceof TypeError || e instanceof RangeError ||
    e instanceof DatasetError || e instanceof CheckpointError
  ) return true;
  // a JSON file the user named (a --from report) that does not parse; code is parsed at load
  if (e instanceof SyntaxError && /JSON/.test(e.message)) return true;
  if (!(e instanceof Error)) return false;
  if (Object.values(Deno.errors).some((k) => e instanceof (k as typeof Error))) return true;
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code); // ENOSPC, EROFS, EACCES...
}

/**
 * The shell of a command: parses `args` against `specs`, prints `--help`, runs `run`, and maps
 * errors to exit codes: 2 and one `error: ...` line for every user, data and file-system error
 * ({@linkcode isUserError}), 1 for a diverged run, anything else (a bug) rethrown. `--verbose`
 * also prints the stack.
 *
 * @param args the command-line arguments
 * @param specs the command's options
 * @param usage the help text's opening
 * @param run the command itself, given the options and any bare arguments; its result is the
 * exit code
 * @param settings `positionals: true` lets bare arguments through (else they are an error)
 * @returns the exit code
 */
export async function runCommand(
  args: string[],
  specs: readonly OptionSpec[],
  usage: string,
  run: (options: ParsedOptions, positionals: string[]) => Promise<number>,
  settings: { positionals?: boolean } = {},
): Promise<number> {
  let options: ParsedOptions;
  const positionals: string[] = [];
  try {
    options = parseOptions(args, specs, settings.positionals ? positionals : undefined);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (options.help) {
    console.log(formatHelp(usage, specs));
    return 0;
  }
  try {
    return await run(options, positionals);
  } catch (e) {
    if (e instanceof TrainingDivergedError) {
      console.error(`error: ${e.message}`);
      if (options.verbose) console.error(e.stack);
      return 1;
    }
    if (isUserError(e)) {
      const memory = OUT_OF_MEMORY.test(e.message)
        ? `; out of memory: try a smaller ${
          specs.filter((s) => MEMORY_OPTIONS.includes(s.name)).map((s) => `--${s.name}`).join(
            ", ",
          ) || "input"
        }`
        : "";
      console.error(`error: ${e.message.split("\n")[0]}${memory}`);
      if (options.verbose) console.error(e.stack);
      return 2;
    }
    throw e;
  }
}
