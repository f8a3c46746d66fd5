/**
 * Converts every SVG under the given folders to a PNG beside it (sharp), for the protocol reports
 * in docs/protocol/ (GitHub and most viewers show both; the PNGs are what image viewers open).
 *
 * `deno run -A docs/protocol/svg_to_png.ts docs/protocol/<run>/plots ...`
 *
 * @module
 */
import sharp from "sharp";

for (const dir of Deno.args) {
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.endsWith(".svg")) continue;
    const svg = await Deno.readFile(`${dir}/${e.name}`);
    const png = `${dir}/${e.name.replace(/\.svg$/, ".png")}`;
    await sharp(svg, { density: 96 }).png().toFile(png);
    console.log(png);
  }
}
