import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import { withSeed } from "../../../backend/with_seed.ts";
import { zhangAbBins } from "../../../methods/pretext/_ab_bins_313.ts";
import {
  abGamutBins,
  annealedMean,
  rebalanceWeights,
  softEncodeAb,
} from "../../../methods/pretext/ab_bins.ts";
import { colorization } from "../../../methods/colorization.ts";
import { assertNoLeak, assertTensorClose, pcg32, setupBackend } from "../../_utils.ts";

await setupBackend();

// Zhang et al.'s published pts_in_hull set (313 ab points, grid 10), as the project's shared data
// gives it, copied into the repository so that every checkout (and CI) compares against it
const PUBLISHED = new URL("../../fixtures/colorization_ab_bins_313.json", import.meta.url);
const shared: { grid: number; points: number[][] } = JSON.parse(
  Deno.readTextFileSync(PUBLISHED),
);

const bins = zhangAbBins();
const cs: number[][] = Array.from(
  { length: bins.length / 2 },
  (_, i) => [bins[2 * i], bins[2 * i + 1]],
);

Deno.test("zhangAbBins: 313 grid-10 bins, a then b ascending, contiguous b per a", () => {
  assert.equal(cs.length, 313);
  assert.ok(cs.every(([a, b]) => a % 10 === 0 && b % 10 === 0));
  for (let i = 1; i < cs.length; i++) {
    const [[a0, b0], [a1, b1]] = [cs[i - 1], cs[i]];
    assert.ok(a1 > a0 || (a1 === a0 && b1 === b0 + 10), `row ${i}: ${cs[i - 1]} then ${cs[i]}`);
  }
  assert.deepEqual([Math.min(...cs.map((p) => p[0])), Math.max(...cs.map((p) => p[0]))], [
    -90,
    100,
  ]);
  assert.deepEqual([Math.min(...cs.map((p) => p[1])), Math.max(...cs.map((p) => p[1]))], [
    -110,
    100,
  ]);
  assert.deepEqual(cs[0], [-90, 50]);
  // a fresh copy each call
  bins[0] = 999;
  assert.equal(zhangAbBins()[0], -90);
  bins[0] = -90;
});

Deno.test("zhangAbBins equals the published colorization_ab_bins_313.json, in order", () => {
  assert.equal(shared.grid, 10);
  assert.equal(shared.points.length, 313);
  assert.deepEqual(cs, shared.points);
});

/** Float64 references of Zhang et al.'s Eq. 2-5 on the 313 bins. */
function softEncodeRef(a: number, b: number, k = 5, sigma = 5): Float64Array {
  const d2 = cs.map(([x, y], i) => [(x - a) ** 2 + (y - b) ** 2, i]).sort((u, v) => u[0] - v[0]);
  const out = new Float64Array(cs.length);
  const near = d2.slice(0, k);
  const total = near.reduce((s, [d]) => s + Math.exp(-d / (2 * sigma * sigma)), 0);
  for (const [d, i] of near) out[i] = Math.exp(-d / (2 * sigma * sigma)) / total;
  return out;
}

Deno.test("softEncodeAb on the 313 bins matches a float64 reference (5 nearest, sigma 5)", async () => {
  const rnd = pcg32(11);
  const pts = Array.from({ length: 40 }, () => [rnd() * 180 - 85, rnd() * 190 - 105]);
  const centers = tf.tensor2d(bins, [313, 2]);
  const ab = tf.tensor2d(pts);
  const z = softEncodeAb(ab, centers);
  const ref = pts.flatMap(([a, b]) => Array.from(softEncodeRef(a, b)));
  assertTensorClose(z, ref, { atol: 2e-5, rtol: 0 });
  // sigma is honoured: a wider kernel is a different target
  const wide = pts.flatMap(([a, b]) => Array.from(softEncodeRef(a, b, 5, 10)));
  assertTensorClose(softEncodeAb(ab, centers, { sigma: 10 }), wide, { atol: 2e-5, rtol: 0 });
  await assertNoLeak(() => tf.dispose(softEncodeAb(ab, centers)));
  tf.dispose([centers, ab, z]);
});

Deno.test("rebalanceWeights on the 313 bins matches a float64 reference (lambda 0.5, sigma 5)", () => {
  const rnd = pcg32(12);
  const counts = cs.map(() => (rnd() < 0.3 ? 0 : rnd() ** 4 * 1000));
  const total = counts.reduce((s, v) => s + v, 0);
  const p = counts.map((v) => v / total);
  const smooth = cs.map(([x, y]) =>
    cs.reduce((s, [u, v], j) => s + Math.exp(-((x - u) ** 2 + (y - v) ** 2) / 50) * p[j], 0)
  );
  const st = smooth.reduce((s, v) => s + v, 0);
  const ps = smooth.map((v) => v / st);
  const ref = (lambda: number) => {
    const w = ps.map((v) => 1 / ((1 - lambda) * v + lambda / 313));
    const norm = ps.reduce((s, v, i) => s + v * w[i], 0);
    return w.map((v) => v / norm);
  };
  const centers = tf.tensor2d(bins, [313, 2]);
  const got = rebalanceWeights(tf.tensor1d(counts), centers);
  assertTensorClose(got, ref(0.5), { atol: 0, rtol: 2e-4 });
  // the expected weight under the smoothed prior is 1 (Zhang's normalization)
  assert.ok(Math.abs(ps.reduce((s, v, i) => s + v * got.dataSync()[i], 0) - 1) < 1e-4);
  // lambda is the uniform share (0.5 is symmetric: check another value too)
  const low = rebalanceWeights(tf.tensor1d(counts), centers, { lambda: 0.2 });
  assertTensorClose(low, ref(0.2), { atol: 0, rtol: 2e-4 });
  low.dispose();
  tf.dispose([centers, got]);
});

