/**
 * A PNG contact sheet of images, for a person to look at (samples, augmented views).
 *
 * @module
 */
import { loadSharp } from "./_sharp.ts";

/** Options for {@linkcode saveImageGrid}. */
export interface SaveImageGridOptions {
  /**
   * Images per row.
   * @default ceil(sqrt(N)) for square images, 1 for images at least 3x wider than tall
   */
  columns?: number;
  /**
   * Pixels between images (and around the grid).
   * @default 2
   */
  padding?: number;
  /**
   * Integer upscaling (nearest neighbour), so 28 px digits are visible.
   * @default 1
   */
  scale?: number;
  /**
   * Gray level of the padding, 0 to 255.
   * @default 128
   */
  background?: number;
}

/**
 * Writes `N` images as a PNG grid. Takes uint8 pixels, or floats in `[0, 1]` (as tensors hold
 * them: pass `await x.data()`); 1 or 3 channels.
 *
 * Permissions: `--allow-write`, and sharp's `--allow-env --allow-read --allow-sys --allow-ffi`
 * (sharp loads on the first call; importing needs none).
 *
 * @param images pixels, `[N, H, W, C]` row-major: uint8, or floats in `[0, 1]` (clamped)
 * @param shape `[N, H, W, C]` with `C` 1 or 3
 * @param path where to write the PNG
 * @param options columns, padding, scale, background
 * @returns when the file is written
 *
 * @example
 * ```ts
 * import { saveImageGrid } from "./save_image_grid.ts";
 * import sharp from "sharp";
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile({ suffix: ".png" });
 * await saveImageGrid(new Uint8Array(4 * 8 * 8).fill(200), [4, 8, 8, 1], path, { padding: 1 });
 * const meta = await sharp(path).metadata();
 * assert.deepEqual([meta.width, meta.height], [19, 19]); // 2 x 2 images of 8 px, 1 px padding
 * await Deno.remove(path);
 * ```
 */
export async function saveImageGrid(
  images: Uint8Array | Float32Array,
  shape: [number, number, number, number],
  path: string,
  options: SaveImageGridOptions = {},
): Promise<void> {
  if (!(images instanceof Uint8Array) && !(images instanceof Float32Array)) {
    throw new TypeError("Cannot save image grid: images must be a Uint8Array or Float32Array");
  }
  if (
    !Array.isArray(shape) || shape.length !== 4 ||
    !shape.every((d) => Number.isInteger(d) && d >= 1)
  ) {
    throw new TypeError(
      `Cannot save image grid: shape must be [N, H, W, C] of positive integers, received ${
        JSON.stringify(shape)
      }`,
    );
  }
  const [n, h, w, c] = shape;
  if (c !== 1 && c !== 3) {
    throw new RangeError(`Cannot save image grid: channels must be 1 or 3, received ${c}`);
  }
  if (images.length !== n * h * w * c) {
    throw new TypeError(
      `Cannot save image grid: shape [${shape}] needs ${
        n * h * w * c
      } values, received ${images.length}`,
    );
  }
  const {
    columns = w >= 3 * h ? 1 : Math.ceil(Math.sqrt(n)),
    padding = 2,
    scale = 1,
    background = 128,
  } = options;
  if (!Number.isInteger(columns) || columns < 1) {
    throw new RangeError(
      `Cannot save image grid: columns must be a positive integer, received ${columns}`,
    );
  }
  if (!Number.isInteger(padding) || padding < 0 || !Number.isInteger(scale) || scale < 1) {
    throw new RangeError(
      `Cannot save image grid: need integers padding >= 0 and scale >= 1, received ${padding} and ${scale}`,
    );
  }
  const cols = Math.min(columns, n);
  const rows = Math.ceil(n / cols);
  const sh = h * scale, sw = w * scale;
  const W = cols * sw + (cols + 1) * padding;
  const H = rows * sh + (rows + 1) * padding;
  const out = new Uint8Array(W * H * c).fill(Math.max(0, Math.min(255, Math.round(background))));
  const float = images instanceof Float32Array;
  for (let k = 0; k < n; k++) {
    const ox = padding + (k % cols) * (sw + padding);
    const oy = padding + Math.floor(k / cols) * (sh + padding);
    for (let y = 0; y < sh; y++) {
      const sy = Math.floor(y / scale);
      for (let x = 0; x < sw; x++) {
        const src = ((k * h + sy) * w + Math.floor(x / scale)) * c;
        const dst = ((oy + y) * W + ox + x) * c;
        for (let ch = 0; ch < c; ch++) {
          const v = images[src + ch];
          out[dst + ch] = float ? Math.round(Math.max(0, Math.min(1, v)) * 255) : v;
        }
      }
    }
  }
  const sharp = await loadSharp();
  await sharp(out, { raw: { width: W, height: H, channels: c } }).png().toFile(path);
}
