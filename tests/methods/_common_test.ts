/**
 * Issue 17: methods/_common.ts on its own (every method builds on it; no test named it before):
 * the encoder builder's checks and shapes, the head style, the view builders against the
 * augmentations they stand for, embed's frame pooling, the monitors against float64, the L2
 * penalties, the option checks' exact refusals and `tidyStep`'s clean-up.
 */
import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import {
  buildEncoder,
  checkCount,
  checkRange,
  checkViews,
  diagonalTop1,
  embed,
  embedBoth,
  headStyle,
  l2Normalize,
  paperViewBuilder,
  regularization,
  tidyStep,
  twoViewBuilder,
  variablesOf,
  zStd,
} from "../../methods/_common.ts";
import { paperAugment, simclrAugment, textAugment, twoViews } from "../../augment/mod.ts";
import { featureFlat } from "../../losses/mod.ts";
import { mlpHead } from "../../models/mod.ts";
import { pcg32 } from "../../data/prng.ts";
import type { BaseMethodOptions } from "../../methods/types.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

const opts = (o: Record<string, unknown>) => o as unknown as BaseMethodOptions;

function message(fn: () => unknown): { error: Error; text: string } {
  try {
    fn();
  } catch (e) {
    return { error: e as Error, text: (e as Error).message };
  }
  throw new Error("no error");
}

function dispose(model: tfl.LayersModel): void {
  tf.dispose(model.weights.map((w) => w.read()));
}

Deno.test("buildEncoder refuses an inputShape that is not three positive integers", () => {
  for (const inputShape of ["8,8,1", [8, 8], [8, 8, 1, 1], [8, 0, 1], [8, 8, -1], [8, 1.5, 1]]) {
    const { error, text } = message(() =>
      buildEncoder(opts({ encoder: "convnet", inputShape, widths: [4] }))
    );
    assert.ok(error instanceof TypeError, JSON.stringify(inputShape));
    assert.equal(
      text,
      `Cannot build method: inputShape must be [height, width, channels], received ${
        JSON.stringify(inputShape)
      }`,
    );
  }
});

Deno.test("buildEncoder builds each named encoder, fixed or any size, and passes a model through", () => {
  const conv = buildEncoder(opts({ encoder: "convnet", inputShape: [8, 8, 1], widths: [4, 6] }));
  assert.equal(conv.dim, 6);
  assert.equal(conv.sequence, false);
  assert.deepEqual(conv.encoder.inputs[0].shape, [null, 8, 8, 1]);
  const convAny = buildEncoder(
    opts({ encoder: "convnet", inputShape: [8, 8, 1], widths: [4, 6] }),
    true,
  );
  assert.deepEqual(convAny.encoder.inputs[0].shape, [null, null, null, 1]);
  const res = buildEncoder(
    opts({ encoder: "resnet18", inputShape: [8, 8, 3], widths: [2, 2, 2, 4] }),
  );
  assert.equal(res.dim, 4);
  assert.equal(res.sequence, false);
  assert.deepEqual(res.encoder.inputs[0].shape, [null, 8, 8, 3]);
  assert.ok(res.encoder.layers.length > conv.encoder.layers.length, "a resnet, not a convnet");
  const resAny = buildEncoder(
    opts({ encoder: "resnet18", inputShape: [8, 8, 3], widths: [2, 2, 2, 4] }),
    true,
  );
  assert.deepEqual(resAny.encoder.inputs[0].shape, [null, null, null, 3]);
  const seq = buildEncoder(
    opts({ encoder: "sequence", inputShape: [16, 32, 1], widths: [4, 8, 8] }),
    true,
  );
  assert.equal(seq.sequence, true);
  assert.equal(seq.dim, 8);
  assert.deepEqual(seq.encoder.inputs[0].shape, [null, 16, 32, 1], "a sequence stays fixed-size");
  const mine = conv.encoder;
  const passed = buildEncoder(opts({ encoder: mine, inputShape: [8, 8, 1] }));
  assert.equal(passed.encoder, mine);
  assert.equal(passed.dim, 6);
  for (const m of [convAny, res, resAny, seq]) dispose(m.encoder);
  dispose(mine);
});