Deno.test("annealedMean on the 313 bins matches a float64 reference (T 0.38)", () => {
  const rnd = pcg32(13);
  const rows = Array.from({ length: 6 }, () => cs.map(() => rnd() * 8 - 4));
  const ref = rows.flatMap((l) => {
    const m = Math.max(...l);
    const e = l.map((v) => Math.exp((v - m) / 0.38));
    const s = e.reduce((u, v) => u + v, 0);
    return [0, 1].map((c) => e.reduce((u, v, i) => u + (v / s) * cs[i][c], 0));
  });
  const centers = tf.tensor2d(bins, [313, 2]);
  const got = annealedMean(tf.tensor2d(rows), centers);
  assertTensorClose(got, ref, { atol: 1e-3, rtol: 0 });
  // T = 1 is the plain mean: a different answer on these logits
  const mean = annealedMean(tf.tensor2d(rows), centers, { temperature: 1 });
  assert.ok(tf.max(tf.abs(tf.sub(mean, got))).dataSync()[0] > 1);
  tf.dispose([centers, got, mean]);
});

const base = {
  encoder: "convnet" as const,
  inputShape: [16, 16, 3] as [number, number, number],
  seed: 0,
  widths: [8, 8],
};

Deno.test("colorization: 313 bins and a per-pixel convolutional head by default; options switch them", async () => {
  const setup = withSeed(1, () => colorization(base));
  assert.equal(setup.method.bins.length / 2, 313);
  assert.deepEqual(Array.from(setup.method.bins), Array.from(bins));
  // the head sees the encoder's 4x4 map (16 / 2^2), not the pooled vector
  assert.deepEqual(setup.nets.decoder.inputs[0].shape, [null, 4, 4, 8]);
  assert.deepEqual(setup.nets.decoder.outputs[0].shape, [null, 4, 4, 313]);
  const x = tf.randomUniform([2, 16, 16, 3], 0, 1, "float32", 3) as tf.Tensor4D;
  const views = setup.method.views(x, 0);
  assert.deepEqual(views[1].shape, [2, 4, 4, 2]);
  const r = setup.method.step(setup.nets, views, setup.state, { progress: 0, step: 0, epoch: 0 });
  assert.ok(Number.isFinite(r.loss.dataSync()[0]));
  assert.deepEqual(r.state.prior!.shape, [313]); // running estimate without priorImages
  const gamut = withSeed(1, () => colorization({ ...base, bins: "gamut261", head: "pooled" }));
  assert.equal(gamut.method.bins.length / 2, 261);
  assert.deepEqual(Array.from(gamut.method.bins), Array.from(abGamutBins()));
  assert.deepEqual(gamut.nets.decoder.inputs[0].shape, [null, 8]);
  assert.throws(() => colorization({ ...base, bins: "x" as "zhang313" }), RangeError);
  assert.throws(() => colorization({ ...base, head: "x" as "pooled" }), RangeError);
  await assertNoLeak(() => {
    const s = setup.method.step(setup.nets, views, setup.state, { progress: 0, step: 0, epoch: 0 });
    tf.dispose([s.loss, ...Object.values(s.metrics), s.state.prior!]);
  });
  tf.dispose([x, ...views, r.loss, ...Object.values(r.metrics), r.state.prior!]);
});

Deno.test("colorization: priorImages fix the rebalancing prior before training (the paper's)", () => {
  const x = tf.randomUniform([4, 16, 16, 3], 0, 1, "float32", 5) as tf.Tensor4D;
  const other = tf.tidy(() => tf.mul(tf.ones([3, 16, 16, 3]), tf.tensor1d([0.9, 0.2, 0.1])));
  const ctx = { progress: 0, step: 0, epoch: 0 };
  const lossOf = (priorImages?: tf.Tensor4D, state = {}) => {
    const s = withSeed(2, () => colorization({ ...base, priorImages }));
    const views = s.method.views(x, 0);
    const r = s.method.step(s.nets, views, state, ctx);
    const value = r.loss.dataSync()[0];
    const prior = r.state.prior;
    tf.dispose([...views, r.loss, ...Object.values(r.metrics)]);
    s.nets.encoder.dispose();
    s.nets.decoder.dispose();
    return { value, prior };
  };
  // the running estimate's first step uses this batch's histogram: a prior fixed over the same
  // images gives the same loss, exactly; a prior over other images a different one
  const running = lossOf();
  const fixed = lossOf(x);
  const fixedOther = lossOf(other as tf.Tensor4D);
  assert.ok(running.prior !== undefined && fixed.prior === undefined);
  assert.ok(
    Math.abs(running.value - fixed.value) < 1e-5 * running.value,
    `${running.value} vs ${fixed.value}`,
  );
  assert.ok(Math.abs(running.value - fixedOther.value) > 1e-3 * running.value);
  // a fixed prior ignores the state's histogram; the running one does not
  const junk = tf.tidy(() => tf.mul(tf.oneHot(tf.scalar(0, "int32"), 313), 1e6)) as tf.Tensor1D;
  assert.ok(Math.abs(lossOf(x, { prior: junk }).value - fixed.value) < 1e-5 * fixed.value);
  const r2 = lossOf(undefined, { prior: junk });
  assert.ok(Math.abs(r2.value - running.value) > 1e-3 * running.value);
  tf.dispose([x, other, junk, running.prior!, r2.prior!]);
  assert.throws(
    () => colorization({ ...base, priorImages: tf.zeros([2, 2]) as unknown as tf.Tensor4D }),
    TypeError,
  );
});
