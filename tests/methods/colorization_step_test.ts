/**
 * Issue 17: methods/colorization.ts against float64 references, small and fast: `orientationTint`
 * (second moments, hue `atan2(2 mu11, mu20 - mu02)`, Lab `20 + 60x`, chroma `60x`, clipped
 * sRGB); the views (L / 100, ab average-pooled by `outputStride`, gray inputs tinted first); the
 * heads' layers (3x3 conv of `hiddenDim`, BN, ReLU, zero 1x1 conv; the pooled decoder's
 * upsampling stages); and one step's loss, metrics and state with the head's last conv set to a
 * known constant, so that every pixel's logits (or ab) are known: cross-entropy against targets
 * soft-encoded over the 5 nearest of the 313 bins, weighted by class rebalancing from the running
 * or the fixed (`priorImages`, in chunks of 256) prior; l1 / l2 regression; `colorize`. Each
 * refusal's exact message. The default layout and the fixed-prior behaviour are also in
 * `pretext/colorization_bins_test.ts`. Every test frees what it makes, nets included, and checks
 * that `tf.memory().numTensors` ends where it began.
 */
import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { withSeed } from "../../backend/with_seed.ts";
import { colorization, orientationTint } from "../../methods/colorization.ts";
import { zhangAbBins } from "../../methods/pretext/_ab_bins_313.ts";
import { labToRgbReference, rgbToLabReference } from "../../methods/pretext/lab.ts";
import { assertNoLeak, pcg32, setupBackend, thrown } from "../_utils.ts";

await setupBackend();

const CTX = { progress: 0, step: 0, epoch: 0 };
const Z = zhangAbBins();
const CS: number[][] = Array.from({ length: Z.length / 2 }, (_, i) => [Z[2 * i], Z[2 * i + 1]]);
const Q = CS.length;
// non-square on purpose: an H / W mix-up changes a shape
const BASE = {
  encoder: "convnet" as const,
  inputShape: [16, 8, 3] as [number, number, number],
  seed: 0,
  widths: [8, 8],
};

/** A `Deno.test` whose body leaves `tf.memory().numTensors` where it found it. */
function test(name: string, fn: () => void): void {
  Deno.test(name, () => assertNoLeak(fn, name));
}

/** Frees both nets' weights. */
function disposeNets(s: { nets: { encoder: tfl.LayersModel; decoder: tfl.LayersModel } }): void {
  s.nets.encoder.dispose();
  s.nets.decoder.dispose();
}

/**
 * `thrown` for a build: frees the variables the refused call made before throwing (its encoder,
 * say), as `createMethod` does.
 */
function refused(f: () => unknown, what?: string): Error {
  const registered = tf.engine().state.registeredVariables;
  const before = new Set(Object.keys(registered));
  try {
    return thrown(f, what);
  } finally {
    for (const [name, v] of Object.entries(registered)) if (!before.has(name)) v.dispose();
  }
}

function near(got: number, want: number, tol: number, name: string) {
  assert.ok(Math.abs(got - want) <= tol, `${name}: ${got} vs ${want}`);
}

function nearAll(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, name: string) {
  assert.equal(got.length, want.length, name);
  for (let i = 0; i < want.length; i++) near(got[i], want[i], tol, `${name} [${i}]`);
}

const clip = (v: number) => Math.min(1, Math.max(0, v));

/** orientationTint of one gray image [H][W] in float64, as sRGB [H][W][3]. */
function tintReference(img: number[][]): number[][][] {
  let m = 1e-6, sy = 0, sx = 0;
  img.forEach((row, y) =>
    row.forEach((v, x) => {
      m += v;
      sy += v * y;
      sx += v * x;
    })
  );
  const ay = sy / m, ax = sx / m;
  let m20 = 0, m02 = 0, m11 = 0;
  img.forEach((row, y) =>
    row.forEach((v, x) => {
      m20 += v * (x - ax) ** 2;
      m02 += v * (y - ay) ** 2;
      m11 += v * (x - ax) * (y - ay);
    })
  );
  const phi = Math.atan2(2 * m11 / m, m20 / m - m02 / m);
  return img.map((row) =>
    row.map((v) =>
      labToRgbReference(20 + 60 * v, 60 * v * Math.cos(phi), 60 * v * Math.sin(phi)).map(clip)
    )
  );
}

