/**
 * Mutation testing (`deno task mutate [source files...]`): runs Stryker (npm
 * `@stryker-mutator/core`, its command test runner) once per source file, with that file's own
 * test file (`losses/nt_xent.ts` -> `tests/losses/nt_xent_test.ts`) as the command, so each
 * mutant costs one small `deno test` run. Prints one row per file (mutants, killed, survived,
 * score, score without string-literal mutants, which are mostly error messages) and every
 * surviving mutant; the JSON reports land in `runs/mutation/`. Not part of CI: a file of ~50
 * mutants takes minutes on two cores.
 *
 * A source file listed in {@linkcode COVERING_TESTS} also gets the other test files that cover it
 * (`eval/ctc_loss.ts`: `tests/eval/ctc_test.ts` and `tests/eval/ctc_loss_edges_test.ts`), unless
 * `--with` or `--only` names the files itself.
 *
 * `--with a_test.ts,b_test.ts` adds test files to every file's command (e.g. the method loss pins:
 * `deno task mutate methods/simclr.ts --with tests/methods/loss_pin_test.ts`).
 * `--only a_test.ts,b_test.ts` runs those files instead of the mirror test (for a module whose
 * mirror test is a slow learning run, or which has none): the score is then that of the named
 * files alone, a lower bound on the whole suite's. `--filter /regex/` passes deno test's
 * `--filter` (e.g. `/simclr|two-view/` runs only those tests of a file shared by every method).
 *
 * A file may carry a line range, as Stryker reads it: `losses/_ops.ts:1-140` mutates those lines
 * and runs `tests/losses/_ops_test.ts` (or the `--only` files).
 *
 * Stryker is installed once under `runs/mutation/` and its instrumenter patched so that it also
 * mutates inside `expr as T` casts, which Stryker 9.6.1 skips whole (`bench/_stryker.ts`);
 * `--stock` runs the unpatched package, as every pass before the eighth did.
 *
 * Default files: the public files of `losses/`. Score = (killed + timed out) / (those +
 * survived + no coverage), Stryker's definition.
 *
 * @module
 */

import { type OptionSpec, runCommand } from "../cli/_args.ts";
import { ensureStryker, exists } from "./_stryker.ts";

const OUT = "runs/mutation";

/** One Stryker mutant, as its JSON report has it. */
export interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number } };
}

/** One source file's mutation score. */
export interface Row {
  file: string;
  total: number;
  killed: number;
  survived: Mutant[];
  score: number;
  scoreNoStrings: number;
}

/**
 * The mirror test of a source file, which may carry a Stryker line range:
 * `losses/_ops.ts:1-140` -> `tests/losses/_ops_test.ts`.
 *
 * @param source a source file, optionally followed by `:start-end`
 * @returns the test file's path
 */
export function testFileOf(source: string): string {
  return `tests/${source.replace(/:\d+-\d+$/, "").replace(/\.ts$/, "_test.ts")}`;
}

/**
 * Test files that cover a source file beyond its mirror test, added to its command when neither
 * `--with` nor `--only` is given, so that `deno task mutate <file>` scores the file against the
 * tests that cover it. Keyed by the source file without a line range. Each entry rests on a
 * mutation run recorded in bench/RESULTS.md.
 */
export const COVERING_TESTS: Readonly<Record<string, readonly string[]>> = {
  // the mirror test holds the gradient and zeroInfinity; these the brute-force parity, every
  // refusal and its message, the reductions and the log-add order (tenth pass, 312 mutants: 65
  // survivors with the mirror test alone, 19 with these, 17 since 4da29b2, all equivalent).
  // Their decoder tests take ~30 ms in all: no --filter needed.
  "eval/ctc_loss.ts": ["tests/eval/ctc_test.ts", "tests/eval/ctc_loss_edges_test.ts"],
};

/**
 * The test files a source file's command runs besides its mirror test, when the user names none:
 * its {@linkcode COVERING_TESTS} entry, if any.
 *
 * @param source a source file, optionally followed by `:start-end`
 * @returns the test files
 */
export function coveringTestsOf(source: string): string[] {
  return [...(COVERING_TESTS[source.replace(/:\d+-\d+$/, "")] ?? [])];
}

async function defaultFiles(): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir("losses")) {
    if (e.isFile && e.name.endsWith(".ts") && !e.name.startsWith("_") && e.name !== "mod.ts") {
      files.push(`losses/${e.name}`);
    }
  }
  return files.sort();
}

function score(mutants: Mutant[]): number {
  const detected = mutants.filter((m) => m.status === "Killed" || m.status === "Timeout").length;
  const valid =
    mutants.filter((m) => ["Killed", "Timeout", "Survived", "NoCoverage"].includes(m.status))
      .length;
  return valid === 0 ? NaN : detected / valid;
}

