// The previews' PNGs carry their labels inside the picture (issue 18: every PNG in docs/ says
// what it shows): a title, a heading over each column, a label left of each row.
import assert from "node:assert/strict";
import sharp from "sharp";
import { tf } from "../../backend/tf.ts";
import { renderGrid } from "../../cli/preview.ts";
import { labelGrid, wrapText } from "../../cli/_grid_labels.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

/** Decoded RGB pixels of a PNG. */
async function rgb(png: Uint8Array) {
  const { data, info } = await sharp(png).removeAlpha().toColourspace("srgb").raw()
    .toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** Pixels darker than 128 in the box [x0, x1) x [y0, y1) (text is dark on the white bands). */
function dark(
  img: { data: Uint8Array; width: number },
  x0: number,
  x1: number,
  y0: number,
  y1: number,
) {
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) if (img.data[(y * img.width + x) * 3] < 128) n++;
  }
  return n;
}

Deno.test("wrapText: greedy lines within the width, a long word alone", () => {
  assert.deepEqual(wrapText("put back by the label", 10), ["put back", "by the", "label"]);
  assert.deepEqual(wrapText("reconstruction x", 5), ["reconstruction", "x"]);
  assert.deepEqual(wrapText("  ", 5), []);
});

Deno.test("labelGrid: title over the grid, each heading over its column, each row label beside its row, grid pixels kept", async () => {
  // two rows, three 40 px columns of one gray level each, so every cell is identifiable
  const cols = [0.25, 0.5, 0.75].map((v) => tf.fill([2, 20, 40, 1], v) as tf.Tensor4D);
  const grid = renderGrid(cols, { gap: 2, separator: 6, background: 255 });
  tf.dispose(cols);
  const r = await labelGrid(grid, {
    title: "Title",
    columns: ["aaaa", "bbbb", "cccc"],
    rows: ["row one", "row two"],
  });
  const img = await rgb(r.png);
  assert.deepEqual([img.width, img.height], [r.width, r.height]);
  assert.deepEqual([r.width - r.left, r.height - r.top], [grid.width, grid.height]);
  assert.ok(r.left > 0 && r.top > 0);
  // the grid's pixels, unchanged, at (left, top), in all three channels
  for (let y = 0; y < grid.height; y++) {
    for (let x = 0; x < grid.width; x++) {
      const o = ((r.top + y) * img.width + r.left + x) * 3;
      const want = grid.data[y * grid.width + x];
      assert.deepEqual([img.data[o], img.data[o + 1], img.data[o + 2]], [want, want, want]);
    }
  }
  const cells = grid.cells!;
  // text in the top band over each column, none over the gaps between columns
  for (let i = 0; i < 3; i++) {
    const x0 = r.left + cells.x[i];
    assert.ok(dark(img, x0, x0 + cells.width[i], 0, r.top) > 10, `no heading over column ${i}`);
  }
  // the headings' band (one 13 px line above the grid): nothing over the separator
  const gapX = r.left + cells.x[1] - 6;
  assert.equal(dark(img, gapX, gapX + 6, r.top - 13, r.top), 0, "text over the column gap");
  assert.ok(dark(img, 0, r.width, 0, r.top - 13) > 10, "no title");
  // a label left of each row, nothing left of the gap between the rows
  for (let i = 0; i < 2; i++) {
    const y0 = r.top + cells.y[i];
    assert.ok(dark(img, 0, r.left, y0, y0 + cells.height) > 10, `no label beside row ${i}`);
  }
  assert.equal(dark(img, 0, r.left, r.top + cells.y[1] - 2, r.top + cells.y[1]), 0);
  // nothing labelled: the grid alone
  const bare = await labelGrid(grid, {});
  assert.deepEqual([bare.width, bare.height, bare.left, bare.top], [grid.width, grid.height, 0, 0]);
  await assert.rejects(
    () => labelGrid(grid, { columns: ["a", "b"] }),
    /expected 3 column headings, received 2/,
  );
});