test("orientationTint equals the float64 second-moment reference; refuses all but [B, H, W, 1]", () => {
  const prng = pcg32(21);
  const [h, w] = [5, 7];
  // a diagonal stroke, a vertical bar, noise, and a blank image (gray at L = 20)
  const imgs: number[][][] = [
    Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => (x === y ? 1 : 0))),
    Array.from({ length: h }, () => Array.from({ length: w }, (_, x) => (x === 5 ? 0.8 : 0.1))),
    Array.from({ length: h }, () => Array.from({ length: w }, () => prng())),
    Array.from({ length: h }, () => Array.from({ length: w }, () => 0)),
  ];
  const x = tf.tensor4d(imgs.flat(2), [4, h, w, 1]);
  const tinted = orientationTint(x);
  const got = tinted.arraySync() as number[][][][];
  assert.deepEqual([got.length, got[0].length, got[0][0].length, got[0][0][0].length], [
    4,
    h,
    w,
    3,
  ]);
  imgs.forEach((img, i) => nearAll(got[i].flat(2), tintReference(img).flat(2), 2e-4, `image ${i}`));
  // the blank image is the gray of L = 20 everywhere
  nearAll(got[3][0][0], labToRgbReference(20, 0, 0), 2e-4, "blank");
  // three channels, rank 3, and rank 5 with a 1 on axis 3
  const bad: [number[], string][] = [[[2, 4, 4, 3], "2,4,4,3"], [[4, 4, 1], "4,4,1"], [
    [1, 4, 4, 1, 1],
    "1,4,4,1,1",
  ]];
  for (const [badShape, shape] of bad) {
    const input = tf.zeros(badShape);
    const e = thrown(() => orientationTint(input as unknown as tf.Tensor4D));
    input.dispose();
    assert.ok(e instanceof TypeError);
    assert.equal(e.message, `Cannot tint: expected gray images [B, H, W, 1], received [${shape}]`);
  }
  tf.dispose([x, tinted]);
});

test("colorization refuses bad options, encoders and priorImages with their exact messages", () => {
  const flatPrior = tf.zeros([2, 2]);
  const noImages = tf.zeros([0, 16, 8, 3]);
  const onePrior = tf.zeros([1, 16, 8, 3]) as tf.Tensor4D;
  const cases: [Record<string, unknown>, ErrorConstructor, string][] = [
    [{ loss: "huber" }, RangeError, "loss must be classification, l1 or l2, received huber"],
    [{ bins: "x" }, RangeError, "bins must be zhang313 or gamut261, received x"],
    [{ head: "x" }, RangeError, "head must be convolutional or pooled, received x"],
    ...[3, 0.5, 32, 16].map((s): [Record<string, unknown>, ErrorConstructor, string] => [
      { outputStride: s },
      RangeError,
      `outputStride must be a power of 2 dividing 16x8, received ${s}`,
    ]),
    [
      { encoder: "sequence" },
      TypeError,
      "expected an encoder with [B, D] output, received [B, L, D]",
    ],
    [
      { priorImages: flatPrior },
      TypeError,
      "priorImages must be images [N, H, W, C], received [2,2]",
    ],
    [
      { priorImages: [1, 2] },
      TypeError,
      "priorImages must be images [N, H, W, C], received 1,2",
    ],
    [
      { priorImages: noImages },
      TypeError,
      "priorImages must be images [N, H, W, C], received [0,16,8,3]",
    ],
  ];
  for (const [o, kind, text] of cases) {
    const e = refused(() => colorization({ ...BASE, ...o } as never), JSON.stringify(o));
    assert.ok(e instanceof kind, `${JSON.stringify(o)}: ${e}`);
    assert.equal(e.message, `Cannot build colorization: ${text}`);
  }
  // one prior image is enough (the tidy frees the fixed prior's weights, which the method keeps)
  tf.tidy(() => disposeNets(colorization({ ...BASE, priorImages: onePrior })));
  tf.dispose([flatPrior, noImages, onePrior]);
  // priorImages are not looked at by the regression losses
  disposeNets(
    colorization({ ...BASE, loss: "l2", priorImages: [1, 2] as unknown as tf.Tensor4D }),
  );
  // an encoder that does not end in global average pooling: the pooled head only
  const input = tfl.input({ shape: [16, 8, 1] });
  const conv = tfl.layers.conv2d({ filters: 2, kernelSize: 3 }).apply(input) as tfl.SymbolicTensor;
  const flat = tfl.layers.flatten().apply(conv) as tfl.SymbolicTensor;
  const encoder = tfl.model({ inputs: input, outputs: flat });
  const e = refused(() => colorization({ ...BASE, encoder }));
  assert.ok(e instanceof TypeError);
  assert.equal(
    e.message,
    'Cannot build colorization: the convolutional head needs an encoder ending in globalAveragePooling2d, received Flatten (use head: "pooled")',
  );
  const pooled = colorization({ ...BASE, encoder, head: "pooled" });
  assert.equal(pooled.nets.decoder.outputs[0].shape[3], Q);
  disposeNets(pooled);
  // strides 1 and 8 are powers of 2 dividing 16x8
  for (const s of [1, 8]) disposeNets(colorization({ ...BASE, outputStride: s, loss: "l1" }));
});