Deno.test("buildEncoder refuses an unknown encoder, a wrong output rank and an unknown size", () => {
  const unknown = message(() => buildEncoder(opts({ encoder: "vgg", inputShape: [8, 8, 1] })));
  assert.ok(unknown.error instanceof TypeError);
  assert.equal(
    unknown.text,
    'Cannot build method: encoder must be "resnet18", "convnet", "sequence" or a tf.LayersModel, received vgg',
  );
  const input = tfl.input({ shape: [8, 8, 1] });
  const rank4 = tfl.model({
    inputs: input,
    outputs: tfl.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(input) as tfl.SymbolicTensor,
  });
  const rank = message(() => buildEncoder(opts({ encoder: rank4, inputShape: [8, 8, 1] })));
  assert.ok(rank.error instanceof TypeError);
  assert.equal(
    rank.text,
    "Cannot build method: the encoder must output [B, D] or [B, L, D], received [,8,8,2]",
  );
  const free = tfl.input({ shape: [null] });
  const noDim = tfl.model({ inputs: free, outputs: free });
  const size = message(() => buildEncoder(opts({ encoder: noDim, inputShape: [8, 8, 1] })));
  assert.ok(size.error instanceof TypeError);
  assert.equal(size.text, "Cannot build method: the encoder's feature size is unknown");
  const free3 = tfl.input({ shape: [5, 3] });
  const seq = buildEncoder(
    opts({ encoder: tfl.model({ inputs: free3, outputs: free3 }), inputShape: [8, 8, 1] }),
  );
  assert.equal(seq.sequence, true);
  assert.equal(seq.dim, 3);
  dispose(rank4);
});

Deno.test("headStyle: paper for images, source for sequences, as given, else refused", () => {
  assert.equal(headStyle(opts({}), false), "paper");
  assert.equal(headStyle(opts({}), true), "source");
  assert.equal(headStyle(opts({ heads: "source" }), false), "source");
  assert.equal(headStyle(opts({ heads: "paper" }), true), "paper");
  const bad = message(() => headStyle(opts({ heads: "keras" }), false));
  assert.ok(bad.error instanceof TypeError);
  assert.equal(bad.text, 'Cannot build method: heads must be "paper" or "source", received keras');
});

function same(a: tf.Tensor[], b: tf.Tensor[], what: string): void {
  assert.equal(a.length, b.length, what);
  a.forEach((t, i) =>
    assert.deepEqual(Array.from(t.dataSync()), Array.from(b[i].dataSync()), `${what} ${i}`)
  );
  tf.dispose([...a, ...b]);
}

Deno.test("twoViewBuilder and paperViewBuilder give the augmentations they stand for", () => {
  const images = tf.randomUniform([2, 16, 16, 3], 0, 1, "float32", 3) as tf.Tensor4D;
  const seed = 17;
  same(
    twoViewBuilder(undefined, false)(images, seed),
    twoViews(images, simclrAugment(), seed),
    "simclr default",
  );
  const text = tf.randomUniform([2, 16, 32, 1], 0, 1, "float32", 4) as tf.Tensor4D;
  same(
    twoViewBuilder(undefined, true)(text, seed),
    twoViews(text, textAugment(), seed),
    "text default",
  );
  const mine = (x: tf.Tensor4D, s: number) => tf.add(x, s) as tf.Tensor4D;
  same(twoViewBuilder(mine, false)(images, seed), twoViews(images, mine, seed), "the user's");
  same(
    paperViewBuilder("byol", mine, false)(images, seed),
    twoViews(images, mine, seed),
    "the user's over byol",
  );
  same(
    paperViewBuilder("moco-v2", undefined, true)(text, seed),
    twoViews(text, textAugment(), seed),
    "text over moco",
  );
  same(
    paperViewBuilder("moco-v1", undefined, false)(images, seed),
    twoViews(images, paperAugment("moco-v1"), seed),
    "moco-v1",
  );
  same(
    paperViewBuilder("moco-v2", undefined, false)(images, seed),
    twoViews(images, paperAugment("moco-v2"), seed),
    "moco-v2",
  );
  const prng = pcg32(seed);
  const s1 = Math.floor(prng() * 2 ** 31), s2 = Math.floor(prng() * 2 ** 31);
  same(
    paperViewBuilder("byol", undefined, false)(images, seed),
    [paperAugment("byol-1")(images, s1), paperAugment("byol-2")(images, s2)],
    "byol's asymmetric pair",
  );
  tf.dispose([images, text]);
});

