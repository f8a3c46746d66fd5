import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import { hammingPermutations } from "../../../methods/pretext/hamming_permutations.ts";
import {
  labToRgb,
  labToRgbReference,
  rgbToLab,
  rgbToLabReference,
} from "../../../methods/pretext/lab.ts";
import { abGamutBins, annealedMean, softEncodeAb } from "../../../methods/pretext/ab_bins.ts";
import { gridTiles, rotate90 } from "../../../methods/pretext/tiles.ts";
import { rotation } from "../../../methods/rotation.ts";
import { jigsaw } from "../../../methods/jigsaw.ts";
import { assertNoLeak, assertTensorClose, pcg32, setupBackend } from "../../_utils.ts";

await setupBackend();

Deno.test("rotate90 matches np.rot90 on a non-square image and four turns are the identity", () => {
  // [[1, 2, 3], [4, 5, 6]] rotated counter-clockwise: [[3, 6], [2, 5], [1, 4]]
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
  assertTensorClose(rotate90(x, 1), tf.tensor4d([3, 6, 2, 5, 1, 4], [1, 3, 2, 1]), {
    atol: 0,
    rtol: 0,
  });
  assertTensorClose(rotate90(x, -1), tf.tensor4d([4, 1, 5, 2, 6, 3], [1, 3, 2, 1]), {
    atol: 0,
    rtol: 0,
  });
  assertTensorClose(rotate90(x, 2), tf.tensor4d([6, 5, 4, 3, 2, 1], [1, 2, 3, 1]), {
    atol: 0,
    rtol: 0,
  });
  assertTensorClose(rotate90(rotate90(rotate90(rotate90(x, 1), 1), 1), 1), x, { atol: 0, rtol: 0 });
  assert.throws(() => rotate90(x, 0.5), RangeError);
  assert.throws(() => rotate90(tf.zeros([2, 2]) as unknown as tf.Tensor4D, 1), TypeError);
});

Deno.test("rotation: rotating each view row back by its label restores the image exactly", () => {
  const { method } = rotation({ encoder: "convnet", inputShape: [5, 5, 2], seed: 0, widths: [2] });
  const x = tf.randomUniform([3, 5, 5, 2], 0, 1, "float32", 4) as tf.Tensor4D;
  const [v] = method.views(x, 0);
  assert.deepEqual(v.shape, [12, 5, 5, 2]);
  // labels are floor(row / B): undo each block's rotation
  for (let k = 0; k < 4; k++) {
    const block = tf.slice(v, [3 * k, 0, 0, 0], [3, 5, 5, 2]);
    assertTensorClose(rotate90(block, -k), x, { atol: 0, rtol: 0 });
    if (k > 0) assert.ok(tf.max(tf.abs(tf.sub(block, x))).dataSync()[0] > 0.1);
  }
  assert.throws(
    () => rotation({ encoder: "convnet", inputShape: [4, 6, 1], seed: 0, widths: [2] }),
    TypeError,
  );
});

Deno.test("hammingPermutations: asked size, distinct, reported minimum distance exact, deterministic", () => {
  const a = hammingPermutations(100, { seed: 3, selection: "maxmin" });
  const b = hammingPermutations(100, { seed: 3, selection: "maxmin" });
  const c = hammingPermutations(100, { seed: 4, selection: "maxmin" });
  assert.equal(a.permutations.length, 100);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.permutations, c.permutations);
  let min = 9;
  for (let i = 0; i < 100; i++) {
    assert.deepEqual([...a.permutations[i]].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (let j = 0; j < i; j++) {
      let d = 0;
      for (let t = 0; t < 9; t++) if (a.permutations[i][t] !== a.permutations[j][t]) d++;
      min = Math.min(min, d);
    }
  }
  assert.equal(a.minDistance, min);
  // greedy maximin on all 9! permutations reaches 6 for 100 classes (random sets: about 2)
  assert.ok(min >= 6, `min distance ${min}`);
  // a small exhaustive case: from 4 tiles, 4 permutations can be pairwise at distance 4
  assert.equal(hammingPermutations(4, { tiles: 4 }).minDistance, 4);
  assert.throws(() => hammingPermutations(25, { tiles: 4 }), RangeError);
  assert.throws(() => hammingPermutations(3, { tiles: 11 }), RangeError);
});

Deno.test("jigsaw views: each puzzle's tiles are its image's tiles in the label's permutation", () => {
  const setup = jigsaw({
    encoder: "convnet",
    inputShape: [12, 12, 1],
    seed: 1,
    widths: [2],
    permutations: 6,
    tileUnits: 2,
    hiddenDim: 4,
    normalizeTiles: false, // compared with raw tiles (normalization: jigsaw_paper_test.ts)
  });
  const x = tf.randomUniform([4, 12, 12, 1], 0, 1, "float32", 2) as tf.Tensor4D;
  const [shuffled, labelView] = setup.method.views(x, 7);
  const ordered = gridTiles(x, 7); // same seed: the same crops and jitter
  const labels = Array.from(labelView.dataSync());
  assert.ok(labels.every((l) => Number.isInteger(l) && l >= 0 && l < 6));
  const s = shuffled.arraySync() as number[][][][];
  const o = ordered.arraySync() as number[][][][];
  for (let b = 0; b < 4; b++) {
    const perm = setup.method.permutations[labels[b]];
    for (let p = 0; p < 9; p++) assert.deepEqual(s[9 * b + p], o[9 * b + perm[p]]);
  }
});

