// `deno task web`'s server says whose encoder the page shows (/about.json): the method and steps
// of the run folder around it (train()'s config.json or the CLI's), or nothing for a bare
// encoder folder, so a page over an untrained encoder says so. No browser needed.
import assert from "node:assert/strict";
import { join } from "node:path";
import { type EncoderAbout, serveWeb } from "../../web/serve.ts";

async function folder(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "selfsup_serve_" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(root, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, path), text);
  }
  return root;
}

async function about(encoder: string): Promise<EncoderAbout & { status: number }> {
  const server = await serveWeb({ encoder, port: 0, bank: 4 });
  try {
    const r = await fetch(`http://127.0.0.1:${server.addr.port}/about.json`);
    assert.equal(r.headers.get("content-type"), "application/json");
    return { status: r.status, ...await r.json() };
  } finally {
    await server.shutdown();
  }
}

Deno.test("web: /about.json names the run's method and steps, or none for a bare encoder", async () => {
  const root = await folder({
    // train()'s run folder
    "lib/config.json": JSON.stringify({ method: "simsiam", train: { steps: 20 } }),
    "lib/encoder/model.json": "{}",
    // deno task pretrain's
    "cli/config.json": JSON.stringify({
      command: "pretrain",
      options: { method: "simclr" },
      resolved: { steps: 600 },
    }),
    "cli/encoder/model.json": "{}",
    // an encoder exported by hand, in a folder whose parent holds some other run's config
    "other/config.json": JSON.stringify({ method: "byol", train: { steps: 5 } }),
    "other/bare/model.json": "{}",
    // a run record that cannot be read
    "broken/config.json": "{ not json",
    "broken/encoder/model.json": "{}",
  });
  try {
    const lib = join(root, "lib");
    assert.deepEqual(await about(lib), { status: 200, encoder: lib, method: "simsiam", steps: 20 });
    const cli = join(root, "cli", "encoder");
    assert.deepEqual(await about(cli), { status: 200, encoder: cli, method: "simclr", steps: 600 });
    const bare = join(root, "other", "bare");
    assert.deepEqual(await about(bare), { status: 200, encoder: bare, method: null, steps: null });
    const broken = join(root, "broken");
    assert.deepEqual(await about(broken), {
      status: 200,
      encoder: broken,
      method: null,
      steps: null,
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
