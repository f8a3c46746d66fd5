// The `deno task <name> --flags` commands the README and docs/ show parse against that task's
// options (a renamed or dropped flag, or a value outside its choices, fails here, not for a
// reader). Nothing runs: only the shared parser sees the arguments.
import assert from "node:assert/strict";
import { type OptionSpec, parseOptions } from "../../cli/_args.ts";
import { PRETRAIN_OPTIONS } from "../../cli/pretrain.ts";
import { PREVIEW_OPTIONS } from "../../cli/preview.ts";
import { PRETEXT_PREVIEW_OPTIONS } from "../../cli/_preview_pretext.ts";
import { PROTOCOL_OPTIONS } from "../../cli/protocol.ts";
import { TABLE_OPTIONS } from "../../cli/table.ts";
import { WEB_OPTIONS } from "../../web/serve.ts";
import { MUTATE_OPTIONS } from "../../bench/mutate.ts";

const TASKS: Record<string, readonly OptionSpec[]> = {
  pretrain: PRETRAIN_OPTIONS,
  preview: PREVIEW_OPTIONS,
  protocol: PROTOCOL_OPTIONS,
  table: TABLE_OPTIONS,
  web: WEB_OPTIONS,
  mutate: MUTATE_OPTIONS,
  lint: [],
};

/**
 * The arguments of every `deno task <task> ...` in `text`, up to a backtick, pipe, comment, quote
 * or line continuation; `<placeholders>` drop with their flag, `[optional parts]` and `...` drop.
 */
function taskCommands(text: string): { task: string; args: string[]; line: string }[] {
  const found: { task: string; args: string[]; line: string }[] = [];
  for (const m of text.matchAll(/deno(?:@2)? task ([a-z]+)([^`|#"\\\n]*)/g)) {
    const rest = m[2].replace(/\[[^\]]*\]|\.\.\./g, " ").replace(/<[^>]*>/g, " \0 ");
    const args: string[] = [];
    for (const t of rest.trim().split(/\s+/).filter(Boolean)) {
      if (t === "--") continue; // `deno task preview -- --flag`
      if (t === "\0") {
        if (args.at(-1)?.startsWith("--")) args.pop();
        continue;
      }
      args.push(t);
    }
    found.push({ task: m[1], args, line: m[0].trim() });
  }
  return found;
}

async function markdown(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) files.push(...await markdown(path));
    else if (e.name.endsWith(".md")) files.push(path);
  }
  return files;
}

Deno.test("the README's and docs' task commands parse against the tasks' options", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  const files = [`${root}README.md`, ...await markdown(`${root}docs`)];
  let checked = 0;
  for (const file of files) {
    for (const { task, args, line } of taskCommands(await Deno.readTextFile(file))) {
      let specs = TASKS[task];
      if (!specs) continue; // test, bench, setup: deno's own flags
      if (task === "preview" && args.some((a) => a.startsWith("--method"))) {
        specs = PRETEXT_PREVIEW_OPTIONS;
      }
      assert.doesNotThrow(
        () => parseOptions(args, specs, task === "mutate" ? [] : undefined),
        `${file.slice(root.length)}: ${line}`,
      );
      checked++;
    }
  }
  // the README shows at least its task table and the protocol and web examples
  assert.ok(checked >= 10, `only ${checked} commands found`);
});

Deno.test("taskCommands reads flags, drops placeholders and optional parts", () => {
  assert.deepEqual(
    taskCommands("`deno task web --encoder <run folder> [--port 8000] --bank 5`"),
    [{
      task: "web",
      args: ["--bank", "5"],
      line: "deno task web --encoder <run folder> [--port 8000] --bank 5",
    }],
  );
  assert.deepEqual(taskCommands("x deno task preview -- --count 2 # two")[0].args, [
    "--count",
    "2",
  ]);
  // a renamed flag in a document fails the parse
  const [bad] = taskCommands("run `deno task pretrain --batchsize 64`");
  assert.throws(() => parseOptions(bad.args, PRETRAIN_OPTIONS), /Unknown option --batchsize/);
});