Deno.test("embed and embedBoth: heads per frame, then feature_flat's pooling for sequences", () => {
  const input = tfl.input({ shape: [7, 3] });
  const frames = tfl.model({ inputs: input, outputs: input });
  const proj = mlpHead(3, [{ units: 2 }]);
  const pred = mlpHead(2, [{ units: 2 }]);
  const x = tf.randomNormal([2, 7, 3], 0, 1, "float32", 5) as unknown as tf.Tensor4D;
  const z = embed(frames, [proj], x);
  const zFrames = tf.reshape(proj.apply(tf.reshape(x, [14, 3])) as tf.Tensor2D, [
    2,
    7,
    2,
  ]) as tf.Tensor3D;
  const zExpect = featureFlat(zFrames);
  assert.deepEqual(z.shape, [4, 2]);
  assert.deepEqual(Array.from(z.dataSync()), Array.from(zExpect.dataSync()));
  const pFrames = tf.reshape(pred.apply(tf.reshape(zFrames, [14, 2])) as tf.Tensor2D, [
    2,
    7,
    2,
  ]) as tf.Tensor3D;
  const [z2, p2] = embedBoth(frames, proj, pred, x);
  assert.deepEqual(Array.from(z2.dataSync()), Array.from(zExpect.dataSync()));
  assert.deepEqual(p2.shape, [4, 2]);
  assert.deepEqual(Array.from(p2.dataSync()), Array.from(featureFlat(pFrames).dataSync()));
  // images: no pooling, and both heads in order
  const flatIn = tfl.input({ shape: [3] });
  const flat = tfl.model({ inputs: flatIn, outputs: flatIn });
  const v = tf.randomNormal([4, 3], 0, 1, "float32", 6) as unknown as tf.Tensor4D;
  const y = embed(flat, [proj, pred], v);
  const yExpect = pred.apply(proj.apply(v)) as tf.Tensor2D;
  assert.deepEqual(Array.from(y.dataSync()), Array.from(yExpect.dataSync()));
  const [zi, pi] = embedBoth(flat, proj, pred, v);
  assert.deepEqual(Array.from(zi.dataSync()), Array.from((proj.apply(v) as tf.Tensor).dataSync()));
  assert.deepEqual(Array.from(pi.dataSync()), Array.from(yExpect.dataSync()));
  tf.dispose([x, z, zFrames, zExpect, pFrames, z2, p2, v, y, yExpect, zi, pi]);
  dispose(proj);
  dispose(pred);
});

function close(actual: number, expected: number, what: string, tol = 1e-5): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);
}

