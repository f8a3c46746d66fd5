/**
 * The preview's picture: batches of images laid out as a grid of cells, one column per batch.
 *
 * @module
 */
import type { tf } from "../backend/tf.ts";

/** Options for {@linkcode renderGrid}. */
export interface RenderGridOptions {
  /**
   * Integer upscaling of every pixel.
   * @default 1
   */
  zoom?: number;
  /**
   * Gap between cells in output pixels.
   * @default 2
   */
  gap?: number;
  /**
   * Extra gap after the first column (the originals).
   * @default 6
   */
  separator?: number;
  /**
   * Gray level of the gaps, 0-255.
   * @default 128
   */
  background?: number;
}

/** A raw image: `data` is `[height, width, channels]` uint8, row-major. */
export interface RawImage {
  /** Pixels. */
  data: Uint8Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** 1 or 3. */
  channels: number;
  /**
   * Where {@linkcode renderGrid} put its cells (for labels): each column's left edge and width,
   * each row's top edge, and the cells' height, in pixels.
   */
  cells?: { x: number[]; width: number[]; y: number[]; height: number };
}

/**
 * Lays out images as a grid: row `r` shows `columns[0][r]`, `columns[1][r]`, ... Every column
 * is a batch of the same number of images; columns may differ in size (cells are aligned
 * top-left) and gray columns sit beside colour ones (drawn gray). Values in [0, 1] become 0-255.
 *
 * @param columns batches `[B, H, W, C]`, one per grid column, same `B`; `C` the largest or 1
 * @param options zoom, gaps and background
 * @returns the grid as a raw uint8 image
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { renderGrid } from "./preview.ts";
 * import assert from "node:assert/strict";
 * const a = tf.ones([2, 3, 4, 1]) as tf.Tensor4D;
 * const grid = renderGrid([a, a], { gap: 1, separator: 0 });
 * assert.deepEqual([grid.height, grid.width], [2 * 3 + 3, 2 * 4 + 3]);
 * ```
 */
export function renderGrid(columns: tf.Tensor4D[], options: RenderGridOptions = {}): RawImage {
  const { zoom = 1, gap = 2, separator = 6, background = 128 } = options;
  if (columns.length === 0) {
    throw new RangeError("Cannot render a grid: expected at least one column, received none");
  }
  const b = columns[0].shape[0];
  const c = Math.max(...columns.map((col) => col.shape[3]));
  for (const col of columns) {
    if (col.shape[0] !== b || (col.shape[3] !== c && col.shape[3] !== 1)) {
      throw new TypeError(
        `Cannot render a grid: every column must be [${b}, H, W, ${
          c === 1 ? 1 : `${c} or 1`
        }], received [${col.shape}]`,
      );
    }
  }
  const cellH = Math.max(...columns.map((col) => col.shape[1])) * zoom;
  const cellWs = columns.map((col) => col.shape[2] * zoom);
  const xs: number[] = [];
  let width = gap;
  cellWs.forEach((w, i) => {
    xs.push(width);
    width += w + gap + (i === 0 ? separator : 0);
  });
  const height = gap + b * (cellH + gap);
  const data = new Uint8Array(width * height * c).fill(background);
  columns.forEach((col, ci) => {
    const [, h, w, cc] = col.shape;
    const v = col.dataSync();
    for (let s = 0; s < b; s++) {
      const y0 = gap + s * (cellH + gap);
      for (let y = 0; y < h * zoom; y++) {
        for (let x = 0; x < w * zoom; x++) {
          const src = ((s * h + Math.floor(y / zoom)) * w + Math.floor(x / zoom)) * cc;
          const dst = ((y0 + y) * width + xs[ci] + x) * c;
          for (let k = 0; k < c; k++) {
            const value = v[src + (cc === 1 ? 0 : k)];
            data[dst + k] = Math.round(Math.min(1, Math.max(0, value)) * 255);
          }
        }
      }
    }
  });
  const ys = Array.from({ length: b }, (_, s) => gap + s * (cellH + gap));
  return {
    data,
    width,
    height,
    channels: c,
    cells: { x: xs, width: cellWs, y: ys, height: cellH },
  };
}
