// The command-line layer's shape (issue 18): task files of a size a reader can hold (no file in
// cli/ over 400 lines), and one argument parser, cli/_args.ts, behind every task script in
// deno.json.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAX_LINES = 400;

function lineCount(text: string): number {
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

Deno.test(`cli: no file in cli/ is over ${MAX_LINES} lines`, () => {
  const over: string[] = [];
  let files = 0;
  for (const e of Deno.readDirSync(join(ROOT, "cli"))) {
    if (!e.isFile || !e.name.endsWith(".ts")) continue;
    files++;
    const n = lineCount(Deno.readTextFileSync(join(ROOT, "cli", e.name)));
    if (n > MAX_LINES) over.push(`cli/${e.name}: ${n} lines`);
  }
  assert.ok(files >= 4, `only ${files} files found in cli/`);
  assert.deepEqual(over, [], `split these by concern: ${over.join(", ")}`);
});

/** The .ts file each `deno run ...` task of deno.json runs. */
function taskScripts(): Record<string, string> {
  const tasks = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).tasks as Record<
    string,
    string
  >;
  const out: Record<string, string> = {};
  for (const [name, cmd] of Object.entries(tasks)) {
    const m = cmd.match(/^deno run .*?(\S+\.ts)$/);
    if (m) out[name] = m[1];
  }
  return out;
}

Deno.test("cli: every task script parses its arguments through cli/_args.ts, and only it calls parseArgs", () => {
  const scripts = taskScripts();
  // the library's own tasks, at least: a change to deno.json that drops them fails here too
  for (const t of ["pretrain", "preview", "protocol", "table", "lint", "mutate", "web"]) {
    assert.ok(scripts[t], `deno.json has no "deno run" task ${t}`);
  }
  for (const [name, file] of Object.entries(scripts)) {
    const src = Deno.readTextFileSync(join(ROOT, file));
    assert.match(
      src,
      /import \{[^}]*\brunCommand\b[^}]*\} from "[./]*(cli\/)?_args\.ts"/,
      `${name}`,
    );
    assert.doesNotMatch(src, /\bparseArgs\b/, `${name} (${file}) parses by itself`);
  }
  // no second parser anywhere in the command-line files (bench/'s scripts other than mutate are
  // not tasks)
  const own: string[] = [];
  for (const dir of ["cli", "web", ".ci"]) {
    for (const e of Deno.readDirSync(join(ROOT, dir))) {
      if (!e.isFile || !e.name.endsWith(".ts")) continue;
      const src = Deno.readTextFileSync(join(ROOT, dir, e.name));
      if (
        /from "(node:util|@std\/cli[^"]*|jsr:@std\/cli[^"]*|npm:(yargs|commander|minimist)[^"]*)"/
          .test(src) && /parseArgs|yargs|commander|minimist/.test(src)
      ) {
        own.push(`${dir}/${e.name}`);
      }
    }
  }
  assert.deepEqual(own, ["cli/_args.ts"]);
});
