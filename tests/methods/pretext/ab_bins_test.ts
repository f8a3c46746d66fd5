/**
 * Issue 17: methods/pretext/ab_bins.ts, its mirror test, small and float64: `abGamutBins` at a
 * few levels per channel against an enumeration through `rgbToLabReference` (grid sizes 10, 7.5,
 * 40 and 200, where a cell index below the bitmap's margin would wrap), its cache handing out
 * copies per key; `softEncodeAb`, `rebalanceWeights` and `annealedMean` against plain-arithmetic
 * references with their options (neighbours, sigma, lambda including the ends, sigma 0,
 * temperature); each refusal's exact message. The 8-bit, 313-bin and colorization checks are in
 * `labels_test.ts` and `colorization_bins_test.ts`.
 */
import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import {
  abGamutBins,
  annealedMean,
  rebalanceWeights,
  softEncodeAb,
} from "../../../methods/pretext/ab_bins.ts";
import { rgbToLabReference } from "../../../methods/pretext/lab.ts";
import { assertNoLeak, pcg32, setupBackend, thrown } from "../../_utils.ts";

await setupBackend();

function closeRows(got: number[][], want: number[][], tol: number, name: string) {
  assert.equal(got.length, want.length, name);
  got.forEach((row, i) =>
    row.forEach((v, j) =>
      assert.ok(Math.abs(v - want[i][j]) <= tol, `${name} [${i}][${j}]: ${v} vs ${want[i][j]}`)
    )
  );
}

/** Grid centres whose cell holds some sRGB colour of `levels` levels, sorted by a then b. */
function referenceBins(gridSize: number, levels: number): number[] {
  const cells = new Map<string, [number, number]>();
  for (let r = 0; r < levels; r++) {
    for (let g = 0; g < levels; g++) {
      for (let b = 0; b < levels; b++) {
        const [, A, B] = rgbToLabReference(r / (levels - 1), g / (levels - 1), b / (levels - 1));
        const cell: [number, number] = [Math.round(A / gridSize), Math.round(B / gridSize)];
        cells.set(cell.join(), cell);
      }
    }
  }
  return [...cells.values()].sort((u, v) => u[0] - v[0] || u[1] - v[1]).flatMap((
    [i, j],
  ) => [i * gridSize + 0, j * gridSize + 0]); // + 0: Math.round gives -0 for small negatives
}

Deno.test("abGamutBins equals the enumeration through rgbToLabReference; cached per key, handed out as copies", () => {
  // 26 levels: 1/25, in (0, 0.04045], takes the sRGB curve's linear piece (at grid 20 one bin
  // hangs on it); 150: magenta's a (98.2) rounds to cell 1 = ceil(128 / 150), row 2 half - 1 of
  // the bitmap, past the end of one of side 2 half - 1
  const cases = [[10, 9], [7.5, 6], [40, 5], [200, 4], [10, 2], [20, 26], [150, 3]];
  for (const [gridSize, levels] of cases) {
    const got = abGamutBins({ gridSize, levels });
    assert.ok(got instanceof Float32Array);
    assert.deepEqual(Array.from(got), referenceBins(gridSize, levels), `${gridSize}/${levels}`);
  }
  // 200: every a rounds to cell 0, b to -1 or 0
  assert.deepEqual(Array.from(abGamutBins({ gridSize: 200, levels: 4 })), [0, -200, 0, 0]);
  const first = abGamutBins({ gridSize: 20, levels: 5 });
  const kept = Array.from(first);
  first.fill(7);
  assert.deepEqual(Array.from(abGamutBins({ gridSize: 20, levels: 5 })), kept);
  abGamutBins({ gridSize: 20, levels: 5 }).fill(9);
  assert.deepEqual(Array.from(abGamutBins({ gridSize: 20, levels: 5 })), kept);
  assert.deepEqual(Array.from(abGamutBins({ gridSize: 20, levels: 3 })), referenceBins(20, 3));
  assert.deepEqual(Array.from(abGamutBins({ gridSize: 25, levels: 5 })), referenceBins(25, 5));
});

Deno.test("abGamutBins refuses a grid size that is not positive and finite, and fewer than 2 levels", () => {
  for (const gridSize of [0, -10, NaN, Infinity, "10"]) {
    const e = thrown(() => abGamutBins({ gridSize: gridSize as number, levels: 4 }));
    assert.ok(e instanceof RangeError);
    assert.equal(e.message, `Cannot compute ab bins: gridSize must be > 0, received ${gridSize}`);
  }
  for (const levels of [1, 0, 2.5]) {
    const e = thrown(() => abGamutBins({ levels }));
    assert.ok(e instanceof RangeError);
    assert.equal(
      e.message,
      `Cannot compute ab bins: levels must be an integer >= 2, received ${levels}`,
    );
  }
});

