/**
 * Geometric helpers of the pretext tasks: quarter-turn rotations and 3x3 grids of jittered tiles.
 *
 * @module
 */
import { tf } from "../../backend/tf.ts";
import { pcg32 } from "../../data/prng.ts";
import { randomLabels } from "./classify.ts";

function checkImages(where: string, images: tf.Tensor4D): void {
  if (!(images instanceof tf.Tensor) || images.rank !== 4) {
    throw new TypeError(
      `Cannot ${where}: images must have shape [B, H, W, C], received ${
        images instanceof tf.Tensor ? `[${images.shape}]` : String(images)
      }`,
    );
  }
}

/**
 * Rotates images counter-clockwise by `k` quarter turns (`np.rot90` on the H, W axes).
 *
 * @param images images, shape `[B, H, W, C]`
 * @param k quarter turns, any integer (taken mod 4)
 * @returns rotated images, shape `[B, W, H, C]` for odd k
 * @throws {TypeError} unless images has rank 4
 * @throws {RangeError} unless k is an integer
 *
 * @example
 * ```ts
 * import { rotate90 } from "./tiles.ts";
 * import { tf } from "../../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]); // [[1, 2], [3, 4]]
 * assert.deepEqual(Array.from(rotate90(x, 1).dataSync()), [2, 4, 1, 3]);
 * ```
 */
export function rotate90(images: tf.Tensor4D, k: number): tf.Tensor4D {
  checkImages("rotate", images);
  if (!Number.isInteger(k)) {
    throw new RangeError(`Cannot rotate: k must be an integer, received ${k}`);
  }
  const q = ((k % 4) + 4) % 4;
  return tf.tidy(() => {
    if (q === 0) return tf.clone(images);
    if (q === 2) return tf.reverse(images, [1, 2]);
    const t = tf.transpose(images, [0, 2, 1, 3]);
    return tf.reverse(t, q === 1 ? 1 : 2);
  });
}

/** Options for {@linkcode gridTiles}. */
export interface GridTilesOptions {
  /** Tiles per side. @default {3} */
  grid?: number;
  /**
   * Side of each tile in pixels; the rest of each cell is the gap and the room for jitter.
   * @default {floor(cell * 64 / 75)} (Noroozi & Favaro: 64 px tiles in 75 px cells), at least 1
   */
  tileSize?: number;
  /**
   * Smallest side of the random square crop, as a fraction of the image's shorter side.
   * @default {0.85}
   */
  minCrop?: number;
}

/**
 * Cuts each image into a `grid x grid` array of tiles, Doersch et al. 2015 / Noroozi & Favaro
 * 2016 style: a random square crop, split into equal cells, and in each cell a tile of
 * `tileSize` at a random offset (the gap and per-tile jitter that stop a network from matching
 * edges). Tile order is row-major, image-major: tile `p` of image `b` is row `b * grid^2 + p`.
 *
 * @param images images, shape `[B, H, W, C]`
 * @param seed seed of the crops and jitter
 * @param options grid, tileSize, minCrop
 * @returns tiles, shape `[B * grid^2, tileSize, tileSize, C]`
 * @throws {TypeError} unless images has rank 4
 * @throws {RangeError} when the tile does not fit in a cell
 *
 * @example
 * ```ts
 * import { gridTiles } from "./tiles.ts";
 * import { tf } from "../../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const tiles = gridTiles(tf.zeros([2, 28, 28, 1]) as tf.Tensor4D, 0);
 * assert.deepEqual(tiles.shape, [18, 6, 6, 1]); // 8 px cells in the smallest crop
 * ```
 */
