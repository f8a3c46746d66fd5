/**
 * `deno task lint`: formatting, lint rules, type checks, doc lint and a publish dry run, in that
 * order, stopping at the first that fails (with its exit code). A script rather than a chain of
 * `&&` in deno.json, so that `deno task lint --help` prints this usage instead of handing
 * `--help` to the last command after running all the others.
 *
 * Run: `deno task lint` (or `deno run -A .ci/lint.ts`)
 *
 * @module
 */
import { runCommand } from "../cli/_args.ts";

/** The checks, each a `deno` command line, in the order they run. */
export const LINT_STEPS: readonly string[][] = [
  ["fmt", "--check"],
  ["lint"],
  ["check", "mod.ts", "cli/", "bench/", "tests/"],
  ["run", "-A", ".ci/doc_lint.ts"],
  ["publish", "--dry-run", "--allow-dirty", "--quiet"],
];

const USAGE = `Usage: deno task lint

Runs, stopping at the first failure:
${LINT_STEPS.map((s) => `  deno ${s.join(" ")}`).join("\n")}`;

/** Runs `deno <args>` with the terminal's stdio; resolves to its exit code. */
async function deno(args: string[]): Promise<number> {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return code;
}

/**
 * `deno task lint` on `args`: `-h`/`--help` prints the usage and runs nothing.
 *
 * @param args the command-line arguments (none besides `-h`, `--help`, `--verbose`)
 * @param run runs one `deno` command line (tests pass a recorder)
 * @returns 0 when every step passed, else the failing step's exit code
 */
export function lintMain(
  args: string[],
  run: (args: string[]) => Promise<number> = deno,
): Promise<number> {
  return runCommand(args, [], USAGE, async () => {
    for (const [i, step] of LINT_STEPS.entries()) {
      console.error(`lint ${i + 1}/${LINT_STEPS.length}: deno ${step.join(" ")}`);
      const code = await run(step);
      if (code !== 0) {
        console.error(`lint: deno ${step.join(" ")} failed (exit ${code})`);
        return code;
      }
    }
    return 0;
  });
}

if (import.meta.main) {
  Deno.exit(await lintMain(Deno.args));
}