const CENTERS = [[0, 0], [10, 0], [0, 10], [10, 10], [30, -20], [-40, 5]];
const AB = [[3, -4], [12, 7], [-30, 2], [25, -12]];

function softReference(ab: number[][], centers: number[][], k: number, sigma: number) {
  return ab.map(([a, b]) => {
    const d2 = centers.map(([x, y]) => (x - a) ** 2 + (y - b) ** 2);
    const near = d2.map((d, i) => [d, i]).sort((u, v) => u[0] - v[0]).slice(0, k);
    const total = near.reduce((s, [d]) => s + Math.exp(-d / (2 * sigma * sigma)), 0);
    const row = centers.map(() => 0);
    for (const [d, i] of near) row[i] = Math.exp(-d / (2 * sigma * sigma)) / total;
    return row;
  });
}

Deno.test("softEncodeAb equals the k-nearest Gaussian reference for its defaults and options", async () => {
  const ab = tf.tensor2d(AB);
  const centers = tf.tensor2d(CENTERS);
  const cases: [{ neighbors?: number; sigma?: number }, number, number][] = [
    [{}, 5, 5],
    [{ neighbors: 2 }, 2, 5],
    [{ sigma: 9 }, 5, 9],
    [{ neighbors: 6, sigma: 20 }, 6, 20],
    [{ neighbors: 1 }, 1, 5],
  ];
  for (const [options, k, sigma] of cases) {
    const got = softEncodeAb(ab, centers, options).arraySync();
    closeRows(got, softReference(AB, CENTERS, k, sigma), 1e-5, JSON.stringify(options));
  }
  await assertNoLeak(() => softEncodeAb(ab, centers).dispose());
  const cases2: [unknown, unknown, unknown, ErrorConstructor, string][] = [
    [
      tf.zeros([3, 3]),
      centers,
      {},
      TypeError,
      "ab must have rank 2 with last axis 2, received [3,3]",
    ],
    [tf.zeros([2]), centers, {}, TypeError, "ab must have rank 2 with last axis 2, received [2]"],
    [
      ab,
      tf.zeros([4, 2, 1]),
      {},
      TypeError,
      "centers must have rank 2 with last axis 2, received [4,2,1]",
    ],
    [ab, [[0, 0]], {}, TypeError, "centers must have rank 2 with last axis 2, received 0,0"],
    [
      ab,
      centers,
      { neighbors: 0 },
      RangeError,
      "neighbors must be an integer in [1, 6], received 0",
    ],
    [
      ab,
      centers,
      { neighbors: 7 },
      RangeError,
      "neighbors must be an integer in [1, 6], received 7",
    ],
    [
      ab,
      centers,
      { neighbors: 2.5 },
      RangeError,
      "neighbors must be an integer in [1, 6], received 2.5",
    ],
    [ab, centers, { sigma: 0 }, RangeError, "sigma must be > 0, received 0"],
    [ab, centers, { sigma: NaN }, RangeError, "sigma must be > 0, received NaN"],
  ];
  for (const [a, c, o, kind, text] of cases2) {
    const e = thrown(() => softEncodeAb(a as tf.Tensor2D, c as tf.Tensor2D, o as never));
    assert.ok(e instanceof kind, text);
    assert.equal(e.message, `Cannot soft-encode ab: ${text}`);
  }
});

function rebalanceReference(prior: number[], centers: number[][], lambda: number, sigma: number) {
  const q = prior.length;
  const total = prior.reduce((s, v) => s + v, 0);
  let p = prior.map((v) => v / total);
  if (sigma > 0) {
    const smooth = centers.map(([x, y]) =>
      centers.reduce(
        (s, [u, v], j) => s + Math.exp(-((x - u) ** 2 + (y - v) ** 2) / (2 * sigma * sigma)) * p[j],
        0,
      )
    );
    const st = smooth.reduce((s, v) => s + v, 0);
    p = smooth.map((v) => v / st);
  }
  const w = p.map((v) => 1 / ((1 - lambda) * v + lambda / q));
  const norm = p.reduce((s, v, i) => s + v * w[i], 0);
  return w.map((v) => v / norm);
}

