// The library as JSR serves it: a local registry (JSR_URL) holding the published files with their
// bare imports rewritten to npm: specifiers, as `deno publish` does. From https-like remote URLs
// no node_modules is anywhere near the library, so MNIST's IDX files and the wasm binaries must
// come through the module graph (createRequire on the library's URL cannot work there).
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeHex } from "./_hex.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const config = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json")));
const imports: Record<string, string> = config.imports;

/** `deno publish`'s unfurling, for the specifier forms this library uses. */
function unfurl(source: string): string {
  const keys = Object.keys(imports).sort((a, b) => b.length - a.length);
  return source.replace(
    /((?:from|import|import\.meta\.resolve\(|import\()\s*)(["'])([^"'\n]+)\2/g,
    (all, head: string, q: string, spec: string) => {
      if (/^(\.|\/|node:|npm:|jsr:|https?:)/.test(spec)) return all;
      const key = keys.find((k) => spec === k || spec.startsWith(k + "/"));
      return key ? `${head}${q}${imports[key]}${spec.slice(key.length)}${q}` : all;
    },
  );
}

/** The files `deno publish` would upload (publish.include minus publish.exclude). */
async function publishedFiles(): Promise<Map<string, Uint8Array<ArrayBuffer>>> {
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  const walk = async (path: string): Promise<void> => {
    const info = await Deno.stat(path);
    if (info.isDirectory) {
      for await (const e of Deno.readDir(path)) await walk(join(path, e.name));
      return;
    }
    const rel = "/" + relative(ROOT, path);
    if (rel.endsWith("_test.ts") || rel.endsWith(".so") || rel.includes(".tmp-")) return;
    const bytes = await Deno.readFile(path);
    files.set(
      rel,
      rel.endsWith(".ts")
        ? new TextEncoder().encode(unfurl(new TextDecoder().decode(bytes)))
        : bytes,
    );
  };
  for (const p of config.publish.include as string[]) await walk(join(ROOT, p));
  return files;
}

Deno.test("package: from a JSR-style registry, mnist() and the wasm backend find their npm assets", async () => {
  const files = await publishedFiles();
  assert.ok(files.has("/mod.ts") && files.has("/data/mnist.ts"));
  assert.ok(![...files.keys()].some((f) => f.startsWith("/tests/") || f.startsWith("/bench/")));
  const manifest: Record<string, { size: number; checksum: string }> = {};
  for (const [path, bytes] of files) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    manifest[path] = { size: bytes.length, checksum: `sha256-${encodeHex(digest)}` };
  }
  const prefix = "/@selfsup/selfsup/";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === `${prefix}meta.json`) {
      return Response.json({
        scope: "selfsup",
        name: "selfsup",
        latest: "0.1.0",
        versions: { "0.1.0": {} },
      });
    }
    if (path === `${prefix}0.1.0_meta.json`) {
      return Response.json({ manifest, exports: config.exports });
    }
    const file = path.startsWith(`${prefix}0.1.0/`)
      ? files.get(path.slice(`${prefix}0.1.0`.length))
      : undefined;
    return file ? new Response(file) : new Response("not found", { status: 404 });
  });
  const dir = await Deno.makeTempDir({ prefix: "selfsup_jsr_" });
  try {
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify({ nodeModulesDir: "none" }));
    await Deno.writeTextFile(
      join(dir, "main.ts"),
      'import { mnist, tf, useBackend } from "jsr:@selfsup/selfsup@0.1.0";\n' +
        'await useBackend("wasm");\n' +
        'const test = await mnist("test");\n' +
        "const sum = tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0];\n" +
        'console.log("RESULT", tf.getBackend(), test.length, test.get(0).label, sum);\n',
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts"],
      cwd: dir,
      env: { JSR_URL: `http://127.0.0.1:${server.addr.port}/`, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    assert.equal(code, 0, out);
    assert.match(out, /RESULT wasm 10000 7 6/);
    assert.match(
      out,
      new RegExp(`127\\.0\\.0\\.1:${server.addr.port}/@selfsup/selfsup/0\\.1\\.0/`),
    );
    // the tasks are entry points of the package
    const task = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "jsr:@selfsup/selfsup@0.1.0/pretrain", "-h"],
      cwd: dir,
      env: { JSR_URL: `http://127.0.0.1:${server.addr.port}/`, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const help = new TextDecoder().decode(task.stdout);
    assert.equal(task.code, 0, help + new TextDecoder().decode(task.stderr));
    assert.match(help, /^Usage: deno task pretrain/);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