Deno.test("l2Normalize, zStd and diagonalTop1 against float64", () => {
  const rows = [[3, 4, 0], [0, 0, 0], [1, -2, 2], [-1, 0, 0]];
  const x = tf.tensor2d(rows);
  const n = l2Normalize(x).arraySync();
  const unit = rows.map((r) => {
    const s = Math.hypot(...r);
    return s === 0 ? r : r.map((v) => v / s);
  });
  n.forEach((r, i) => r.forEach((v, j) => close(v, unit[i][j], `row ${i} col ${j}`)));
  // a zero row stays zero with a finite gradient (the clamp); the gradient of a unit row's sum
  const g = tf.grad((t: tf.Tensor) => tf.sum(l2Normalize(t as tf.Tensor2D)))(x)
    .arraySync() as number[][];
  assert.ok(g.flat().every(Number.isFinite), JSON.stringify(g));
  const d = 3;
  let std = 0;
  for (let j = 0; j < d; j++) {
    const col = unit.map((r) => r[j]);
    const m = col.reduce((a, b) => a + b, 0) / col.length;
    std += Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / col.length);
  }
  close(zStd(x).dataSync()[0], std / d, "zStd");
  const logits = tf.tensor2d([[5, 1, 0], [2, 1, 0], [0, 0, 9], [0, 1, 3]]);
  // rows 0 and 2 peak on the diagonal; row 1 peaks at column 0, row 3 at column 2
  close(diagonalTop1(tf.slice(logits, [0, 0], [3, 3])).dataSync()[0], 2 / 3, "top1 3x3");
  close(diagonalTop1(logits).dataSync()[0], 2 / 4, "top1 4x3");
  close(diagonalTop1(tf.eye(5) as tf.Tensor2D).dataSync()[0], 1, "top1 eye");
  tf.dispose([x, logits]);
});

Deno.test("regularization sums the kernels' L2 penalties of every model; variablesOf lists their weights", () => {
  const a = mlpHead(3, [{ units: 2, l2: 0.1 }, { units: 2 }]);
  const b = mlpHead(2, [{ units: 3, l2: 0.5 }]);
  const sq = (m: tfl.LayersModel, i: number) => {
    const k = m.layers.filter((l) =>
      (l as unknown as { kernel?: unknown }).kernel
    )[i] as unknown as {
      kernel: { read(): tf.Tensor };
    };
    return tf.sum(tf.square(k.kernel.read())).dataSync()[0];
  };
  const expected = 0.1 * sq(a, 0) + 0.5 * sq(b, 0);
  close(regularization([a, b]).dataSync()[0], expected, "two models");
  close(regularization([a]).dataSync()[0], 0.1 * sq(a, 0), "one");
  close(regularization([]).dataSync()[0], 0, "none");
  const vars = variablesOf([a, b]);
  assert.deepEqual(
    vars.map((v) => v.id),
    [...a.trainableWeights, ...b.trainableWeights].map((w) => w.read().id),
  );
  assert.ok(vars.every((v) => v instanceof tf.Variable));
  dispose(a);
  dispose(b);
});

Deno.test("checkRange: closed or open at lo, closed at hi, numbers only, exact refusals", () => {
  checkRange("m", "x", 0, 0, 1);
  checkRange("m", "x", 1, 0, 1);
  checkRange("m", "x", 1, 0, 1, true);
  checkRange("m", "x", 0.5, 0, 1, true);
  const cases: [unknown, boolean, string][] = [
    [0, true, "Cannot build m: x must be in (0, 1], received 0"],
    [-0.1, false, "Cannot build m: x must be in [0, 1], received -0.1"],
    [1.1, false, "Cannot build m: x must be in [0, 1], received 1.1"],
    [NaN, false, "Cannot build m: x must be in [0, 1], received NaN"],
    [NaN, true, "Cannot build m: x must be in (0, 1], received NaN"],
    ["0.5", false, "Cannot build m: x must be in [0, 1], received 0.5"],
  ];
  for (const [x, open, text] of cases) {
    const e = message(() => checkRange("m", "x", x as number, 0, 1, open));
    assert.ok(e.error instanceof RangeError, text);
    assert.equal(e.text, text);
  }
});

