/**
 * Issue 17: methods/pretext/tiles.ts, its mirror test: `rotate90` against a pure-JS `np.rot90`
 * for every k in [-5, 6]; `gridTiles` against a pure-JS reference of the documented draws from
 * `pcg32(seed)` (per image the crop side, top and left, then per tile its y and x offset in the
 * cell), pixel-exact on images whose values are their own flat index, with the default tile size
 * `floor(cell * 64 / 75)` of the smallest cell; `dropColors` keeping the channel
 * `randomLabels(N, C, seed)` picks and filling the others with `randomNormal(seed + 1)` scaled by
 * 1/100 of the kept channel's standard deviation; each refusal's exact message.
 */
import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import { dropColors, gridTiles, rotate90 } from "../../../methods/pretext/tiles.ts";
import { randomLabels } from "../../../methods/pretext/classify.ts";
import { pcg32 } from "../../../data/prng.ts";
import { assertNoLeak, setupBackend, thrown } from "../../_utils.ts";

await setupBackend();

type Image = number[][][]; // [H][W][C]

/** np.rot90(image, k) on one [H, W, C] image: counter-clockwise quarter turns. */
function rot90(image: Image, k: number): Image {
  let out = image;
  for (let t = 0; t < ((k % 4) + 4) % 4; t++) {
    const h = out.length, w = out[0].length;
    const src = out;
    // one counter-clockwise turn: new[i][j] = old[j][w - 1 - i]
    out = Array.from(
      { length: w },
      (_, i) => Array.from({ length: h }, (_, j) => src[j][w - 1 - i]),
    );
  }
  return out;
}

function indexImages(b: number, h: number, w: number, c = 1): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from({ length: b * h * w * c }, (_, i) => i), [b, h, w, c]);
}

Deno.test("rotate90 is np.rot90 on each [H, W, C] image for every k in [-5, 6]; a copy at k = 0", async () => {
  const x = indexImages(2, 3, 4, 2);
  const images = x.arraySync() as Image[];
  for (let k = -5; k <= 6; k++) {
    const y = rotate90(x, k);
    assert.deepEqual(y.arraySync(), images.map((im) => rot90(im, k)), `k = ${k}`);
    if (k % 4 === 0) assert.notEqual(y, x);
    y.dispose();
  }
  assert.deepEqual(rot90([[[1], [2]], [[3], [4]]], 1), [[[2], [4]], [[1], [3]]]);
  await assertNoLeak(() => {
    for (const k of [0, 1, 2, 3]) rotate90(x, k).dispose();
  });
  const e = thrown(() => rotate90(x, 1.5));
  assert.ok(e instanceof RangeError);
  assert.equal(e.message, "Cannot rotate: k must be an integer, received 1.5");
  const shape = thrown(() => rotate90(tf.zeros([2, 3, 4]) as unknown as tf.Tensor4D, 1));
  assert.ok(shape instanceof TypeError);
  assert.equal(
    shape.message,
    "Cannot rotate: images must have shape [B, H, W, C], received [2,3,4]",
  );
  const plain = thrown(() => rotate90([1, 2] as unknown as tf.Tensor4D, 1));
  assert.ok(plain instanceof TypeError);
  assert.equal(plain.message, "Cannot rotate: images must have shape [B, H, W, C], received 1,2");
});

/** The reference tiles of index images, as flat pixel indices [B * grid^2][T][T][1]. */
function referenceTiles(
  b: number,
  h: number,
  w: number,
  seed: number,
  grid: number,
  minCrop: number,
  tileSize?: number,
): number[][][][] {
  const side = Math.min(h, w);
  const lo = Math.max(grid, Math.round(minCrop * side));
  const t = tileSize ?? Math.max(1, Math.floor(Math.floor(lo / grid) * 64 / 75));
  const prng = pcg32(seed);
  const int = (n: number) => Math.floor(prng() * n);
  const out: number[][][][] = [];
  for (let i = 0; i < b; i++) {
    const crop = lo + int(side - lo + 1);
    const cell = Math.floor(crop / grid);
    const top = int(h - cell * grid + 1);
    const left = int(w - cell * grid + 1);
    for (let r = 0; r < grid; r++) {
      for (let c = 0; c < grid; c++) {
        const y = top + r * cell + int(cell - t + 1);
        const x = left + c * cell + int(cell - t + 1);
        out.push(
          Array.from(
            { length: t },
            (_, dy) => Array.from({ length: t }, (_, dx) => [(i * h + y + dy) * w + x + dx]),
          ),
        );
      }
    }
  }
  return out;
}