test("colorization's heads: conv 3x3 (hiddenDim) + BN + ReLU + zero 1x1 conv; the pooled decoder's stages", () => {
  const convSetup = colorization(BASE);
  const conv = convSetup.nets.decoder;
  assert.equal(conv.name, "colorization_head");
  assert.deepEqual(
    conv.layers.map((l) => l.getClassName()),
    ["InputLayer", "Conv2D", "BatchNormalization", "ReLU", "Conv2D"],
  );
  assert.deepEqual(conv.inputs[0].shape, [null, 4, 2, 8]);
  const c1 = conv.layers[1].getConfig();
  assert.deepEqual([c1.filters, c1.kernelSize, c1.padding], [128, [3, 3], "same"]);
  const c4 = conv.layers[4].getConfig();
  assert.deepEqual([c4.filters, c4.kernelSize], [Q, [1, 1]]);
  assert.ok(conv.layers[4].getWeights()[0].dataSync().every((v) => v === 0));
  const smallSetup = colorization({ ...BASE, hiddenDim: 6, loss: "l2" });
  const small = smallSetup.nets.decoder;
  assert.equal(small.layers[1].getConfig().filters, 6);
  assert.deepEqual(small.outputs[0].shape, [null, 4, 2, 2]);
  disposeNets(convSetup);
  disposeNets(smallSetup);
  // pooled: as many x2 stages (16 channels) as 2 and 4 divide the ab map, at most two
  const cases: [[number, number, number], number, number][] = [
    [[16, 16, 3], 4, 2], // 4x4
    [[16, 8, 3], 4, 1], // 4x2
    [[8, 16, 3], 4, 1], // 2x4
    [[16, 8, 3], 8, 0], // 2x1
    [[32, 32, 3], 2, 2], // 16x16
  ];
  for (const [inputShape, outputStride, stages] of cases) {
    const s = colorization({ ...BASE, inputShape, outputStride, head: "pooled", loss: "l2" });
    const dec = s.nets.decoder;
    const name = `${inputShape} / ${outputStride}`;
    assert.equal(dec.name, "colorization_decoder", name);
    const ups = dec.layers.filter((l) => l.getClassName() === "UpSampling2D");
    assert.equal(ups.length, stages, name);
    const convs = dec.layers.filter((l) => l.getClassName() === "Conv2D");
    assert.deepEqual(
      convs.map((l) => l.getConfig().filters),
      [...Array(stages).fill(16), 2],
      name,
    );
    assert.equal(convs[stages].getConfig().activation, "linear", name);
    assert.deepEqual(dec.outputs[0].shape, [
      null,
      inputShape[0] / outputStride,
      inputShape[1] / outputStride,
      2,
    ]);
    disposeNets(s);
  }
});

/** Random sRGB images [B][H][W][3] in [0, 1]. */
function rgbImages(b: number, h: number, w: number, seed: number): number[][][][] {
  const prng = pcg32(seed);
  return Array.from(
    { length: b },
    () =>
      Array.from({ length: h }, () => Array.from({ length: w }, () => [prng(), prng(), prng()])),
  );
}

/** L / 100 [B][H][W][1] and ab average-pooled by s [B][H/s][W/s][2], float64. */
function viewsReference(rgb: number[][][][], s: number) {
  const lab = rgb.map((im) => im.map((row) => row.map(([r, g, b]) => rgbToLabReference(r, g, b))));
  const l = lab.map((im) => im.map((row) => row.map((p) => [p[0] / 100])));
  const ab = lab.map((im) =>
    Array.from(
      { length: im.length / s },
      (_, y) =>
        Array.from({ length: im[0].length / s }, (_, x) =>
          [1, 2].map((c) => {
            let t = 0;
            for (let dy = 0; dy < s; dy++) {
              for (let dx = 0; dx < s; dx++) t += im[y * s + dy][x * s + dx][c];
            }
            return t / (s * s);
          })),
    )
  );
  return { l, ab };
}