Deno.test("rebalanceWeights equals the smoothed-prior reference for lambda in [0, 1] and sigma 0 or not", () => {
  const prior = [40, 3, 10, 1, 25, 7];
  const centers = tf.tensor2d(CENTERS);
  const cases: [{ lambda?: number; sigma?: number }, number, number][] = [
    [{}, 0.5, 5],
    [{ lambda: 0 }, 0, 5],
    [{ lambda: 1 }, 1, 5],
    [{ lambda: 0.2, sigma: 0 }, 0.2, 0],
    [{ sigma: 12 }, 0.5, 12],
  ];
  for (const [options, lambda, sigma] of cases) {
    const got = Array.from(rebalanceWeights(tf.tensor1d(prior), centers, options).dataSync());
    const want = rebalanceReference(prior, CENTERS, lambda, sigma);
    closeRows([got], [want], 1e-4 * Math.max(...want), JSON.stringify(options));
  }
  // lambda 1: uniform weights; the weighted prior sums to 1
  const flat = Array.from(rebalanceWeights(tf.tensor1d(prior), centers, { lambda: 1 }).dataSync());
  flat.forEach((v) => assert.ok(Math.abs(v - 1) < 1e-5));
  const cases2: [unknown, unknown, unknown, ErrorConstructor, string][] = [
    [tf.zeros([6, 1]), centers, {}, TypeError, "prior must have rank 1, received [6,1]"],
    [[1, 2], centers, {}, TypeError, "prior must have rank 1, received 1,2"],
    [
      tf.ones([6]),
      tf.zeros([6, 3]),
      {},
      TypeError,
      "centers must have rank 2 with last axis 2, received [6,3]",
    ],
    [
      tf.ones([5]),
      centers,
      {},
      TypeError,
      "prior and centers must have the same Q, received 5 and 6",
    ],
    [
      tf.ones([6]),
      centers,
      { lambda: -0.1 },
      RangeError,
      "lambda must be in [0, 1], received -0.1",
    ],
    [tf.ones([6]), centers, { lambda: 1.5 }, RangeError, "lambda must be in [0, 1], received 1.5"],
    [tf.ones([6]), centers, { lambda: NaN }, RangeError, "lambda must be in [0, 1], received NaN"],
  ];
  for (const [p, c, o, kind, text] of cases2) {
    const e = thrown(() => rebalanceWeights(p as tf.Tensor1D, c as tf.Tensor2D, o as never));
    assert.ok(e instanceof kind, text);
    assert.equal(e.message, `Cannot rebalance: ${text}`);
  }
});

Deno.test("annealedMean equals softmax(log p / T) times the centres for its default and other T", async () => {
  const prng = pcg32(4);
  const logits = Array.from({ length: 3 }, () => CENTERS.map(() => 4 * prng() - 2));
  const centers = tf.tensor2d(CENTERS);
  for (
    const [options, t] of [[{}, 0.38], [{ temperature: 1 }, 1], [
      { temperature: 0.1 },
      0.1,
    ]] as const
  ) {
    const want = logits.map((row) => {
      const e = row.map((v) => Math.exp(v / t));
      const s = e.reduce((u, v) => u + v, 0);
      return [0, 1].map((c) => e.reduce((u, v, i) => u + (v / s) * CENTERS[i][c], 0));
    });
    const got = annealedMean(tf.tensor2d(logits), centers, options).arraySync();
    closeRows(got, want, 1e-3, JSON.stringify(options));
  }
  const l = tf.tensor2d(logits);
  await assertNoLeak(() => annealedMean(l, centers).dispose());
  const cases2: [unknown, unknown, unknown, ErrorConstructor, string][] = [
    [tf.zeros([6]), centers, {}, TypeError, "logits must have rank 2, received [6]"],
    [
      l,
      tf.zeros([6, 1]),
      {},
      TypeError,
      "centers must have rank 2 with last axis 2, received [6,1]",
    ],
    [tf.zeros([3, 5]), centers, {}, TypeError, "logits must have 6 columns, received [3,5]"],
    [l, centers, { temperature: 0 }, RangeError, "temperature must be > 0, received 0"],
    [l, centers, { temperature: NaN }, RangeError, "temperature must be > 0, received NaN"],
  ];
  for (const [x, c, o, kind, text] of cases2) {
    const e = thrown(() => annealedMean(x as tf.Tensor2D, c as tf.Tensor2D, o as never));
    assert.ok(e instanceof kind, text);
    assert.equal(e.message, `Cannot decode ab: ${text}`);
  }
});
