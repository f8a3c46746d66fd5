// `deno publish --dry-run` (as `deno task lint` runs it) passes and would upload the library only:
// no tests, docs, benches, CI scripts, web page or lock file, and every exported entry point.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("package: deno publish --dry-run passes and lists the library only", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /Dry run complete/, text);
  const root = new URL(`file://${ROOT}`).href;
  const files = [...text.matchAll(/^\s*(file:\/\/\S+) \([\d.]+[KM]?B\)$/gm)].map((m) =>
    m[1].slice(root.length)
  );
  assert.ok(files.length > 50, `only ${files.length} files listed:\n${text}`);
  const stray = files.filter((f) =>
    /^(tests|docs|bench|\.ci|web|runs|node_modules)\//.test(f) || /_test\.ts$/.test(f) ||
    f === "deno.lock" || /\.(so|png|svg)$/.test(f)
  );
  assert.deepEqual(stray, [], "files the package must not ship");
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  for (const entry of Object.values(config.exports as Record<string, string>)) {
    assert.ok(files.includes(entry.replace(/^\.\//, "")), `export ${entry} is not in the package`);
  }
});
