// The library imported the way a user imports it: from a project outside the checkout, through a
// copy of the library with no node_modules beside it (a clean clone), with nodeModulesDir "auto"
// and "none". The README's library example runs there for 2 steps, and `import * as s` needs no
// permission flag.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The folders and files a user of the library gets (what deno.json's publish.include lists). */
const LIBRARY = [
  "mod.ts",
  "deno.json",
  "backend",
  "losses",
  "augment",
  "data",
  "models",
  "methods",
  "train",
  "eval",
  "distributed",
];

async function copyTree(from: string, to: string): Promise<void> {
  const info = await Deno.stat(from);
  if (info.isFile) {
    await Deno.copyFile(from, to);
    return;
  }
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    // Build outputs of the native backend are not part of a clone.
    if (e.name === "node_modules" || e.name.endsWith(".so")) continue;
    await copyTree(join(from, e.name), join(to, e.name));
  }
}

/** A clean copy of the library (no node_modules, no lock) and a user project importing it. */
async function project(nodeModulesDir: "auto" | "none"): Promise<{ dir: string; lib: string }> {
  const dir = await Deno.makeTempDir({ prefix: "selfsup_user_" });
  const lib = join(dir, "selfsup");
  await Deno.mkdir(lib);
  for (const entry of LIBRARY) await copyTree(join(ROOT, entry), join(lib, entry));
  const app = join(dir, "app");
  await Deno.mkdir(app);
  await Deno.writeTextFile(
    join(app, "deno.json"),
    JSON.stringify({
      imports: { "@selfsup/selfsup": pathToFileURL(join(lib, "mod.ts")).href },
      nodeModulesDir,
    }),
  );
  return { dir: app, lib };
}

async function run(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code, out: dec.decode(stdout) + dec.decode(stderr) };
}

/** The README's "As a library" example, 2 steps of batch 16, then its encoder reloaded. */
function readmeExample(): string {
  const readme = Deno.readTextFileSync(join(ROOT, "README.md"));
  const block = readme.split("## As a library")[1].split("```ts\n")[1].split("```")[0];
  assert.match(block, /steps: 20,/, "the README example changed: update this test");
  // Then the run folder's encoder, reloaded, must give the trained encoder's embeddings.
  return 'import { loadEncoder, tf } from "@selfsup/selfsup";\n' +
    block
      .replace("steps: 20,", "steps: 2,")
      .replace("batchSize: 64", "batchSize: 16") +
    'const reloaded = await loadEncoder("runs/example");\n' +
    "const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 1);\n" +
    "const a = setup.encoder.predict(x) as tf.Tensor, b = reloaded.predict(x) as tf.Tensor;\n" +
    "const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];\n" +
    'console.log("RESULT", JSON.stringify({ steps: result.history.length, ' +
    "loss: result.history.at(-1)?.loss, diff, encoder: result.encoder }));\n";
}

for (const mode of ["auto", "none"] as const) {
  Deno.test(`package: the README example runs from a project outside the checkout (nodeModulesDir ${mode})`, async () => {
    const { dir, lib } = await project(mode);
    try {
      await Deno.writeTextFile(join(dir, "main.ts"), readmeExample());
      // wasm: its binaries must be found from outside the checkout too (SELFSUP_BACKEND is what
      // the README's useBackend() reads first).
      const { code, out } = await run(dir, ["run", "-A", "main.ts"], { SELFSUP_BACKEND: "wasm" });
      assert.equal(code, 0, out);
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      assert.ok(line, out);
      const { steps, loss, diff, encoder } = JSON.parse(line.slice(7));
      assert.equal(steps, 2);
      assert.ok(Number.isFinite(loss), out);
      assert.equal(encoder, "runs/example/encoder");
      assert.ok(diff <= 1e-6, `reloaded encoder differs by ${diff}`);
      // Nothing was installed beside the library: its npm packages came through the app.
      await assert.rejects(Deno.stat(join(lib, "node_modules")));
      if (mode === "none") await assert.rejects(Deno.stat(join(dir, "node_modules")));
      // The run folder the README promises.
      const runDir = join(dir, "runs", "example");
      for (
        const f of ["metrics.jsonl", "checkpoint", "encoder/model.json", "encoder/weights.bin"]
      ) {
        await Deno.stat(join(runDir, f));
      }
      const config = JSON.parse(await Deno.readTextFile(join(runDir, "config.json")));
      assert.equal(config.method, "simsiam");
      assert.deepEqual(config.encoder.inputShape, [28, 28, 1]);
      assert.equal(config.train.steps, 2);
    } finally {
      await Deno.remove(dirname(dir), { recursive: true });
    }
  });
}

Deno.test("package: importing the library needs no permission, from outside the checkout too", async () => {
  const { dir } = await project("none");
  try {
    await Deno.writeTextFile(
      join(dir, "main.ts"),
      'import * as s from "@selfsup/selfsup";\n' +
        'console.log("EXPORTS", Object.keys(s).length, typeof s.mnist, typeof s.imageFolder);\n',
    );
    const { code, out } = await run(dir, ["run", "--no-prompt", "main.ts"]);
    assert.equal(code, 0, out);
    assert.match(out, /EXPORTS \d+ function function/);
  } finally {
    await Deno.remove(dirname(dir), { recursive: true });
  }
  // And the checkout's own root module, as `deno run mod.ts`.
  const { code, out } = await run(ROOT, ["run", "--no-prompt", "mod.ts"]);
  assert.equal(code, 0, out);
});

Deno.test("package: mnist() from outside the checkout names the missing permission", async () => {
  const { dir } = await project("none");
  try {
    await Deno.writeTextFile(
      join(dir, "main.ts"),
      'import { mnist } from "@selfsup/selfsup";\nawait mnist("test");\n',
    );
    const { code, out } = await run(dir, ["run", "--no-prompt", "main.ts"]);
    assert.notEqual(code, 0);
    assert.match(out, /DatasetError: Cannot read IDX file .*t10k-.*--allow-read/);
    assert.doesNotMatch(out, /not installed/);
  } finally {
    await Deno.remove(dirname(dir), { recursive: true });
  }
});
