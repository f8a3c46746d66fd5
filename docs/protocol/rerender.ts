/**
 * Re-renders parts of committed protocol reports from their `results.json` with today's code,
 * when the report's or the plots' rendering changed but the measurements did not:
 *
 * - `--report`: `report.md` (`reportMarkdown` of the results as recorded: verdicts included);
 * - `--curves`: the label-efficiency curves (`plots/accuracy_vs_labeled.svg`, and
 *   `plots/cer_vs_labeled.svg` for text lines), with their PNGs (`svg_to_png.ts`'s conversion).
 *   The other plots (losses, UMAP) are left as they are.
 *
 * `deno run -A docs/protocol/rerender.ts --report --curves docs/protocol/<run> ...`
 *
 * @module
 */
import sharp from "sharp";
import type { ProtocolResults } from "../../cli/_protocol_report.ts";
import { reportMarkdown } from "../../cli/_protocol_report.ts";
import { writePlots } from "../../cli/_protocol_plots.ts";

const report = Deno.args.includes("--report");
const curves = Deno.args.includes("--curves");
const dirs = Deno.args.filter((a) => !a.startsWith("--"));
if ((!report && !curves) || dirs.length === 0) {
  console.error("usage: rerender.ts [--report] [--curves] <report folder> ...");
  Deno.exit(2);
}
for (const dir of dirs) {
  const r = JSON.parse(await Deno.readTextFile(`${dir}/results.json`)) as ProtocolResults;
  if (report) {
    await Deno.writeTextFile(`${dir}/report.md`, reportMarkdown(r));
    console.log(`${dir}/report.md`);
  }
  if (curves) {
    // every plot into a scratch folder; only the curves are copied over
    const tmp = await Deno.makeTempDir();
    try {
      const files = await writePlots(tmp, { arms: r.arms, pretraining: [], task: r.task });
      for (const f of files.filter((f) => f.endsWith("_vs_labeled.svg"))) {
        const svg = await Deno.readFile(`${tmp}/${f}`);
        await Deno.writeFile(`${dir}/plots/${f}`, svg);
        const png = `${dir}/plots/${f.replace(/\.svg$/, ".png")}`;
        await sharp(svg, { density: 96 }).png().toFile(png);
        console.log(`${dir}/plots/${f}, ${png}`);
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }
}
