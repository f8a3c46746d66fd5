/**
 * Issue 17: `patchPairs` (methods/pretext/patch_pairs.ts), its mirror test: the geometry rule
 * (gap `round(gap P)`, jitter `round(jitter P)` at least 1 px and at most `floor((G - 1) / 2)`,
 * the patch shrunk until 3 patches, 2 gaps and 2 jitters fit, `patchSize` taken as given) and
 * the sampling against a pure-JS reference of the documented draws from `pcg32(seed)` (layout
 * top, left, the label, then each patch's y and x jitter, centre before neighbour), pixel-exact
 * on images whose values are their own flat index; each refusal's exact message. The no-touching
 * and direction checks over many draws are in `relative_patch_geometry_test.ts`.
 */
import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import { patchPairs, type PatchPairsOptions } from "../../../methods/pretext/patch_pairs.ts";
import { pcg32 } from "../../../data/prng.ts";
import { assertNoLeak, setupBackend } from "../../_utils.ts";

await setupBackend();

interface Geometry {
  patch: number;
  gap: number;
  jitter: number;
}

function span(g: Geometry): number {
  return 3 * g.patch + 2 * g.gap + 2 * g.jitter;
}

function geometryOf(side: number, o: PatchPairsOptions): Geometry {
  const { patch = 96 / 398, gap = 0.5, jitter = 7 / 96 } = o;
  const at = (p: number): Geometry => {
    const g = Math.round(gap * p);
    let j = 0;
    if (jitter > 0) j = Math.max(0, Math.min(Math.max(1, Math.round(jitter * p)), (g - 1) >> 1));
    return { patch: p, gap: g, jitter: j };
  };
  if (o.patchSize !== undefined) return at(o.patchSize);
  let p = Math.max(1, Math.floor(patch * side));
  while (p > 1 && span(at(p)) > side) p--;
  return at(p);
}

/** Each image's values are their flat pixel index `(i H + y) W + x` (one channel). */
function indexImages(b: number, h: number, w: number): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from({ length: b * h * w }, (_, i) => i), [b, h, w, 1]);
}

/** The reference draws: per image top, left, label, then (y, x) jitter of centre and neighbour. */
function reference(b: number, h: number, w: number, seed: number, geo: Geometry) {
  const { patch: p, gap: g, jitter: j } = geo;
  const prng = pcg32(seed);
  const int = (n: number) => Math.floor(prng() * n);
  const labels: number[] = [];
  const corners: [number, number][][] = [];
  for (let i = 0; i < b; i++) {
    const top = int(h - span(geo) + 1);
    const left = int(w - span(geo) + 1);
    const label = int(8);
    labels.push(label);
    const grid = [0, 1, 2, 3, 5, 6, 7, 8][label];
    const at = (q: number): [number, number] => {
      const dy = int(2 * j + 1) - j;
      const dx = int(2 * j + 1) - j;
      return [top + j + Math.floor(q / 3) * (p + g) + dy, left + j + (q % 3) * (p + g) + dx];
    };
    const centre = at(4);
    corners.push([centre, at(grid)]);
  }
  const cut = (i: number, [y, x]: [number, number]) =>
    Array.from(
      { length: p },
      (_, dy) => Array.from({ length: p }, (_, dx) => [(i * h + y + dy) * w + x + dx]),
    );
  return {
    labels,
    centres: corners.map((c, i) => cut(i, c[0])),
    neighbours: corners.map((c, i) => cut(i, c[1])),
  };
}

Deno.test("patchPairs' geometry: the documented rule for defaults, fractions, patchSize and jitter 0", () => {
  const cases: [number, number, PatchPairsOptions, Geometry][] = [
    [28, 28, {}, { patch: 6, gap: 3, jitter: 1 }],
    [40, 33, {}, { patch: 7, gap: 4, jitter: 1 }],
    [96, 96, {}, { patch: 22, gap: 11, jitter: 2 }],
    // the default start floor(96 / 398 side) is taken, not the largest patch that fits: at 16 px
    // it is 3 (13 px) though 4 (4 + 2 + 4 + 2 + 4 = 16 px) would fit
    [16, 16, {}, { patch: 3, gap: 2, jitter: 0 }],
    // a layout exactly as wide as the image is kept, not shrunk: 3 * 6 + 2 * 3 + 2 * 1 = 26
    [26, 30, {}, { patch: 6, gap: 3, jitter: 1 }],
    [30, 30, { patch: 0.3 }, { patch: 6, gap: 3, jitter: 1 }],
    [30, 30, { patch: 0.25, gap: 0.25 }, { patch: 7, gap: 2, jitter: 0 }],
    [40, 40, { patch: 0.2, jitter: 0.5 }, { patch: 8, gap: 4, jitter: 1 }],
    [40, 40, { patch: 0.2, gap: 1, jitter: 0.3 }, { patch: 7, gap: 7, jitter: 2 }],
    [40, 40, { patch: 0.2, jitter: 0 }, { patch: 8, gap: 4, jitter: 0 }],
    [40, 40, { patchSize: 9 }, { patch: 9, gap: 5, jitter: 1 }],
    [20, 20, { patchSize: 4, gap: 0.5, jitter: 0.01 }, { patch: 4, gap: 2, jitter: 0 }],
    [20, 20, { patch: 0 }, { patch: 1, gap: 1, jitter: 0 }],
    [5, 5, { patch: 1, gap: 0.5 }, { patch: 1, gap: 1, jitter: 0 }],
  ];
  for (const [h, w, options, want] of cases) {
    const side = Math.min(h, w);
    assert.deepEqual(geometryOf(side, options), want, `reference ${JSON.stringify(options)}`);
    const out = patchPairs(tf.zeros([1, h, w, 1]) as tf.Tensor4D, 0, options);
    assert.deepEqual(out.geometry, want, `${h}x${w} ${JSON.stringify(options)}`);
    assert.deepEqual(out.centres.shape, [1, want.patch, want.patch, 1]);
    assert.deepEqual(out.neighbours.shape, [1, want.patch, want.patch, 1]);
    tf.dispose([out.centres, out.neighbours]);
  }
});