async function mutateFile(
  file: string,
  extra: string[],
  only: string[],
  filter: string | undefined,
  stock: boolean,
): Promise<Row | null> {
  const tests = only.length > 0 ? only : [testFileOf(file), ...extra];
  const missing = tests.find((t) => !exists(t));
  if (missing) {
    console.warn(`mutate: ${file}: no ${missing}, skipped`);
    return null;
  }
  const name = file.replace(/[/.:-]/g, "_");
  const report = `${OUT}/${name}.json`;
  const config = {
    testRunner: "command",
    commandRunner: {
      command: `deno test -A --no-check --fail-fast ${filter ? `--filter '${filter}' ` : ""}${
        tests.join(" ")
      }`,
    },
    mutate: [file],
    coverageAnalysis: "off",
    concurrency: 1,
    timeoutMS: 30_000,
    dryRunTimeoutMinutes: 30,
    reporters: ["progress-append-only", "json"],
    jsonReporter: { fileName: report },
    tempDirName: `${OUT}/tmp-${name}`,
    ignorePatterns: ["runs", "docs", ".notes", "bench", ".git"],
    cleanTempDir: true,
  };
  const configPath = `${OUT}/${name}.conf.json`;
  await Deno.writeTextFile(configPath, JSON.stringify(config, null, 2));
  const stryker = await ensureStryker(OUT, stock);
  const status = await new Deno.Command(stryker, {
    args: ["run", configPath],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!exists(report)) {
    console.error(`mutate: Stryker failed on ${file} (exit ${status.code})`);
    return null;
  }
  const json = JSON.parse(await Deno.readTextFile(report)) as {
    files: Record<string, { mutants: Mutant[] }>;
  };
  const mutants = Object.values(json.files).flatMap((f) => f.mutants);
  return {
    file,
    total: mutants.length,
    killed: mutants.filter((m) => m.status === "Killed" || m.status === "Timeout").length,
    survived: mutants.filter((m) => m.status === "Survived" || m.status === "NoCoverage"),
    score: score(mutants),
    scoreNoStrings: score(mutants.filter((m) => m.mutatorName !== "StringLiteral")),
  };
}

/** Options of `deno task mutate`, in `--help` order. */
export const MUTATE_OPTIONS: readonly OptionSpec[] = [
  {
    name: "with",
    type: "string",
    description: "comma-separated test files added to every file's command (not the listed ones)",
  },
  {
    name: "only",
    type: "string",
    description: "comma-separated test files run instead of each file's mirror test",
  },
  {
    name: "filter",
    type: "string",
    description: "passed to deno test --filter (e.g. /simclr|two-view/)",
  },
  {
    name: "stock",
    type: "boolean",
    description: "Stryker's instrumenter unpatched (no mutant inside `expr as T`)",
  },
];

const USAGE = `Usage: deno task mutate [options] [source files...]

Mutation testing with Stryker: each source file against its own test file
(losses/nt_xent.ts -> tests/losses/nt_xent_test.ts), and unless --with or --only
is given, the test files that also cover it:
${
  Object.entries(COVERING_TESTS).map(([source, tests]) => `  ${source}: ${tests.join(", ")}`)
    .join("\n")
}
Reports land in ${OUT}/.
Default files: the public files of losses/. A file may carry a line range
(losses/_ops.ts:1-140). Stryker is installed under ${OUT}/ on first use, its
instrumenter patched to mutate inside \`expr as T\` (--stock: as published). Example:
  deno task mutate methods/simclr.ts --with tests/methods/loss_pin_test.ts`;

function list(value: unknown): string[] {
  return typeof value === "string" ? value.split(",").filter(Boolean) : [];
}

/**
 * `deno task mutate` on `args`: one Stryker run per source file (`mutate` runs one; tests pass
 * their own), then the table and every survivor. A file's extra tests are `--with`'s, or, when
 * neither `--with` nor `--only` is given, its {@linkcode coveringTestsOf}. `-h` prints the usage
 * and runs nothing.
 *
 * @param args the command-line arguments
 * @param mutate runs one file's mutants (Stryker by default)
 * @returns the exit code
 */
export function mutateMain(
  args: string[],
  mutate: (
    file: string,
    extra: string[],
    only: string[],
    filter: string | undefined,
    stock: boolean,
  ) => Promise<Row | null> = mutateFile,
): Promise<number> {
  return runCommand(args, MUTATE_OPTIONS, USAGE, async (o, positionals) => {
    const extra = list(o.with);
    const only = list(o.only);
    const filter = o.filter as string | undefined;
    const stock = o.stock === true;
    const files = positionals.length > 0 ? positionals : await defaultFiles();
    await Deno.mkdir(OUT, { recursive: true });
    const rows: Row[] = [];
    const named = extra.length > 0 || only.length > 0;
    for (const file of files) {
      const row = await mutate(file, named ? extra : coveringTestsOf(file), only, filter, stock);
      if (row) rows.push(row);
    }
    const pct = (x: number) => Number.isNaN(x) ? "-" : `${(100 * x).toFixed(1)}%`;
    console.log("\n| file | mutants | killed | survived | score | score without StringLiteral |");
    console.log("|---|---:|---:|---:|---:|---:|");
    for (const r of rows) {
      console.log(
        `| ${r.file} | ${r.total} | ${r.killed} | ${r.survived.length} | ${pct(r.score)} | ${
          pct(r.scoreNoStrings)
        } |`,
      );
    }
    const all = rows.reduce((a, r) => [a[0] + r.killed, a[1] + r.killed + r.survived.length], [
      0,
      0,
    ]);
    console.log(`\nall files: ${all[0]} of ${all[1]} mutants killed (${pct(all[0] / all[1])})`);
    for (const r of rows) {
      for (const m of r.survived) {
        console.log(
          `survived ${r.file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} -> ${
            (m.replacement ?? "").replace(/\s+/g, " ").slice(0, 80)
          }`,
        );
      }
    }
    return 0;
  }, { positionals: true });
}

if (import.meta.main) {
  Deno.exit(await mutateMain(Deno.args));
}
