/**
 * The Stryker that `deno task mutate` runs: `@stryker-mutator/core` at a pinned version, installed
 * once with npm under `runs/mutation/`, its instrumenter patched so that it mutates the expression
 * of `expr as T`.
 *
 * Stryker 9.6.1's instrumenter lists `TSAsExpression` among the type-only nodes it never enters
 * (`isTypeNode` in `instrumenter/dist/src/util/syntax-helpers.js`), so the whole cast is skipped,
 * expression included: no mutant inside any `tf.sub(...) as tf.Tensor2D` or
 * `tf.customGrad((...) as unknown as ...)`, 4.6% of our files' mutants (bench/RESULTS.md, seventh
 * pass). Upstream: stryker-js issues #6208 and #6227, pull request #6228 (open, not released); no
 * option or plugin brings those mutants back (ignorers can only drop mutants). The patch below is
 * the first fix: drop `TSAsExpression` from the list and skip every TypeScript type node
 * (`path.isTSType()`) instead, so the type of a cast (and of `satisfies`, `<T>x`) is still left
 * alone. `--stock` runs an unpatched copy, for comparison with the passes counted before.
 *
 * @module
 */

/** The Stryker version `deno task mutate` installs. */
export const STRYKER_VERSION = "9.6.1";

/** The instrumenter file the patch edits, relative to the install folder. */
export const INSTRUMENTER_FILE =
  "node_modules/@stryker-mutator/instrumenter/dist/src/util/syntax-helpers.js";

const MARK = "// selfsup patch: mutate the expression of `expr as T`, skip only its type (#6208)";
const LIST_ENTRY = /^ *'TSAsExpression',\n/gm;
const HEAD = "export function isTypeNode(path) {\n    return (path.isTypeAnnotation() ||\n";
const PATCHED_HEAD = "export function isTypeNode(path) {\n    " + MARK +
  "\n    return (path.isTypeAnnotation() ||\n        path.isTSType() ||\n";

function count(text: string, part: string | RegExp): number {
  return typeof part === "string" ? text.split(part).length - 1 : (text.match(part) ?? []).length;
}

/**
 * Patches the text of Stryker's `syntax-helpers.js` (see the module doc). Idempotent: patched
 * text comes back unchanged. Throws when the text is neither the pinned version's nor its patched
 * form (another version, or upstream changed the code: see whether #6208 is fixed there).
 *
 * @param text the file's text
 * @returns the patched text, and whether it differs from `text`
 */
export function patchInstrumenter(text: string): { text: string; changed: boolean } {
  const marks = count(text, MARK);
  const entries = count(text, LIST_ENTRY);
  if (marks === 1 && entries === 0 && count(text, PATCHED_HEAD) === 1) {
    return { text, changed: false };
  }
  if (marks === 0 && entries === 1 && count(text, HEAD) === 1) {
    return { text: text.replace(LIST_ENTRY, "").replace(HEAD, PATCHED_HEAD), changed: true };
  }
  throw new Error(
    `Cannot patch Stryker's instrumenter (${INSTRUMENTER_FILE}): expected ${STRYKER_VERSION}'s ` +
      `isTypeNode with one 'TSAsExpression' entry, or its patched form, received ${entries} ` +
      `entries, ${marks} patch marks and ${count(text, HEAD)} unpatched heads; if upstream ` +
      `changed the code, check whether stryker-js#6208 is fixed and drop the patch`,
  );
}

/**
 * Node script run in the install folder: instruments `const y = (a + b) as number;` and prints
 * the names of the mutators that found a mutant, one per line.
 */
export const CHECK_SCRIPT = `
import { Instrumenter } from "@stryker-mutator/instrumenter";
const quiet = () => {};
const log = { debug: quiet, info: quiet, trace: quiet, warn: console.warn, error: console.error,
  isDebugEnabled: () => false, isTraceEnabled: () => false };
const { mutants } = await new Instrumenter(log).instrument(
  [{ name: "check.ts", content: "const y = (a + b) as number;\\n", mutate: true }],
  { plugins: null, excludedMutations: [], ignorers: [], noHeader: false },
);
for (const m of mutants) console.log(m.mutatorName);
`;

/**
 * Reads what `CHECK_SCRIPT` printed: whether the instrumenter mutated the `a + b` inside the cast.
 *
 * @param printed the script's standard output
 * @returns true when an `ArithmeticOperator` mutant was made
 */
export function castMutated(printed: string): boolean {
  return printed.split("\n").some((l) => l.trim() === "ArithmeticOperator");
}

/** Runs a program; returns its exit code and standard output. */
export type Run = (
  cmd: string,
  args: string[],
  cwd?: string,
) => Promise<{ code: number; stdout: string }>;

async function run(cmd: string, args: string[], cwd?: string) {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "inherit" })
    .output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
}

/** Whether `path` exists (file or folder). */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Installs Stryker under `root` if it is not there, patches it (unless `stock`), and checks
 * that its instrumenter does (patched) or does not (stock) mutate inside a cast.
 *
 * @param root the folder that holds the install folders
 * @param stock leave the instrumenter as published
 * @param exec runs npm and node (tests pass a stand-in)
 * @returns the path of the `stryker` executable
 */
export async function ensureStryker(
  root: string,
  stock: boolean,
  exec: Run = run,
): Promise<string> {
  const dir = `${root}/stryker-${STRYKER_VERSION}${stock ? "-stock" : ""}`;
  const bin = `${dir}/node_modules/.bin/stryker`;
  if (!exists(bin)) {
    await Deno.mkdir(dir, { recursive: true });
    const npm = await exec("npm", [
      "install",
      "--prefix",
      dir,
      "--no-audit",
      "--no-fund",
      "--save-exact",
      `@stryker-mutator/core@${STRYKER_VERSION}`,
    ]);
    if (npm.code !== 0) throw new Error(`mutate: npm install failed (exit ${npm.code})`);
  }
  if (!stock) {
    const file = `${dir}/${INSTRUMENTER_FILE}`;
    const patched = patchInstrumenter(await Deno.readTextFile(file));
    if (patched.changed) await Deno.writeTextFile(file, patched.text);
  }
  const check = await exec("node", ["--input-type=module", "-e", CHECK_SCRIPT], dir);
  if (check.code !== 0 || castMutated(check.stdout) === stock) {
    throw new Error(
      `mutate: the ${stock ? "stock" : "patched"} instrumenter in ${dir} ${
        stock ? "mutated" : "did not mutate"
      } \`(a + b) as number\` (exit ${check.code}, mutators: ${
        check.stdout.trim().replace(/\n/g, ", ") || "none"
      })`,
    );
  }
  return bin;
}