export function gridTiles(
  images: tf.Tensor4D,
  seed: number,
  options: GridTilesOptions = {},
): tf.Tensor4D {
  checkImages("cut tiles", images);
  const { grid = 3, minCrop = 0.85 } = options;
  const [b, h, w] = images.shape;
  const side = Math.min(h, w);
  if (!Number.isInteger(grid) || grid < 1 || grid > side) {
    throw new RangeError(
      `Cannot cut tiles: grid must be an integer in [1, ${side}], received ${grid}`,
    );
  }
  if (!(minCrop > 0 && minCrop <= 1)) {
    throw new RangeError(`Cannot cut tiles: minCrop must be in (0, 1], received ${minCrop}`);
  }
  const smallCell = Math.floor(Math.max(grid, Math.round(minCrop * side)) / grid);
  const { tileSize = Math.max(1, Math.floor(smallCell * 64 / 75)) } = options;
  if (!Number.isInteger(tileSize) || tileSize < 1 || tileSize > smallCell) {
    throw new RangeError(
      `Cannot cut tiles: tileSize must be an integer in [1, ${smallCell}] (the smallest cell), received ${tileSize}`,
    );
  }
  const prng = pcg32(seed);
  const channels = images.shape[3];
  const tiles = b * grid * grid;
  // flat pixel indices of every tile: a gather is pixel-exact on every backend (cropAndResize's
  // "nearest" rounds box coordinates differently on wasm)
  const index = new Int32Array(tiles * tileSize * tileSize);
  const lo = Math.max(grid, Math.round(minCrop * side));
  let k = 0;
  for (let i = 0; i < b; i++) {
    const crop = lo + Math.floor(prng() * (side - lo + 1));
    const cell = Math.floor(crop / grid);
    const top = Math.floor(prng() * (h - cell * grid + 1));
    const left = Math.floor(prng() * (w - cell * grid + 1));
    for (let r = 0; r < grid; r++) {
      for (let c = 0; c < grid; c++) {
        const y = top + r * cell + Math.floor(prng() * (cell - tileSize + 1));
        const x = left + c * cell + Math.floor(prng() * (cell - tileSize + 1));
        for (let dy = 0; dy < tileSize; dy++) {
          for (let dx = 0; dx < tileSize; dx++) index[k++] = (i * h + y + dy) * w + x + dx;
        }
      }
    }
  }
  return tf.tidy(() =>
    tf.reshape(
      tf.gather(tf.reshape(images, [b * h * w, channels]), tf.tensor1d(index, "int32")),
      [tiles, tileSize, tileSize, channels],
    ) as tf.Tensor4D
  );
}

/**
 * Drops all but one random colour channel of each image, replacing the others with Gaussian
 * noise of 1/100 the kept channel's standard deviation (Doersch et al. 2015's remedy against
 * chromatic-aberration shortcuts). Single-channel images are returned unchanged (a copy).
 *
 * @param images images, shape `[N, H, W, C]`
 * @param seed seed of the channel choice and the noise
 * @returns images of the same shape
 * @throws {TypeError} unless images has rank 4
 *
 * @example
 * ```ts
 * import { dropColors } from "./tiles.ts";
 * import { tf } from "../../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const y = dropColors(tf.ones([2, 4, 4, 3]) as tf.Tensor4D, 0);
 * assert.deepEqual(y.shape, [2, 4, 4, 3]);
 * ```
 */
export function dropColors(images: tf.Tensor4D, seed: number): tf.Tensor4D {
  checkImages("drop colors", images);
  const [n, , , c] = images.shape;
  if (c === 1) return tf.clone(images);
  return tf.tidy(() => {
    const keep = tf.reshape(
      tf.oneHot(randomLabels(n, c, seed), c),
      [n, 1, 1, c],
    );
    const kept = tf.sum(tf.mul(images, keep), 3, true); // [N, H, W, 1]
    const std = tf.sqrt(tf.moments(kept, [1, 2, 3], true).variance); // [N, 1, 1, 1]
    const noise = tf.mul(
      tf.randomNormal(images.shape, 0, 1, "float32", seed + 1),
      tf.mul(std, 0.01),
    );
    return tf.add(tf.mul(images, keep), tf.mul(noise, tf.sub(1, keep))) as tf.Tensor4D;
  });
}
