/**
 * `deno doc --lint mod.ts`, less the diagnostics that belong to TensorFlow.js rather than to us.
 *
 * `mod.ts` exports `tf` (the tfjs namespace, so users and tests share one engine), which makes
 * `deno doc --lint` lint all of tfjs's declarations (about 900 missing-JSDoc errors inside
 * `node_modules`), and flags every public signature that names a tfjs type such as `tf.Tensor2D`
 * as a reference to a private type. Both are about tfjs, not selfsup: this script drops
 * diagnostics located in `node_modules` and private-type references to types that tfjs
 * declares (and the missing-JSDoc report on the documented `export * as tf` line, which deno doc
 * does not attach), prints every other diagnostic, and exits non-zero when any remain.
 *
 * Run: `deno run -A .ci/doc_lint.ts`
 *
 * @module
 */

const output = await new Deno.Command(Deno.execPath(), {
  args: ["doc", "--lint", "mod.ts"],
  stdout: "piped",
  stderr: "piped",
  env: { NO_COLOR: "1" },
}).output();
const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);

/** Every type-like name tfjs declares, read from its .d.ts files. */
async function tfjsTypeNames(): Promise<Set<string>> {
  const names = new Set<string>();
  const declaration =
    /\b(?:class|interface|type|enum|namespace)\s+([A-Za-z_$][\w$]*)|\bexport\s+declare\s+(?:const|function)\s+([A-Za-z_$][\w$]*)/g;
  async function walk(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".d.ts")) {
        for (const m of (await Deno.readTextFile(path)).matchAll(declaration)) {
          names.add(m[1] ?? m[2]);
        }
      }
    }
  }
  for await (const entry of Deno.readDir("node_modules/@tensorflow")) {
    await walk(`node_modules/@tensorflow/${entry.name}/dist`).catch(() => {});
  }
  return names;
}

const tfjsTypes = await tfjsTypeNames();
const blocks = text.split(/\n(?=error\[)/).filter((b) => b.startsWith("error["));
const kept = blocks.filter((block) => {
  const location = block.match(/-->\s*(\S+)/)?.[1] ?? "";
  if (location.includes("/node_modules/")) return false;
  const privateRef = block.match(/^error\[private-type-ref\]: .*references private type '([^']+)'/);
  if (privateRef && tfjsTypes.has(privateRef[1])) return false;
  // The `tf` namespace re-export carries JSDoc that deno doc does not attach to `export * as`.
  if (block.startsWith("error[missing-jsdoc]") && /export \* as tf from/.test(block)) return false;
  return true;
});

for (const block of kept) console.error(block.trimEnd() + "\n");
console.error(
  `doc lint: ${kept.length} problem(s) in selfsup (${
    blocks.length - kept.length
  } about tfjs ignored)`,
);
if (kept.length > 0 || (blocks.length === 0 && !output.success)) {
  if (blocks.length === 0) console.error(text);
  Deno.exit(1);
}
