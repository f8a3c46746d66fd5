import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import { patchPairs } from "../../../methods/pretext/patch_pairs.ts";
import { NEIGHBOR_POSITIONS, relativePatch } from "../../../methods/relative_patch.ts";
import { assertNoLeak, setupBackend } from "../../_utils.ts";

await setupBackend();

/** Images whose pixel values are their own (y, x): every patch tells where it was cut. */
function coordinates(b: number, h: number, w: number): tf.Tensor4D {
  const v = new Float32Array(b * h * w * 2);
  for (let i = 0; i < b; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) v.set([y, x], ((i * h + y) * w + x) * 2);
    }
  }
  return tf.tensor4d(v, [b, h, w, 2]);
}

/** The top-left (y, x) of a patch cut from coordinates(), after checking it is a contiguous square. */
function cornerOf(patch: number[][][]): [number, number] {
  const [y0, x0] = patch[0][0];
  patch.forEach((row, dy) =>
    row.forEach(([y, x], dx) => assert.deepEqual([y, x], [y0 + dy, x0 + dx]))
  );
  return [y0, x0];
}

Deno.test("patchPairs: Doersch's geometry scaled to the input; no two sampled patches touch; labels are the neighbour's direction", async () => {
  // the paper's 96 px patches, 48 px gaps and 7 px jitter, scaled to the input
  for (
    const [side, want] of [[28, [6, 3, 1]], [32, [7, 4, 1]], [96, [22, 11, 2]], [398, [
      96,
      48,
      7,
    ]]] as const
  ) {
    const { geometry, centres, neighbours } = patchPairs(
      tf.zeros([1, side, side, 1]) as tf.Tensor4D,
      0,
    );
    assert.deepEqual([geometry.patch, geometry.gap, geometry.jitter], want, `${side} px`);
    tf.dispose([centres, neighbours]);
  }
  const seen = new Set<number>();
  for (const [h, w] of [[28, 28], [32, 40], [64, 64]]) {
    const x = coordinates(40, h, w);
    const { centres, neighbours, labels, geometry } = patchPairs(x, h + w);
    const { patch: p, gap: g, jitter: j } = geometry;
    const c = centres.arraySync() as number[][][][];
    const n = neighbours.arraySync() as number[][][][];
    for (let i = 0; i < 40; i++) {
      const [cy, cx] = cornerOf(c[i]);
      const [ny, nx] = cornerOf(n[i]);
      assert.ok(cy >= 0 && cx >= 0 && ny + p <= h && nx + p <= w);
      // pixels strictly between the two patches on the axis they are apart: never touching
      const apartY = Math.max(ny - (cy + p), cy - (ny + p));
      const apartX = Math.max(nx - (cx + p), cx - (nx + p));
      assert.ok(
        Math.max(apartY, apartX) >= 1,
        `touching: centre ${[cy, cx]}, neighbour ${[ny, nx]}`,
      );
      assert.ok(Math.max(apartY, apartX) >= g - 2 * j);
      // the neighbour sits in the labelled direction, one patch + gap away, within the jitter
      const q = NEIGHBOR_POSITIONS[labels[i]];
      const [dr, dc] = [Math.floor(q / 3) - 1, (q % 3) - 1];
      assert.ok(Math.abs(ny - cy - dr * (p + g)) <= 2 * j, `label ${labels[i]}: dy ${ny - cy}`);
      assert.ok(Math.abs(nx - cx - dc * (p + g)) <= 2 * j, `label ${labels[i]}: dx ${nx - cx}`);
      seen.add(labels[i]);
    }
    tf.dispose([x, centres, neighbours]);
  }
  assert.equal(seen.size, 8);
  const x = coordinates(2, 28, 28);
  assert.throws(() => patchPairs(x, 0, { patchSize: 8 }), RangeError); // 24 + 8 + 2 > 28
  assert.throws(() => patchPairs(x, 0, { gap: 0 }), RangeError); // touching
  // a small image: jitter clamped below half the gap (16 px: patch 3, gap 2, no jitter)
  const small = patchPairs(tf.zeros([1, 16, 16, 1]) as tf.Tensor4D, 0);
  assert.deepEqual(small.geometry, { patch: 3, gap: 2, jitter: 0 });
  tf.dispose([small.centres, small.neighbours]);
  assert.throws(() => patchPairs(tf.zeros([2, 2]) as unknown as tf.Tensor4D, 0), TypeError);
  await assertNoLeak(() => {
    const r = patchPairs(x, 1);
    tf.dispose([r.centres, r.neighbours]);
  });
  x.dispose();
});

Deno.test("relative-patch views: the pair of patchPairs, colours dropped by default on RGB only", () => {
  const opts = { encoder: "convnet" as const, seed: 1, widths: [2], hiddenDim: 4 };
  const gray = relativePatch({ ...opts, inputShape: [28, 28, 1] });
  const x = tf.randomUniform([5, 28, 28, 1], 0, 1, "float32", 5) as tf.Tensor4D;
  const [c, n, l] = gray.method.views(x, 9);
  const ref = patchPairs(x, 9);
  assert.deepEqual(c.arraySync(), ref.centres.arraySync());
  assert.deepEqual(n.arraySync(), ref.neighbours.arraySync());
  assert.deepEqual(Array.from(l.dataSync()), Array.from(ref.labels));
  // RGB: two of three channels of each patch replaced by faint noise
  const rgb = relativePatch({ ...opts, inputShape: [28, 28, 3] });
  const xc = tf.randomUniform([5, 28, 28, 3], 0.2, 1, "float32", 6) as tf.Tensor4D;
  const [rc] = rgb.method.views(xc, 9);
  const kept = tf.sum(tf.cast(tf.greater(tf.mean(tf.abs(rc), [1, 2]), 0.1), "int32"), 1);
  assert.deepEqual(Array.from(kept.dataSync()), [1, 1, 1, 1, 1]);
  const [raw] = relativePatch({ ...opts, inputShape: [28, 28, 3], colorDropping: false }).method
    .views(xc, 9);
  assert.ok(tf.min(raw).dataSync()[0] >= 0.2);
  assert.throws(() => relativePatch({ ...opts, inputShape: [12, 12, 1], tileSize: 3 }), RangeError);
  tf.dispose([x, c, n, l, ref.centres, ref.neighbours, xc, rc, kept, raw]);
});