Deno.test("checkCount: positive integers, or zero too when allowed, exact refusals", () => {
  checkCount("m", "n", 1);
  checkCount("m", "n", 0, true);
  const cases: [number, boolean, string][] = [
    [0, false, "Cannot build m: n must be a positive integer, received 0"],
    [-1, true, "Cannot build m: n must be a non-negative integer, received -1"],
    [1.5, false, "Cannot build m: n must be a positive integer, received 1.5"],
    [1.5, true, "Cannot build m: n must be a non-negative integer, received 1.5"],
  ];
  for (const [x, zero, text] of cases) {
    const e = message(() => checkCount("m", "n", x, zero));
    assert.ok(e.error instanceof RangeError, text);
    assert.equal(e.text, text);
  }
});

Deno.test("checkCount refuses 0 when allowZero is not given", () => {
  const e = message(() => checkCount("m", "n", 0));
  assert.ok(e.error instanceof RangeError);
  assert.equal(e.text, "Cannot build m: n must be a positive integer, received 0");
});

Deno.test("embed and embedBoth run the encoder in training mode (batch statistics)", () => {
  const input = tfl.input({ shape: [3] });
  const bn = tfl.model({
    inputs: input,
    outputs: tfl.layers.batchNormalization().apply(input) as tfl.SymbolicTensor,
  });
  const proj = mlpHead(3, [{ units: 2 }]);
  const pred = mlpHead(2, [{ units: 2 }]);
  const v = tf.tensor2d([[1, 2, 3], [5, 0, -1], [2, 2, 9]]) as unknown as tf.Tensor4D;
  const train = bn.apply(v, { training: true }) as tf.Tensor2D;
  const infer = bn.apply(v, { training: false }) as tf.Tensor2D;
  const expect = proj.apply(train) as tf.Tensor2D;
  const frozen = proj.apply(infer) as tf.Tensor2D;
  const y = embed(bn, [proj], v);
  assert.deepEqual(Array.from(y.dataSync()), Array.from(expect.dataSync()));
  assert.notDeepEqual(Array.from(y.dataSync()), Array.from(frozen.dataSync()));
  const [z] = embedBoth(bn, proj, pred, v);
  assert.deepEqual(Array.from(z.dataSync()), Array.from(expect.dataSync()));
  tf.dispose([v, train, infer, expect, frozen, y, z]);
  dispose(bn);
  dispose(proj);
  dispose(pred);
});

Deno.test("checkViews: the count, then every view's shape against the first, exact refusals", () => {
  const a = tf.zeros([2, 4, 4, 1]), b = tf.zeros([2, 4, 4, 1]), c = tf.zeros([2, 3, 4, 1]);
  checkViews("simclr", [a, b], 2);
  checkViews("swav", [a, b, a], 3);
  const count = message(() => checkViews("simclr", [a], 2));
  assert.ok(count.error instanceof TypeError);
  assert.equal(count.text, "Cannot run a simclr step: expected 2 views, received 1");
  const late = message(() => checkViews("swav", [a, b, c], 3));
  assert.ok(late.error instanceof TypeError);
  assert.equal(
    late.text,
    "Cannot run a swav step: every view must have the same shape, received [2,4,4,1] and [2,3,4,1]",
  );
  tf.dispose([a, b, c]);
});

Deno.test("tidyStep keeps the loss, metrics and state, and disposes the rest", () => {
  const before = tf.memory().numTensors;
  const r = tidyStep(() => {
    const t = tf.ones([3]);
    const scratch = tf.mul(t, 2);
    return {
      loss: tf.sum(scratch) as tf.Scalar,
      metrics: { m: tf.mean(t) as tf.Scalar },
      state: { q: tf.add(t, 1) },
    };
  });
  assert.equal(r.loss.dataSync()[0], 6);
  assert.equal(r.metrics.m.dataSync()[0], 1);
  assert.deepEqual(Array.from(r.state.q.dataSync()), [2, 2, 2]);
  assert.equal(tf.memory().numTensors, before + 3);
  tf.dispose([r.loss, r.metrics.m, r.state.q]);
});
