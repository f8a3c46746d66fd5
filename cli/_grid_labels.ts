/**
 * Text inside the previews' pictures: a title above the grid, a heading over each column and a
 * label left of each row, so a PNG says what it shows without its JSON sidecar or a caption.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { RawImage } from "./_preview_grid.ts";
import { escapeXml } from "../eval/_svg.ts";

/** What {@linkcode labelGrid} writes around a grid. Every part is optional. */
export interface GridLabels {
  /** One line (wrapped to the picture's width) above everything. */
  title?: string;
  /** One heading per grid column (wrapped to the column's width). */
  columns?: string[];
  /** One label per grid row, left of the row. */
  rows?: string[];
}

const PAD = 4;
const TITLE = { size: 13, line: 16 };
const TEXT = { size: 11, line: 13 };
/** DejaVu Sans averages under 0.6 em a character: wrap at that width so no line spills. */
const EM = 0.6;

/** Greedy word wrap of `text` into lines of at most `chars` characters (a longer word stands alone). */
export function wrapText(text: string, chars: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line === "") line = word;
    else if (line.length + 1 + word.length <= chars) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

function textLines(
  lines: string[],
  x: number,
  y: number,
  size: number,
  lineHeight: number,
  anchor: "middle" | "start" | "end",
  bold = false,
): string {
  return lines.map((l, i) =>
    `<text x="${x}" y="${y + i * lineHeight}" font-size="${size}" text-anchor="${anchor}"${
      bold ? ' font-weight="bold"' : ""
    }>${escapeXml(l)}</text>`
  ).join("\n");
}

/**
 * Draws `labels` around a grid: a white band above (title, then column headings centred over
 * their columns) and, with row labels, a white band on the left. The grid's pixels are copied
 * unchanged (gray grids become RGB). Column headings and row labels need `grid.cells`, which
 * {@linkcode renderGrid} fills in; a picture without it (any raw image) takes a title only.
 *
 * @param grid the picture
 * @param labels title, column headings, row labels
 * @returns the labelled picture as PNG bytes, its size, and where the grid sits in it
 * @throws {RangeError} when headings or row labels do not match the grid's columns or rows
 *
 * @example
 * ```ts
 * import { labelGrid } from "./_grid_labels.ts";
 * import assert from "node:assert/strict";
 * const grid = { data: new Uint8Array(40 * 20).fill(128), width: 40, height: 20, channels: 1 };
 * const r = await labelGrid(grid, { title: "gray" });
 * assert.equal(r.width, 40);
 * assert.ok(r.top > 0 && r.height === r.top + 20);
 * ```
 */
export async function labelGrid(
  grid: RawImage,
  labels: GridLabels,
): Promise<{ png: Uint8Array; width: number; height: number; left: number; top: number }> {
  const { cells } = grid;
  const needCells = (what: string, got: number, want: number | undefined) => {
    if (want === undefined || got !== want) {
      throw new RangeError(
        `Cannot label a grid: expected ${want ?? "a grid with cells"} ${what}, received ${got}`,
      );
    }
  };
  if (labels.columns) needCells("column headings", labels.columns.length, cells?.x.length);
  if (labels.rows) needCells("row labels", labels.rows.length, cells?.y.length);
  const rowLines = labels.rows ?? [];
  const left = rowLines.length > 0
    ? Math.ceil(Math.max(...rowLines.map((r) => r.length)) * TEXT.size * EM) + 2 * PAD
    : 0;
  const width = left + grid.width;
  const titleLines = labels.title
    ? wrapText(labels.title, Math.max(1, Math.floor((width - 2 * PAD) / (TITLE.size * EM))))
    : [];
  const headings = (labels.columns ?? []).map((c, i) =>
    wrapText(c, Math.max(1, Math.floor(cells!.width[i] / (TEXT.size * EM))))
  );
  const headingLines = Math.max(0, ...headings.map((h) => h.length));
  const titleTop = PAD + TITLE.size;
  const headingTop = PAD + titleLines.length * TITLE.line + TEXT.size;
  const top = titleLines.length + headingLines === 0
    ? 0
    : PAD + titleLines.length * TITLE.line + headingLines * TEXT.line + PAD;
  const height = top + grid.height;
  const parts = [
    textLines(titleLines, width / 2, titleTop, TITLE.size, TITLE.line, "middle", true),
    ...headings.map((h, i) =>
      textLines(
        h,
        left + cells!.x[i] + cells!.width[i] / 2,
        headingTop,
        TEXT.size,
        TEXT.line,
        "middle",
      )
    ),
    ...rowLines.map((r, i) =>
      textLines(
        [r],
        left - PAD,
        top + cells!.y[i] + cells!.height / 2 + TEXT.size * 0.35,
        TEXT.size,
        TEXT.line,
        "end",
      )
    ),
  ];
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `font-family="DejaVu Sans, Arial, sans-serif" fill="#222">\n${parts.join("\n")}\n</svg>\n`;
  const sharp = (await import("sharp")).default;
  const png = await sharp({
    create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } },
  }).composite([
    {
      input: Buffer.from(grid.data.buffer, grid.data.byteOffset, grid.data.byteLength),
      raw: { width: grid.width, height: grid.height, channels: grid.channels as 1 | 3 },
      left,
      top,
    },
    { input: Buffer.from(svg), left: 0, top: 0 },
  ]).png().toBuffer();
  return { png: new Uint8Array(png), width, height, left, top };
}