Deno.test("gridTiles cuts pixel-exact tiles inside their cells", () => {
  // pixel value = its own coordinates, so every tile reveals where it came from
  const h = 12;
  const coords = tf.tensor4d(Array.from({ length: h * h }, (_, i) => i), [1, h, h, 1]);
  const tiles = gridTiles(coords, 3, { tileSize: 3, minCrop: 1 }).arraySync() as number[][][][];
  for (let p = 0; p < 9; p++) {
    const first = tiles[p][0][0][0];
    const [y, x] = [Math.floor(first / h), first % h];
    // cells are 4 px: the tile of position p starts in cell p
    assert.equal(Math.floor(y / 4), Math.floor(p / 3));
    assert.equal(Math.floor(x / 4), p % 3);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) assert.equal(tiles[p][r][c][0], first + r * h + c);
    }
  }
});

Deno.test("Lab: known values, round trip below 1e-3, and parity with the float64 reference", () => {
  const known: [number[], number[]][] = [
    [[1, 1, 1], [100, 0, 0]],
    [[0, 0, 0], [0, 0, 0]],
    [[1, 0, 0], [53.2408, 80.0925, 67.2032]],
    [[0, 1, 0], [87.7347, -86.1827, 83.1793]],
    [[0, 0, 1], [32.2970, 79.1875, -107.8602]],
  ];
  for (const [rgb, lab] of known) {
    assertTensorClose(rgbToLab(tf.tensor2d([rgb])), [lab], { atol: 2e-3, rtol: 0 });
    const ref = rgbToLabReference(rgb[0], rgb[1], rgb[2]);
    ref.forEach((v, i) => assert.ok(Math.abs(v - lab[i]) < 1e-3, `${rgb}: ${ref}`));
  }
  const prng = pcg32(5);
  const n = 2000;
  const rgb = Array.from({ length: n * 3 }, () => prng());
  const lab = rgbToLab(tf.tensor2d(rgb, [n, 3]));
  const labData = lab.dataSync();
  let worstRef = 0;
  for (let i = 0; i < n; i++) {
    const ref = rgbToLabReference(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]);
    for (let c = 0; c < 3; c++) {
      worstRef = Math.max(worstRef, Math.abs(ref[c] - labData[3 * i + c]));
    }
    const back = labToRgbReference(ref[0], ref[1], ref[2]);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(back[c] - rgb[3 * i + c]) < 1e-9);
  }
  assert.ok(worstRef < 1e-3, `tensor Lab vs float64: ${worstRef}`);
  const back = labToRgb(lab).dataSync();
  let worst = 0;
  for (let i = 0; i < 3 * n; i++) worst = Math.max(worst, Math.abs(back[i] - rgb[i]));
  assert.ok(worst < 1e-3, `round trip error ${worst}`);
  assert.throws(() => rgbToLab(tf.zeros([2, 4])), TypeError);
});

Deno.test("ab bins: 261 in-gamut bins of 8-bit sRGB (not Zhang's 313), each reachable, ranges as Zhang's", () => {
  const bins = abGamutBins();
  assert.equal(bins.length / 2, 261);
  const a = bins.filter((_, i) => i % 2 === 0);
  const b = bins.filter((_, i) => i % 2 === 1);
  assert.deepEqual([Math.min(...a), Math.max(...a)], [-90, 100]);
  assert.deepEqual([Math.min(...b), Math.max(...b)], [-110, 90]);
  // sRGB primaries and grays fall in bins of the set; a far-out cell is not in it
  const has = (x: number, y: number) => a.some((v, i) => v === x && b[i] === y);
  for (const [r, g, bl] of [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5], [1, 1, 0]]) {
    const [, la, lb] = rgbToLabReference(r, g, bl);
    assert.ok(has(Math.round(la / 10) * 10, Math.round(lb / 10) * 10), `${r},${g},${bl}`);
  }
  assert.ok(!has(100, -110) && !has(-90, -110));
});

Deno.test("soft encoding puts mass on the 5 nearest bins; annealed mean of a one-hot is its bin", async () => {
  const bins = abGamutBins();
  const centers = tf.tensor2d(bins, [bins.length / 2, 2]);
  const q = centers.shape[0];
  const ab = tf.tensor2d([[3, -4], [40, 40], [0, 0]]);
  const z = softEncodeAb(ab, centers);
  const zs = z.arraySync() as number[][];
  const cs = centers.arraySync() as number[][];
  const abs = ab.arraySync() as number[][];
  for (let r = 0; r < 3; r++) {
    const nz = zs[r].map((v, i) => [v, i]).filter(([v]) => v > 0);
    assert.equal(nz.length, 5);
    assert.ok(Math.abs(zs[r].reduce((s, v) => s + v, 0) - 1) < 1e-5);
    const d2 = cs.map(([x, y]) => (x - abs[r][0]) ** 2 + (y - abs[r][1]) ** 2);
    const nearest = d2.map((d, i) => [d, i]).sort((u, v) => u[0] - v[0]).slice(0, 5);
    const total = nearest.reduce((s, [d]) => s + Math.exp(-d / 50), 0);
    for (const [d, i] of nearest) assert.ok(Math.abs(zs[r][i] - Math.exp(-d / 50) / total) < 1e-4);
  }
  const logits = tf.mul(tf.oneHot(tf.tensor1d([7, 100], "int32"), q), 1000) as tf.Tensor2D;
  assertTensorClose(annealedMean(logits, centers), [cs[7], cs[100]], { atol: 1e-3, rtol: 0 });
  await assertNoLeak(() => {
    tf.dispose([softEncodeAb(ab, centers), annealedMean(logits, centers)]);
  });
});
