/**
 * Puts a title above a PNG made elsewhere (in place), for the pictures in docs/img/ that no
 * preview draws: `deno run -A docs/img/label_png.ts <file.png> "<title>"`. The previews label
 * their own pictures (cli/_grid_labels.ts); run this once on a picture without a title.
 *
 * @module
 */
import sharp from "sharp";
import { labelGrid } from "../../cli/_grid_labels.ts";

const [file, title] = Deno.args;
if (!file || !title) {
  console.error('usage: deno run -A docs/img/label_png.ts <file.png> "<title>"');
  Deno.exit(2);
}
const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
const labelled = await labelGrid(
  { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels },
  { title },
);
await Deno.writeFile(file, labelled.png);
console.log(`${file}: ${labelled.width}x${labelled.height}`);