Deno.test("gridTiles cuts the reference's tiles from pcg32(seed), pixel-exact, for defaults and options", async () => {
  const cases: [
    number,
    number,
    number,
    number,
    { grid?: number; minCrop?: number; tileSize?: number },
  ][] = [
    [3, 28, 28, 0, {}],
    [2, 30, 37, 5, {}],
    [2, 41, 26, 9, { grid: 2 }],
    [3, 20, 20, 1, { grid: 4, minCrop: 0.5 }],
    [2, 24, 24, 7, { tileSize: 5, minCrop: 1 }],
    [2, 12, 12, 3, { grid: 3, tileSize: 4, minCrop: 1 }],
    [1, 6, 9, 2, { grid: 6, minCrop: 0.1 }],
    [2, 10, 10, 4, { grid: 1, minCrop: 0.6 }],
  ];
  for (const [b, h, w, seed, o] of cases) {
    const want = referenceTiles(b, h, w, seed, o.grid ?? 3, o.minCrop ?? 0.85, o.tileSize);
    const got = gridTiles(indexImages(b, h, w), seed, o);
    const name = `${b}x${h}x${w} seed ${seed} ${JSON.stringify(o)}`;
    assert.deepEqual(got.shape, [want.length, want[0].length, want[0].length, 1], name);
    assert.deepEqual(got.arraySync(), want, name);
    got.dispose();
  }
  // the documented default tile: 28 px, crops of at least 24 px, cells of 8, tiles of 6
  assert.deepEqual(gridTiles(tf.zeros([1, 28, 28, 1]) as tf.Tensor4D, 0).shape, [9, 6, 6, 1]);
  // channels travel together
  const two = tf.concat([indexImages(2, 16, 16), tf.neg(indexImages(2, 16, 16))], 3);
  const one = gridTiles(indexImages(2, 16, 16), 6).arraySync() as number[][][][];
  assert.deepEqual(
    gridTiles(two as tf.Tensor4D, 6).arraySync(),
    one.map((t) => t.map((row) => row.map(([v]) => [v, -v]))),
  );
  const x = indexImages(2, 16, 16);
  await assertNoLeak(() => gridTiles(x, 1).dispose());
});

Deno.test("gridTiles refuses a bad rank, grid, minCrop and tileSize by name; the ends of each range build", () => {
  const x = tf.zeros([1, 12, 15, 1]) as tf.Tensor4D;
  const cases: [unknown, Record<string, unknown>, ErrorConstructor, string][] = [
    [
      tf.zeros([12, 15, 1]),
      {},
      TypeError,
      "images must have shape [B, H, W, C], received [12,15,1]",
    ],
    [x, { grid: 0 }, RangeError, "grid must be an integer in [1, 12], received 0"],
    [x, { grid: 13 }, RangeError, "grid must be an integer in [1, 12], received 13"],
    [x, { grid: 2.5 }, RangeError, "grid must be an integer in [1, 12], received 2.5"],
    [x, { minCrop: 0 }, RangeError, "minCrop must be in (0, 1], received 0"],
    [x, { minCrop: 1.01 }, RangeError, "minCrop must be in (0, 1], received 1.01"],
    [x, { minCrop: NaN }, RangeError, "minCrop must be in (0, 1], received NaN"],
    [
      x,
      { tileSize: 4, minCrop: 0.85 },
      RangeError,
      "tileSize must be an integer in [1, 3] (the smallest cell), received 4",
    ],
    [
      x,
      { tileSize: 0 },
      RangeError,
      "tileSize must be an integer in [1, 3] (the smallest cell), received 0",
    ],
    [
      x,
      { tileSize: 1.5 },
      RangeError,
      "tileSize must be an integer in [1, 3] (the smallest cell), received 1.5",
    ],
  ];
  for (const [images, options, kind, text] of cases) {
    const e = thrown(() => gridTiles(images as tf.Tensor4D, 0, options));
    assert.ok(e instanceof kind, `${JSON.stringify(options)}: ${e}`);
    assert.equal(e.message, `Cannot cut tiles: ${text}`);
  }
  for (
    const [o, shape] of [
      [{ grid: 12, minCrop: 1 }, [144, 1, 1, 1]],
      [{ grid: 1, minCrop: 1, tileSize: 12 }, [1, 12, 12, 1]],
      [{ tileSize: 3 }, [9, 3, 3, 1]],
      [{ minCrop: 0.01, grid: 2 }, [4, 1, 1, 1]],
    ] as const
  ) {
    const t = gridTiles(x, 0, o);
    assert.deepEqual(t.shape, shape, JSON.stringify(o));
    t.dispose();
  }
});

Deno.test("dropColors keeps randomLabels' channel exactly and fills the others with seed + 1 noise at 1/100 its std", () => {
  const [n, h, w, c] = [6, 5, 4, 3];
  const x = tf.randomUniform([n, h, w, c], 0, 1, "float32", 3) as tf.Tensor4D;
  const seed = 11;
  const y = dropColors(x, seed).arraySync() as number[][][][];
  const xs = x.arraySync() as number[][][][];
  const keep = Array.from(randomLabels(n, c, seed).dataSync());
  assert.ok(new Set(keep).size > 1, "the draw keeps more than one channel across images");
  const noise = tf.randomNormal([n, h, w, c], 0, 1, "float32", seed + 1)
    .arraySync() as number[][][][];
  for (let i = 0; i < n; i++) {
    const kept = xs[i].flat().map((px) => px[keep[i]]);
    const mean = kept.reduce((s, v) => s + v, 0) / kept.length;
    const std = Math.sqrt(kept.reduce((s, v) => s + (v - mean) ** 2, 0) / kept.length);
    for (let r = 0; r < h; r++) {
      for (let q = 0; q < w; q++) {
        for (let ch = 0; ch < c; ch++) {
          const want = ch === keep[i] ? xs[i][r][q][ch] : noise[i][r][q][ch] * 0.01 * std;
          assert.ok(Math.abs(y[i][r][q][ch] - want) < 1e-6, `${i} ${r} ${q} ${ch}`);
        }
      }
    }
  }
  // one channel: an equal copy, not the input itself
  const g = tf.randomUniform([2, 3, 3, 1], 0, 1, "float32", 1) as tf.Tensor4D;
  const same = dropColors(g, 0);
  assert.notEqual(same, g);
  assert.deepEqual(same.arraySync(), g.arraySync());
  const e = thrown(() => dropColors(tf.zeros([2, 3]) as unknown as tf.Tensor4D, 0));
  assert.ok(e instanceof TypeError);
  assert.equal(
    e.message,
    "Cannot drop colors: images must have shape [B, H, W, C], received [2,3]",
  );
});