test("colorization's views: L / 100 and ab average-pooled by outputStride; gray images tinted first", () => {
  const rgb = rgbImages(2, 16, 8, 5);
  const x = tf.tensor4d(rgb.flat(3), [2, 16, 8, 3]);
  for (const s of [4, 1, 2]) {
    const setup = colorization({ ...BASE, outputStride: s, loss: "l2" });
    const [l, ab] = setup.method.views(x, 0);
    const want = viewsReference(rgb, s);
    assert.deepEqual(l.shape, [2, 16, 8, 1]);
    assert.deepEqual(ab.shape, [2, 16 / s, 8 / s, 2]);
    nearAll(l.dataSync(), want.l.flat(3), 1e-5, `L, stride ${s}`);
    nearAll(ab.dataSync(), want.ab.flat(3), 2e-3, `ab, stride ${s}`);
    tf.dispose([l, ab]);
    disposeNets(setup);
  }
  // one channel: the tint's sRGB, then Lab
  const prng = pcg32(8);
  const gray = Array.from(
    { length: 2 },
    () => Array.from({ length: 16 }, () => Array.from({ length: 8 }, () => prng())),
  );
  const g = tf.tensor4d(gray.flat(2), [2, 16, 8, 1]);
  const setup = colorization({ ...BASE, inputShape: [16, 8, 1], loss: "l2" });
  const [l, ab] = setup.method.views(g, 0);
  const want = viewsReference(gray.map(tintReference), 4);
  nearAll(l.dataSync(), want.l.flat(3), 1e-4, "gray L");
  nearAll(ab.dataSync(), want.ab.flat(3), 5e-3, "gray ab");
  tf.dispose([x, g, l, ab]);
  disposeNets(setup);
});