Deno.test("patchPairs cuts the reference's patches and labels, pixel-exact, from pcg32(seed)", async () => {
  const cases: [number, number, number, number, PatchPairsOptions][] = [
    [6, 28, 28, 3, {}],
    [5, 30, 41, 8, { patch: 0.2, gap: 1, jitter: 0.3 }],
    [4, 45, 36, 2, { patchSize: 8 }],
    [3, 20, 20, 5, { jitter: 0 }],
    [40, 24, 24, 9, { patchSize: 5, gap: 0.6 }],
  ];
  for (const [b, h, w, seed, options] of cases) {
    const geo = geometryOf(Math.min(h, w), options);
    const want = reference(b, h, w, seed, geo);
    const got = patchPairs(indexImages(b, h, w), seed, options);
    const name = `${b}x${h}x${w} seed ${seed} ${JSON.stringify(options)}`;
    assert.ok(got.labels instanceof Int32Array, name);
    assert.deepEqual(Array.from(got.labels), want.labels, name);
    assert.deepEqual(got.centres.arraySync(), want.centres, name);
    assert.deepEqual(got.neighbours.arraySync(), want.neighbours, name);
    if (b === 40) assert.deepEqual(new Set(want.labels).size, 8);
    tf.dispose([got.centres, got.neighbours]);
  }
  // two channels travel together
  const two = tf.concat([indexImages(2, 28, 28), tf.neg(indexImages(2, 28, 28))], 3);
  const got = patchPairs(two as tf.Tensor4D, 4);
  const one = patchPairs(indexImages(2, 28, 28), 4);
  assert.deepEqual(
    got.centres.arraySync(),
    (one.centres.arraySync() as number[][][][]).map((im) =>
      im.map((row) => row.map(([v]) => [v, -v]))
    ),
  );
  const x = indexImages(2, 28, 28);
  await assertNoLeak(() => {
    const out = patchPairs(x, 1);
    tf.dispose([out.centres, out.neighbours]);
  });
});

Deno.test("patchPairs refuses images that are not [B, H, W, C], bad fractions and layouts, by name", () => {
  const refusal = (images: unknown, options: PatchPairsOptions = {}) => {
    try {
      patchPairs(images as tf.Tensor4D, 0, options);
    } catch (e) {
      return e as Error;
    }
    throw new Error(`no error: ${JSON.stringify(options)}`);
  };
  const img = tf.zeros([1, 28, 28, 1]);
  const cases: [unknown, PatchPairsOptions, ErrorConstructor, string][] = [
    [tf.zeros([2, 3]), {}, TypeError, "expected images [B, H, W, C], received [2,3]"],
    [[1, 2], {}, TypeError, "expected images [B, H, W, C], received 1,2"],
    [img, { patch: -0.1 }, RangeError, "patch must be >= 0, received -0.1"],
    [img, { gap: NaN }, RangeError, "gap must be >= 0, received NaN"],
    [img, { jitter: Infinity }, RangeError, "jitter must be >= 0, received Infinity"],
    [img, { patch: "0.2" as unknown as number }, RangeError, "patch must be >= 0, received 0.2"],
    [
      img,
      { patchSize: 8 },
      RangeError,
      "expected 3 patches, 2 gaps and 2 jitters within 28 px, received patch 8, gap 4, jitter 1 (34 px)",
    ],
    [
      img,
      { patchSize: 0 },
      RangeError,
      "expected 3 patches, 2 gaps and 2 jitters within 28 px, received patch 0, gap 0, jitter 0 (0 px)",
    ],
    [
      img,
      { patchSize: 2.5, jitter: 0 },
      RangeError,
      "expected 3 patches, 2 gaps and 2 jitters within 28 px, received patch 2.5, gap 1, jitter 0 (9.5 px)",
    ],
    [
      img,
      { gap: 0 },
      RangeError,
      "expected a gap wider than twice the jitter (patches must not touch), received gap 0, jitter 0",
    ],
    [
      tf.zeros([1, 4, 9, 1]),
      {},
      RangeError,
      "expected 3 patches, 2 gaps and 2 jitters within 4 px, received patch 1, gap 1, jitter 0 (5 px)",
    ],
  ];
  for (const [images, options, kind, text] of cases) {
    const e = refusal(images, options);
    assert.ok(e instanceof kind, `${JSON.stringify(options)}: ${e}`);
    assert.equal(e.message, `Cannot sample patch pairs: ${text}`);
  }
  // the layout that just fits (span = side) is accepted: 3*6 + 2*3 + 2*1 = 26
  const fits = patchPairs(tf.zeros([1, 26, 30, 1]) as tf.Tensor4D, 0, { patchSize: 6 });
  assert.deepEqual(fits.geometry, { patch: 6, gap: 3, jitter: 1 });
  tf.dispose([fits.centres, fits.neighbours]);
});
