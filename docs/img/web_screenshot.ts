/**
 * The picture of `deno task web`'s page (docs/img/web_simclr.png): serves the page over a run's
 * encoder, draws a "7" with the mouse as tests/web/browser_test.ts does, prints the neighbours and
 * the status line, and saves a screenshot. Needs headless Chromium (`.ci/setup` installs it).
 *
 * `deno run -A docs/img/web_screenshot.ts runs/<name> docs/img/web_simclr.png`
 *
 * @module
 */
import puppeteer from "puppeteer-core";
import { serveWeb } from "../../web/serve.ts";

const [encoder, out] = Deno.args;
if (!encoder || !out) {
  console.error("usage: deno run -A docs/img/web_screenshot.ts <run folder> <out.png>");
  Deno.exit(2);
}
const server = await serveWeb({ encoder, port: 0, bank: 2000 });
const browser = await puppeteer.launch({
  executablePath: Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium-headless-shell",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu-sandbox"],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 900, height: 460 });
  await page.goto(`http://127.0.0.1:${server.addr.port}/?backend=cpu`);
  // deno-lint-ignore no-explicit-any
  await page.evaluate(async () => await (globalThis as any).selfsup);
  const box = (await (await page.$("#pad"))!.boundingBox())!;
  const at = (u: number, v: number) => [box.x + u * box.width, box.y + v * box.height] as const;
  await page.mouse.move(...at(0.25, 0.25));
  await page.mouse.down();
  for (const [u, v] of [[0.5, 0.25], [0.75, 0.25], [0.6, 0.5], [0.5, 0.75]]) {
    await page.mouse.move(...at(u, v), { steps: 8 });
  }
  await page.mouse.up();
  console.log(await page.$$eval("#neighbours figure", (f) => f.map((e) => e.textContent)));
  console.log(await page.$eval("#status", (e) => e.textContent));
  await page.screenshot({ path: out });
} finally {
  await browser.close();
  await server.shutdown();
}