/** Every weight of both nets, BN moving statistics included, as numbers. */
function weightsOf(nets: { encoder: tfl.LayersModel; decoder: tfl.LayersModel }) {
  const read = (m: tfl.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
  return { encoder: read(nets.encoder), decoder: read(nets.decoder) };
}

/** Sets the head's last conv to a zero kernel and bias `bias`: every pixel's output is `bias`. */
function constantHead(decoder: tfl.LayersModel, bias: number[]) {
  const last = decoder.layers[decoder.layers.length - 1];
  const [kernel] = last.getWeights();
  const values = [tf.zerosLike(kernel), tf.tensor1d(bias)];
  last.setWeights(values);
  tf.dispose(values);
}

function softReference(a: number, b: number, k = 5, sigma = 5): number[] {
  const nearest = CS.map(([x, y], i) => [(x - a) ** 2 + (y - b) ** 2, i])
    .sort((u, v) => u[0] - v[0]).slice(0, k);
  const total = nearest.reduce((s, [d]) => s + Math.exp(-d / (2 * sigma * sigma)), 0);
  const row = new Array(Q).fill(0);
  for (const [d, i] of nearest) row[i] = Math.exp(-d / (2 * sigma * sigma)) / total;
  return row;
}

function rebalanceReference(prior: number[], lambda: number, sigma = 5): number[] {
  const total = prior.reduce((s, v) => s + v, 0);
  const p = prior.map((v) => v / total);
  const smooth = CS.map(([x, y]) =>
    CS.reduce(
      (s, [u, v], j) => s + Math.exp(-((x - u) ** 2 + (y - v) ** 2) / (2 * sigma * sigma)) * p[j],
      0,
    )
  );
  const st = smooth.reduce((s, v) => s + v, 0);
  const ps = smooth.map((v) => v / st);
  const w = ps.map((v) => 1 / ((1 - lambda) * v + lambda / Q));
  const norm = ps.reduce((s, v, i) => s + v * w[i], 0);
  return w.map((v) => v / norm);
}

function logSoftmax(v: number[]): number[] {
  const m = Math.max(...v);
  const lse = m + Math.log(v.reduce((s, u) => s + Math.exp(u - m), 0));
  return v.map((u) => u - lse);
}

function annealedReference(logits: number[], t: number): [number, number] {
  const e = logSoftmax(logits).map((v) => Math.exp(v / t));
  const s = e.reduce((u, v) => u + v, 0);
  return [0, 1].map((c) => e.reduce((u, v, i) => u + (v / s) * CS[i][c], 0)) as [number, number];
}

const argmax = (v: number[]) => v.reduce((k, u, i) => (u > v[k] ? i : k), 0);
const mean = (v: number[]) => v.reduce((s, u) => s + u, 0) / v.length;

/** The encoder's features `[B][D]` in training mode, as the step computes them. */
function embed(encoder: tfl.LayersModel, l: tf.Tensor4D): number[][] {
  const z = encoder.apply(l, { training: true }) as tf.Tensor;
  const values = z.arraySync() as number[][];
  z.dispose();
  return values;
}

/** zStd in float64: the batch std of the L2-normalized rows, averaged over dims. */
function zStdReference(z: number[][]): number {
  const n = z.map((r) => {
    const norm = Math.sqrt(r.reduce((s, v) => s + v * v, 0));
    return r.map((v) => v / norm);
  });
  return mean(n[0].map((_, d) => {
    const m = mean(n.map((r) => r[d]));
    return Math.sqrt(mean(n.map((r) => (r[d] - m) ** 2)));
  }));
}

// ab pixels [B=2][4][2]: half next to bin M (so that the argmax of the head's bias is right on
// some), one exactly gray, the rest spread over the gamut
const M = CS.findIndex(([a, b]) => a === 20 && b === -30);
function abPixels(): number[][] {
  const prng = pcg32(31);
  return Array.from(
    { length: 16 },
    (_, i) =>
      i === 5
        ? [0, 0]
        : i % 2
        ? [CS[M][0] + 6 * prng() - 3, CS[M][1] + 6 * prng() - 3]
        : [170 * prng() - 80, 180 * prng() - 100],
  );
}

test("colorization's classification step: weighted cross-entropy, metrics and running prior equal the float64 reference", () => {
  const prng = pcg32(32);
  const bias = CS.map(() => prng() * 2 - 1);
  bias[M] = 1.5;
  const pixels = abPixels();
  const ab = tf.tensor4d(pixels.flat(), [2, 4, 2, 2]);
  const lv = rgbImages(2, 16, 8, 6).flat(3).filter((_, i) => i % 3 === 0);
  const l = tf.tensor4d(lv, [2, 16, 8, 1]);
  const ls = logSoftmax(bias);
  const grayError = mean(pixels.map(([a, b]) => Math.sqrt(a * a + b * b + 1e-12)));
  const cases: [Record<string, number>, number, number, number, number][] = [
    [{}, 5, 5, 0.5, 0.38],
    [{ neighbors: 3, sigma: 8, lambda: 0.3, temperature: 1 }, 3, 8, 0.3, 1],
  ];
  for (const [options, k, sigma, lambda, temperature] of cases) {
    const setup = withSeed(3, () => colorization({ ...BASE, ...options }));
    constantHead(setup.nets.decoder, bias);
    const targets = pixels.map(([a, b]) => softReference(a, b, k, sigma));
    const ce = targets.map((t) => -t.reduce((s, v, i) => s + v * ls[i], 0));
    const [da, db] = annealedReference(bias, temperature);
    const abError = mean(
      pixels.map(([a, b]) => Math.sqrt((da - a) ** 2 + (db - b) ** 2 + 1e-12)),
    );
    const top1 = mean(targets.map((t) => (argmax(t) === M ? 1 : 0)));
    assert.ok(top1 > 0 && top1 < 1, `top1 ${top1}`);
    const z = embed(setup.nets.encoder, l);
    const check = (state: { prior?: tf.Tensor1D }, start: number[], what: string) => {
      const name = `${JSON.stringify(options)} ${what}`;
      const r = setup.method.step(setup.nets, [l, ab], state, CTX);
      const prior = start.map((v, q) => v + targets.reduce((s, t) => s + t[q], 0));
      const w = rebalanceReference(prior, lambda, sigma);
      const loss = mean(targets.map((t, n) => w[argmax(t)] * ce[n]));
      near(r.loss.dataSync()[0], loss, 1e-4 * loss, `${name} loss`);
      near(r.metrics.abError.dataSync()[0], abError, 2e-3, `${name} abError`);
      near(r.metrics.grayError.dataSync()[0], grayError, 1e-4, `${name} grayError`);
      assert.equal(r.metrics.top1.dataSync()[0], top1, `${name} top1`);
      near(r.metrics.zStd.dataSync()[0], zStdReference(z), 1e-4, `${name} zStd`);
      assert.deepEqual(Object.keys(r.metrics).sort(), ["abError", "grayError", "top1", "zStd"]);
      nearAll(r.state.prior!.dataSync(), prior, 1e-4, `${name} prior`);
      tf.dispose([r.loss, ...Object.values(r.metrics), r.state.prior!]);
    };
    check({}, new Array(Q).fill(0), "first step");
    const start = CS.map((_, q) => (q % 7 === 0 ? 3 : 0.5));
    const given = tf.tensor1d(start);
    check({ prior: given }, start, "with a prior");
    given.dispose();
    disposeNets(setup);
  }
  tf.dispose([ab, l]);
});

test("colorization's fixed prior: soft-encoded ab histogram of priorImages in chunks of 256, options passed", () => {
  // 257 images: two chunks; their ab (stride 4) is soft-encoded and summed
  const rgb = rgbImages(257, 4, 4, 9);
  const priorImages = tf.tensor4d(rgb.flat(3), [257, 4, 4, 3]);
  const { ab: pooled } = viewsReference(rgb, 4);
  const pixels = abPixels().slice(0, 4);
  const bias = CS.map((_, q) => Math.sin(q));
  const ls = logSoftmax(bias);
  const ab = tf.tensor4d(pixels.flat(), [4, 1, 1, 2]);
  const l = tf.fill([4, 4, 4, 1], 0.5) as tf.Tensor4D;
  const cases: [Record<string, number>, number, number, number][] = [
    [{}, 5, 5, 0.5],
    [{ neighbors: 3, sigma: 8, lambda: 0.25 }, 3, 8, 0.25],
  ];
  for (const [options, k, sigma, lambda] of cases) {
    const prior = new Array(Q).fill(0);
    for (const [a, b] of pooled.flat(2)) {
      softReference(a, b, k, sigma).forEach((v, q) => (prior[q] += v));
    }
    const targets = pixels.map(([a, b]) => softReference(a, b, k, sigma));
    const ce = targets.map((t) => -t.reduce((s, v, i) => s + v * ls[i], 0));
    // the method holds the fixed prior's weights [Q] for its whole life and has no way to free
    // them: built inside a tidy, they go with it
    tf.tidy(() => {
      const s = colorization({
        ...BASE,
        inputShape: [4, 4, 3],
        widths: [4],
        priorImages,
        ...options,
      });
      constantHead(s.nets.decoder, bias);
      const state = { prior: tf.ones([Q]) as tf.Tensor1D };
      const before = tf.memory().numTensors;
      const r = s.method.step(s.nets, [l, ab], state, CTX);
      const w = rebalanceReference(prior, lambda, sigma);
      const loss = mean(targets.map((t, n) => w[argmax(t)] * ce[n]));
      near(r.loss.dataSync()[0], loss, 2e-4 * loss, JSON.stringify(options));
      assert.equal(r.state, state, "a fixed prior leaves the state alone");
      tf.dispose([r.loss, ...Object.values(r.metrics)]);
      assert.equal(tf.memory().numTensors, before, "the step keeps nothing but its results");
      state.prior.dispose();
      disposeNets(s);
    });
  }
  tf.dispose([priorImages, ab, l]);
});

test("colorization's l2 / l1 regression and colorize: ab / 100 against the head, decoded x 100", () => {
  const pixels = abPixels();
  const bias = [0.25, -0.5];
  pixels[3] = [25, -50]; // decoded exactly: abError's epsilon keeps the sqrt finite
  const ab = tf.tensor4d(pixels.flat(), [2, 4, 2, 2]);
  const lv = rgbImages(2, 16, 8, 7).flat(3).filter((_, i) => i % 3 === 0);
  const l = tf.tensor4d(lv, [2, 16, 8, 1]);
  const diffs = pixels.flatMap(([a, b]) => [bias[0] - a / 100, bias[1] - b / 100]);
  for (
    const [loss, want] of [["l2", mean(diffs.map((d) => d * d))], [
      "l1",
      mean(diffs.map(Math.abs)),
    ]] as const
  ) {
    for (const head of ["convolutional", "pooled"] as const) {
      const s = withSeed(4, () => colorization({ ...BASE, loss, head }));
      constantHead(s.nets.decoder, bias);
      const state = {};
      const before = weightsOf(s.nets);
      const r = s.method.step(s.nets, [l, ab], state, CTX);
      const name = `${loss} ${head}`;
      // the step runs both nets in training mode: their BN moving statistics move
      const after = weightsOf(s.nets);
      assert.notDeepEqual(after.encoder, before.encoder, `${name}: encoder BN`);
      assert.notDeepEqual(after.decoder, before.decoder, `${name}: decoder BN`);
      near(r.loss.dataSync()[0], want, 1e-5 * want, name);
      const abError = mean(
        pixels.map(([a, b]) => Math.sqrt((25 - a) ** 2 + (-50 - b) ** 2 + 1e-12)),
      );
      near(r.metrics.abError.dataSync()[0], abError, 1e-3, `${name} abError`);
      assert.deepEqual(Object.keys(r.metrics).sort(), ["abError", "grayError", "zStd"], name);
      assert.equal(r.state, state, `${name}: the state is handed back`);
      const z = embed(s.nets.encoder, l);
      near(r.metrics.zStd.dataSync()[0], zStdReference(z), 1e-4, `${name} zStd`);
      // colorize: L x 100 with the decoded ab, to sRGB, clipped, at the input's size
      const kept = weightsOf(s.nets);
      const rgb = s.method.colorize(s.nets, l);
      assert.deepEqual(weightsOf(s.nets), kept, `${name}: colorize runs in inference mode`);
      assert.deepEqual(rgb.shape, [2, 16, 8, 3]);
      nearAll(
        rgb.dataSync(),
        lv.flatMap((v) => labToRgbReference(100 * v, 25, -50).map(clip)),
        1e-3,
        `${name} colorize`,
      );
      tf.dispose([r.loss, ...Object.values(r.metrics), rgb]);
      disposeNets(s);
    }
  }
  // classification's colorize decodes by the annealed mean
  const c = withSeed(4, () => colorization(BASE));
  const bias313 = CS.map((_, q) => Math.cos(q / 3));
  constantHead(c.nets.decoder, bias313);
  const [da, db] = annealedReference(bias313, 0.38);
  const rgb = c.method.colorize(c.nets, l);
  nearAll(
    rgb.dataSync(),
    lv.flatMap((v) => labToRgbReference(100 * v, da, db).map(clip)),
    1e-3,
    "classification colorize",
  );
  tf.dispose([rgb, ab, l]);
  disposeNets(c);
});

test("colorization: the head's map is resized to the ab map when either side differs; name and trainable variables", () => {
  const pixels = abPixels();
  const ab = tf.tensor4d(pixels.flat(), [2, 4, 2, 2]);
  const l = tf.fill([2, 16, 8, 1], 0.5) as tf.Tensor4D;
  const bias = [0.1, 0.2];
  const want = mean(pixels.flatMap(([a, b]) => [(0.1 - a / 100) ** 2, (0.2 - b / 100) ** 2]));
  // feature maps 4x8 (the width differs from the 4x2 ab map) and 8x2 (the height does)
  for (const strides of [[4, 1], [2, 4]]) {
    const input = tfl.input({ shape: [16, 8, 1] });
    const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 1, strides })
      .apply(input) as tfl.SymbolicTensor;
    const pooled = tfl.layers.globalAveragePooling2d({}).apply(conv) as tfl.SymbolicTensor;
    const encoder = tfl.model({ inputs: input, outputs: pooled });
    const s = colorization({ ...BASE, encoder, loss: "l2" });
    constantHead(s.nets.decoder, bias);
    const r = s.method.step(s.nets, [l, ab], {}, CTX);
    near(r.loss.dataSync()[0], want, 1e-5 * want, `strides ${strides}`);
    tf.dispose([r.loss, ...Object.values(r.metrics)]);
    disposeNets(s);
  }
  const { method, nets } = colorization(BASE);
  assert.equal(method.name, "colorization");
  const names = method.trainable(nets).map((v) => v.name);
  const own = [...nets.encoder.trainableWeights, ...nets.decoder.trainableWeights]
    .map((w) => (w.read() as tf.Variable).name);
  assert.equal(names.length, own.length);
  assert.deepEqual(names.sort(), own.sort());
  tf.dispose([ab, l]);
  disposeNets({ nets });
});
