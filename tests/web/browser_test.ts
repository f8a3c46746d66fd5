// The exported encoder in a real browser: headless Chromium (Debian's chromium-headless-shell)
// through puppeteer-core loads web/'s page, which loads the encoder with plain TensorFlow.js
// served from the installed npm package (nothing from the internet); its embeddings must equal
// Deno's. Then a digit is drawn on the page and the screenshot kept (SELFSUP_SCREENSHOT names
// the file). Skipped with a message where Chromium is absent, failed when CI=true.
import assert from "node:assert/strict";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { tf } from "../../backend/tf.ts";
import { convNet } from "../../models/conv_net.ts";
import { exportEncoder } from "../../eval/export_encoder.ts";
import { mnist } from "../../data/mnist.ts";
import { serveWeb } from "../../web/serve.ts";
import { inCi, requireOrSkip } from "../_ci.ts";

const CANDIDATES = [
  Deno.env.get("CHROMIUM_PATH") ?? "",
  "/usr/bin/chromium-headless-shell",
  "/usr/lib/chromium/headless_shell",
  "/usr/bin/chromium",
].filter((p) => p !== "");

function findChromium(): string | null {
  for (const p of CANDIDATES) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* next */ }
  }
  return null;
}

const chromium = findChromium();
const ci = inCi();
if (!chromium && !ci) {
  console.warn(
    `tests/web: skipped, no Chromium at ${CANDIDATES.join(", ")} ` +
      "(apt-get install chromium-headless-shell, or set CHROMIUM_PATH; under CI=true this fails)",
  );
}

Deno.test({
  name: "web: an exported encoder gives Deno's embeddings in headless Chromium, and the page draws",
  ignore: !chromium && !ci,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  requireOrSkip(
    chromium !== null,
    `Chromium (chromium-headless-shell) at ${CANDIDATES.join(", ")}`,
  );
  assert.ok(chromium);
  const dir = await Deno.makeTempDir({ prefix: "selfsup_web_" });
  const encoder = convNet({ inputShape: [28, 28, 1], widths: [8, 16] });
  await exportEncoder(encoder, dir);
  const server = await serveWeb({ encoder: dir, port: 0, bank: 500 });
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu-sandbox"],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.setViewport({ width: 900, height: 460 });
    // Real MNIST digits, the input both sides embed.
    const test = await mnist("test");
    const n = 4;
    const flat = Array.from(test.images.subarray(0, n * 784), (v) => v / 255);
    const x = tf.tensor4d(flat, [n, 28, 28, 1]);
    const expected = tf.tidy(() => Array.from((encoder.predict(x) as tf.Tensor).dataSync()));
    x.dispose();
    const diffs: Record<string, number> = {};
    for (const backend of ["cpu", "webgl"]) {
      await page.goto(`http://127.0.0.1:${server.addr.port}/?backend=${backend}`);
      let got: { backend: string; z: number[] };
      try {
        got = await page.evaluate(
          async (flat: number[], n: number) => {
            // deno-lint-ignore no-explicit-any
            const app = await (globalThis as any).selfsup;
            return { backend: app.backend, z: await app.embed(flat, n) };
          },
          flat,
          n,
        );
      } catch (e) {
        // webgl may be missing in a headless shell without a GPU: cpu must work
        if (backend === "cpu") throw e;
        console.warn(`tests/web: webgl unavailable in this Chromium (${(e as Error).message})`);
        continue;
      }
      assert.equal(got.backend, backend);
      assert.equal(got.z.length, expected.length);
      diffs[backend] = Math.max(...got.z.map((v, i) => Math.abs(v - expected[i])));
      assert.ok(diffs[backend] <= 1e-5, `${backend}: max abs diff ${diffs[backend]}`);
    }
    console.log(`tests/web: max abs diff browser vs Deno ${JSON.stringify(diffs)}`);

    // Draw a "7" with the mouse, as a person would, and read the neighbours the page shows.
    await page.goto(`http://127.0.0.1:${server.addr.port}/?backend=cpu`);
    await page.evaluate(async () => {
      // deno-lint-ignore no-explicit-any
      await (globalThis as any).selfsup;
    });
    const box = await (await page.$("#pad"))!.boundingBox();
    assert.ok(box);
    const at = (u: number, v: number) => [box.x + u * box.width, box.y + v * box.height] as const;
    await page.mouse.move(...at(0.25, 0.25));
    await page.mouse.down();
    for (const [u, v] of [[0.5, 0.25], [0.75, 0.25], [0.6, 0.5], [0.5, 0.75]]) {
      await page.mouse.move(...at(u, v), { steps: 8 });
    }
    await page.mouse.up();
    const shown = await page.$$eval("#neighbours figure", (f) => f.map((e) => e.textContent));
    assert.equal(shown.length, 8, `neighbours shown: ${JSON.stringify(shown)}`);
    assert.ok(shown.every((t) => /^\d · -?\d\.\d{3}$/.test(t ?? "")), JSON.stringify(shown));
    // this encoder is untrained and has no run folder: the page says so, so its screenshot does
    const status = await page.$eval("#status", (e) => e.textContent ?? "");
    assert.match(status, /^500 MNIST test images embedded on cpu by an encoder with no run record/);
    const shot = Deno.env.get("SELFSUP_SCREENSHOT") ?? join(dir, "web.png");
    await page.screenshot({ path: shot });
    assert.ok((await Deno.stat(shot)).size > 1000);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.shutdown();
    encoder.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});
