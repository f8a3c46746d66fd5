import assert from "node:assert/strict";
import { tf } from "../../backend/mod.ts";
import { registerTrainingKernels } from "../../backend/kernels/mod.ts";
import { stridedSliceGrad } from "../../backend/kernels/_gradients.ts";
import {
  assertNoLeak,
  assertTensorClose,
  pcg32,
  type Prng,
  randomNormal,
  setupBackend,
} from "../_utils.ts";
import {
  type RefConv,
  refConv,
  refConvFilterGrad,
  refConvInputGrad,
  refGeometry,
} from "./_conv_reference.ts";

const BACKENDS = ["cpu", "wasm"] as const;
// float32 sums of at most a few hundred N(0, 1) products, against float64
const TOL = { rtol: 1e-4, atol: 1e-4 };

const CONV_CASES: RefConv[] = [
  { n: 2, h: 7, w: 5, ci: 3, co: 4, kh: 3, kw: 3, stride: [1, 1], pad: "same" },
  { n: 1, h: 7, w: 5, ci: 3, co: 4, kh: 3, kw: 3, stride: [1, 1], pad: "valid" },
  { n: 3, h: 9, w: 7, ci: 5, co: 2, kh: 3, kw: 3, stride: [2, 2], pad: "same" },
  { n: 2, h: 8, w: 6, ci: 4, co: 6, kh: 3, kw: 3, stride: [2, 2], pad: "same" },
  { n: 2, h: 9, w: 8, ci: 2, co: 3, kh: 3, kw: 3, stride: [2, 2], pad: "valid" },
  { n: 1, h: 6, w: 7, ci: 8, co: 8, kh: 1, kw: 1, stride: [2, 2], pad: "valid" },
  { n: 2, h: 7, w: 9, ci: 3, co: 5, kh: 5, kw: 3, stride: [2, 1], pad: "same" },
  { n: 1, h: 6, w: 6, ci: 2, co: 3, kh: 3, kw: 2, stride: [1, 2], pad: [[2, 0], [1, 3]] },
  { n: 2, h: 10, w: 7, ci: 3, co: 4, kh: 4, kw: 4, stride: [3, 2], pad: "same" },
];

function describe(c: RefConv): string {
  return `${c.n}x${c.h}x${c.w}x${c.ci} k${c.kh}x${c.kw}->${c.co} s${c.stride} ${
    JSON.stringify(c.pad)
  }${c.dilation ? ` d${c.dilation}` : ""}`;
}

function tfPad(c: RefConv): "same" | "valid" | tf.backend_util.ExplicitPadding {
  return typeof c.pad === "string" ? c.pad : [[0, 0], c.pad[0], c.pad[1], [0, 0]];
}

/** Standard normal values rounded to float32, so the float64 reference sees what tfjs sees. */
function normal32(n: number, prng: Prng): Float64Array {
  return Float64Array.from(Float32Array.from(randomNormal(n, prng)));
}

const f32 = (v: ArrayLike<number>) => Float32Array.from(v);

function randomCase(c: RefConv, seed: number) {
  const prng = pcg32(seed);
  const { ho, wo, outC } = refGeometry(c);
  return {
    x: normal32(c.n * c.h * c.w * c.ci, prng),
    f: normal32(c.kh * c.kw * c.ci * c.co, prng),
    dy: normal32(c.n * ho * wo * outC, prng),
    xShape: [c.n, c.h, c.w, c.ci] as [number, number, number, number],
    fShape: [c.kh, c.kw, c.ci, c.co] as [number, number, number, number],
    dyShape: [c.n, ho, wo, outC] as [number, number, number, number],
  };
}

for (const backend of BACKENDS) {
  Deno.test(`${backend}: conv2d values and gradients match a float64 reference`, async () => {
    await setupBackend(backend);
    await assertNoLeak(() => {
      CONV_CASES.forEach((c, k) => {
        const d = randomCase(c, 100 + k);
        const x = tf.tensor4d(f32(d.x), d.xShape, "float32");
        const f = tf.tensor4d(f32(d.f), d.fShape, "float32");
        const dy = tf.tensor4d(f32(d.dy), d.dyShape, "float32");
        const y = tf.conv2d(x, f, c.stride, tfPad(c));
        assertTensorClose(y, refConv(c, d.x, d.f), TOL, `${backend} forward ${describe(c)}`);
        const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, tfPad(c)), dy))
        )([x, f]);
        assert.deepEqual(gx.shape, d.xShape);
        assert.deepEqual(gf.shape, d.fShape);
        assertTensorClose(gx, refConvInputGrad(c, d.dy, d.f), TOL, `${backend} dx ${describe(c)}`);
        assertTensorClose(gf, refConvFilterGrad(c, d.x, d.dy), TOL, `${backend} dw ${describe(c)}`);
        tf.dispose([x, f, dy, y, gx, gf]);
      });
    });
  });

  Deno.test(`${backend}: conv2d backprop kernels accept NCHW data`, async () => {
    await setupBackend(backend);
    const c: RefConv = {
      n: 2,
      h: 7,
      w: 6,
      ci: 3,
      co: 4,
      kh: 3,
      kw: 3,
      stride: [2, 2],
      pad: "same",
    };
    const d = randomCase(c, 7);
    await assertNoLeak(() => {
      const toNchw = (v: Float64Array, s: number[]) =>
        tf.tidy(() =>
          tf.transpose(tf.tensor4d(f32(v), s as [number, number, number, number]), [0, 3, 1, 2])
        );
      const x = toNchw(d.x, d.xShape), dy = toNchw(d.dy, d.dyShape);
      const f = tf.tensor4d(f32(d.f), d.fShape, "float32");
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: "NCHW" };
      const gf = tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
        ...attrs,
        filterShape: d.fShape,
      }) as tf.Tensor;
      const gx = tf.engine().runKernel("Conv2DBackpropInput", { dy, filter: f }, {
        ...attrs,
        inputShape: x.shape,
      }) as tf.Tensor;
      assertTensorClose(gf, refConvFilterGrad(c, d.x, d.dy), TOL, `${backend} NCHW dw`);
      const gxNhwc = tf.transpose(gx, [0, 2, 3, 1]);
      assertTensorClose(gxNhwc, refConvInputGrad(c, d.dy, d.f), TOL, `${backend} NCHW dx`);
      tf.dispose([x, dy, f, gf, gx, gxNhwc]);
    });
  });
}

const DEPTHWISE_CASES: RefConv[] = [
  { n: 2, h: 7, w: 5, ci: 3, co: 1, kh: 3, kw: 3, stride: [1, 1], pad: "same", depthwise: true },
  { n: 1, h: 9, w: 8, ci: 4, co: 2, kh: 3, kw: 3, stride: [2, 2], pad: "same", depthwise: true },
  { n: 3, h: 8, w: 7, ci: 2, co: 3, kh: 3, kw: 2, stride: [2, 2], pad: "valid", depthwise: true },
];

Deno.test("wasm: depthwise conv gradients match a float64 reference", async () => {
  await setupBackend("wasm");
  await assertNoLeak(() => {
    DEPTHWISE_CASES.forEach((c, k) => {
      const d = randomCase(c, 200 + k);
      const x = tf.tensor4d(f32(d.x), d.xShape, "float32");
      const f = tf.tensor4d(f32(d.f), d.fShape, "float32");
      const dy = tf.tensor4d(f32(d.dy), d.dyShape, "float32");
      const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(
          tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, tfPad(c)), dy),
        )
      )([x, f]);
      assertTensorClose(gx, refConvInputGrad(c, d.dy, d.f), TOL, `depthwise dx ${describe(c)}`);
      assertTensorClose(gf, refConvFilterGrad(c, d.x, d.dy), TOL, `depthwise dw ${describe(c)}`);
      tf.dispose([x, f, dy, gx, gf]);
    });
    // dilation (no tfjs gradient allows it, so call the kernels directly)
    const c: RefConv = {
      n: 2,
      h: 9,
      w: 8,
      ci: 3,
      co: 2,
      kh: 3,
      kw: 3,
      stride: [1, 1],
      dilation: [2, 2],
      pad: "same",
      depthwise: true,
    };
    const d = randomCase(c, 300);
    const x = tf.tensor4d(f32(d.x), d.xShape, "float32");
    const f = tf.tensor4d(f32(d.f), d.fShape, "float32");
    const dy = tf.tensor4d(f32(d.dy), d.dyShape, "float32");
    const attrs = { strides: c.stride, dilations: c.dilation ?? [1, 1], pad: c.pad };
    const gf = tf.engine().runKernel("DepthwiseConv2dNativeBackpropFilter", { x, dy }, {
      ...attrs,
      filterShape: d.fShape,
    }) as tf.Tensor;
    const gx = tf.engine().runKernel("DepthwiseConv2dNativeBackpropInput", { dy, filter: f }, {
      ...attrs,
      inputShape: d.xShape,
    }) as tf.Tensor;
    assertTensorClose(gf, refConvFilterGrad(c, d.x, d.dy), TOL, "dilated depthwise dw");
    assertTensorClose(gx, refConvInputGrad(c, d.dy, d.f), TOL, "dilated depthwise dx");
    tf.dispose([x, f, dy, gf, gx]);
  });
});

Deno.test("wasm: UnsortedSegmentSum and the gather gradient match a float64 reference", async () => {
  await setupBackend("wasm");
  const prng = pcg32(11);
  const rows = 13, cols = 5, segments = 6;
  const data = normal32(rows * cols, prng);
  const ids = Int32Array.from({ length: rows }, () => Math.floor(prng() * segments));
  const expected = new Float64Array(segments * cols);
  ids.forEach((s, r) => {
    for (let c = 0; c < cols; c++) expected[s * cols + c] += data[r * cols + c];
  });
  await assertNoLeak(() => {
    const x = tf.tensor2d(f32(data), [rows, cols], "float32");
    const segmentIds = tf.tensor1d(ids, "int32");
    const out = tf.unsortedSegmentSum(x, segmentIds, segments);
    assertTensorClose(out, expected, { rtol: 1e-6, atol: 1e-6 }, "unsortedSegmentSum");
    assert.deepEqual(out.shape, [segments, cols]);
    // d/dtable sum(gather(table, ids) * x) scatters the rows of x onto the table rows
    const table = tf.zeros([segments, cols]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, segmentIds), x)))(table);
    assertTensorClose(g, expected, { rtol: 1e-6, atol: 1e-6 }, "gather gradient");
    // int32 data, 2-D ids, an id out of range (dropped)
    const xi = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], "int32");
    const ids2 = tf.tensor2d([[0, 2], [7, 0]], [2, 2], "int32");
    const oi = tf.engine().runKernel("UnsortedSegmentSum", { x: xi, segmentIds: ids2 }, {
      numSegments: 3,
    }) as tf.Tensor;
    assert.equal(oi.dtype, "int32");
    assert.deepEqual(oi.shape, [3, 2]);
    assert.deepEqual(Array.from(oi.dataSync()), [1 + 7, 2 + 8, 0, 0, 3, 4]);
    tf.dispose([x, segmentIds, out, table, g, xi, ids2, oi]);
  });
});

Deno.test("comparison ops have a zero gradient", async () => {
  await setupBackend("cpu");
  await assertNoLeak(() => {
    const x = tf.tensor1d([-1.5, 0.5, 2, -0.25]);
    // d/dx sum(x * (x > 0)) = (x > 0): the comparison itself contributes nothing
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(v, tf.cast(tf.greater(v, 0), "float32"))))(
      x,
    );
    assertTensorClose(g, [0, 1, 1, 0], { rtol: 0, atol: 0 });
    const g2 = tf.grad((v: tf.Tensor) =>
      tf.sum(tf.mul(v, tf.cast(tf.logicalAnd(tf.less(v, 1), tf.notEqual(v, 0.5)), "float32")))
    )(x);
    assertTensorClose(g2, [1, 0, 0, 1], { rtol: 0, atol: 0 });
    tf.dispose([x, g, g2]);
  });
});

interface SliceCase {
  shape: number[];
  begin: number[];
  end: number[];
  strides: number[];
  masks?: [number, number, number, number, number];
}

const SLICE_CASES: SliceCase[] = [
  { shape: [7], begin: [1], end: [6], strides: [2] },
  { shape: [5, 6], begin: [4, 5], end: [0, 0], strides: [-1, -2] },
  { shape: [4, 5, 3], begin: [1, 0, 2], end: [3, 5, 0], strides: [1, 3, -1] },
  // shrink axis 1; beginMask | endMask on the last axis. (tfjs 4.22's forward StridedSlice is
  // wrong when a shrunk axis meets a stride other than 1, so those cases are not exercised.)
  {
    shape: [4, 5, 3],
    begin: [1, 3, 2],
    end: [3, 4, 0],
    strides: [1, 1, 1],
    masks: [4, 4, 0, 0, 2],
  },
  {
    shape: [4, 5, 3],
    begin: [0, 0, 1],
    end: [4, 5, 2],
    strides: [1, 1, 1],
    masks: [3, 3, 0, 0, 4],
  },
  // ellipsis then one axis; a new axis in front
  { shape: [3, 4, 6], begin: [0, 1], end: [0, 6], strides: [1, 2], masks: [0, 0, 1, 0, 0] },
  { shape: [3, 4], begin: [0, 1, 0], end: [1, 3, 4], strides: [1, 1, 3], masks: [0, 0, 0, 1, 0] },
  { shape: [4, 3], begin: [5, 0], end: [6, 3], strides: [1, 1] }, // empty slice
];

Deno.test("StridedSlice gradient scatters the gradient to the sliced positions", async () => {
  for (const backend of BACKENDS) {
    await setupBackend(backend);
    await assertNoLeak(() => {
      SLICE_CASES.forEach((s, k) => {
        const [bm, em, elm, nam, sam] = s.masks ?? [0, 0, 0, 0, 0];
        const slice = (t: tf.Tensor) =>
          tf.stridedSlice(t, s.begin, s.end, s.strides, bm, em, elm, nam, sam);
        const size = s.shape.reduce((a, b) => a * b, 1);
        // which flat input position each slice element reads, from the stock forward kernel
        const where = tf.tidy(() => slice(tf.reshape(tf.range(0, size, 1, "float32"), s.shape)));
        const picked = where.dataSync();
        const w = normal32(picked.length, pcg32(400 + k));
        const expected = new Float64Array(size);
        picked.forEach((p, e) => expected[p] += w[e]);
        const x = tf.tensor(f32(randomNormal(size, pcg32(500 + k))), s.shape, "float32");
        const wt = tf.tensor(f32(w), where.shape, "float32");
        const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(slice(v), wt)))(x);
        assert.deepEqual(g.shape, s.shape);
        assertTensorClose(g, expected, { rtol: 0, atol: 0 }, `${backend} slice ${k}`);
        tf.dispose([where, x, wt, g]);
      });
    });
  }
});

Deno.test("stridedSliceGrad returns zeros for an empty slice", async () => {
  await setupBackend("cpu");
  await assertNoLeak(() => {
    const dy = tf.zeros([0, 3]);
    const g = stridedSliceGrad(dy, [4, 3], {
      begin: [5, 0],
      end: [6, 3],
      strides: [1, 1],
      beginMask: 0,
      endMask: 0,
      ellipsisMask: 0,
      newAxisMask: 0,
      shrinkAxisMask: 0,
    });
    assertTensorClose(g, new Float64Array(12), { rtol: 0, atol: 0 });
    tf.dispose([dy, g]);
  });
});

Deno.test("registerTrainingKernels is idempotent; other backends get the gradients only", async () => {
  await setupBackend("wasm");
  const kernel = tf.getKernel("Conv2DBackpropFilter", "wasm");
  assert.ok(kernel);
  registerTrainingKernels("wasm");
  assert.equal(tf.getKernel("Conv2DBackpropFilter", "wasm"), kernel);
  registerTrainingKernels("webgpu");
  assert.ok(tf.getGradient("Greater"));
  assert.equal(tf.getKernel("Conv2DBackpropFilter", "webgpu"), undefined);
  assert.throws(
    () => registerTrainingKernels(""),
    (e: unknown) => e instanceof TypeError && /expected a backend name/.test(e.message),
  );
});

/** Float64 batch norm over all but the last axis of x `[m, c]` (flattened): the gradients. */
function refBatchNormGrads(
  x: Float64Array,
  dy: Float64Array,
  gamma: Float64Array,
  c: number,
  eps: number,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const m = x.length / c;
  const dx = new Float64Array(x.length), dgamma = new Float64Array(c), dbeta = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    let mu = 0, v = 0;
    for (let r = 0; r < m; r++) mu += x[r * c + ch] / m;
    for (let r = 0; r < m; r++) v += (x[r * c + ch] - mu) ** 2 / m;
    const k = 1 / Math.sqrt(v + eps);
    let sumDy = 0, sumDyXhat = 0;
    for (let r = 0; r < m; r++) {
      const xhat = (x[r * c + ch] - mu) * k;
      sumDy += dy[r * c + ch];
      sumDyXhat += dy[r * c + ch] * xhat;
    }
    dgamma[ch] = sumDyXhat;
    dbeta[ch] = sumDy;
    // dx = gamma k / m (m dy - sum(dy) - xhat sum(dy xhat)), through the batch statistics
    for (let r = 0; r < m; r++) {
      const xhat = (x[r * c + ch] - mu) * k;
      dx[r * c + ch] = gamma[ch] * k / m * (m * dy[r * c + ch] - sumDy - xhat * sumDyXhat);
    }
  }
  return { dx, dgamma, dbeta };
}

for (const backend of BACKENDS) {
  Deno.test(`${backend}: batch-norm gradients match a float64 reference`, async () => {
    await setupBackend(backend);
    const prng = pcg32(600);
    const shape: [number, number, number, number] = [3, 5, 7, 6];
    const size = shape.reduce((a, b) => a * b, 1), c = shape[3], eps = 1e-3;
    const xv = normal32(size, prng).map((v) => 2 * v + 0.5); // not already normalized
    const dyv = normal32(size, prng), gv = normal32(c, prng);
    const ref = refBatchNormGrads(xv, dyv, gv, c, eps);
    await assertNoLeak(() => {
      const x = tf.tensor4d(f32(xv), shape), dy = tf.tensor4d(f32(dyv), shape);
      const gamma = tf.tensor1d(f32(gv)), beta = tf.zeros([c]);
      const [gx, gg, gb] = tf.grads((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(xi, [0, 1, 2]);
        const y = tf.batchNorm(
          xi as tf.Tensor4D,
          mean,
          variance,
          b as tf.Tensor1D,
          g as tf.Tensor1D,
          eps,
        );
        return tf.sum(tf.mul(y, dy));
      })([x, gamma, beta]);
      assertTensorClose(gx, ref.dx, { rtol: 1e-3, atol: 1e-4 }, `${backend} batch-norm dx`);
      assertTensorClose(gg, ref.dgamma, TOL, `${backend} batch-norm dgamma`);
      assertTensorClose(gb, ref.dbeta, TOL, `${backend} batch-norm dbeta`);
      // mean and variance as plain inputs: dmean = -gamma k sum(dy),
      // dvariance = -gamma k^3 / 2 sum(dy (x - mean))
      const mv = normal32(c, prng), vv = normal32(c, prng).map((v) => v * v + 0.5);
      const mean = tf.tensor1d(f32(mv)), variance = tf.tensor1d(f32(vv));
      const [gm, gvar] = tf.grads((m: tf.Tensor, v: tf.Tensor) =>
        tf.sum(tf.mul(tf.batchNorm(x, m as tf.Tensor1D, v as tf.Tensor1D, beta, gamma, eps), dy))
      )([mean, variance]);
      const em = new Float64Array(c), ev = new Float64Array(c);
      for (let e = 0; e < size; e++) {
        const ch = e % c, k = 1 / Math.sqrt(vv[ch] + eps);
        em[ch] -= gv[ch] * k * dyv[e];
        ev[ch] -= 0.5 * gv[ch] * k ** 3 * dyv[e] * (xv[e] - mv[ch]);
      }
      assertTensorClose(gm, em, TOL, `${backend} batch-norm dmean`);
      assertTensorClose(gvar, ev, TOL, `${backend} batch-norm dvariance`);
      tf.dispose([x, dy, gamma, beta, gx, gg, gb, mean, variance, gm, gvar]);
    });
  });
}

Deno.test("Transform transforms every image of a batch on cpu and native, as on wasm", async () => {
  const prng = pcg32(31);
  const images = Float32Array.from({ length: 3 * 5 * 6 * 2 }, () => prng());
  // a different translation and scale per image, and one shared transform
  const perImage = Float32Array.from([
    ...[1, 0, 0.5, 0, 1, -0.5, 0, 0],
    ...[0.9, 0.1, 0, -0.1, 1.1, 0.3, 0, 0],
    ...[1.2, 0, -1, 0, 0.8, 1, 0, 0],
  ]);
  const run = async (backend: "cpu" | "wasm" | "native", transforms: Float32Array) => {
    await setupBackend(backend);
    const out = tf.tidy(() =>
      tf.image.transform(
        tf.tensor4d(images, [3, 5, 6, 2]),
        tf.tensor2d(transforms, [transforms.length / 8, 8]),
        "bilinear",
        "constant",
        0.25,
        [4, 7],
      )
    );
    const values = await out.data();
    assert.deepEqual(out.shape, [3, 4, 7, 2]);
    out.dispose();
    return values;
  };
  for (const transforms of [perImage, perImage.slice(8, 16)]) {
    const reference = await run("wasm", transforms);
    // the stock cpu kernel left images 2 and 3 filled with 0.25
    const last = reference.subarray(2 * 4 * 7 * 2);
    assert.ok(last.some((v) => Math.abs(v - 0.25) > 1e-3), "test images must not be all fill");
    assertTensorClose(await run("cpu", transforms), reference, { rtol: 1e-5, atol: 1e-6 }, "cpu");
    assertTensorClose(
      await run("native", transforms),
      reference,
      { rtol: 1e-5, atol: 1e-6 },
      "native",
    );
  }
});

Deno.test("ResizeNearestNeighborGrad is the adjoint of the forward resize on cpu, native and wasm", async () => {
  const prng = pcg32(57);
  // [B, H, W, C, newH, newW, alignCorners, halfPixelCenters]
  const cases: [number, number, number, number, number, number, boolean, boolean][] = [
    [16, 7, 7, 8, 14, 14, false, false], // a decoder's 2x upsampling, many images and channels
    [3, 5, 4, 2, 11, 9, false, false],
    [2, 5, 4, 3, 7, 10, true, false],
    [2, 6, 5, 2, 9, 7, false, true],
  ];
  for (const backend of ["cpu", "native", "wasm"] as const) {
    await setupBackend(backend);
    for (const [b, h, w, c, nh, nw, alignCorners, halfPixelCenters] of cases) {
      const size = b * h * w * c;
      const t = Float32Array.from({ length: b * nh * nw * c }, () => prng() - 0.5);
      // the forward pass of an index image says which input element each output element reads
      const index = tf.tidy(() =>
        tf.image.resizeNearestNeighbor(
          tf.tensor4d(Float32Array.from({ length: size }, (_, i) => i), [b, h, w, c]),
          [nh, nw],
          alignCorners,
          halfPixelCenters,
        )
      );
      const source = await index.data();
      index.dispose();
      const reference = new Float64Array(size);
      source.forEach((i, k) => reference[i] += t[k]);
      const dx = tf.tidy(() =>
        tf.grad((x: tf.Tensor) =>
          tf.sum(tf.mul(
            tf.image.resizeNearestNeighbor(
              x as tf.Tensor4D,
              [nh, nw],
              alignCorners,
              halfPixelCenters,
            ),
            tf.tensor4d(t, [b, nh, nw, c]),
          ))
        )(tf.zeros([b, h, w, c]))
      );
      assertTensorClose(
        await dx.data(),
        reference,
        { rtol: 1e-5, atol: 1e-5 },
        `${backend} ${[b, h, w, c, nh, nw, alignCorners, halfPixelCenters]}`,
      );
      dx.dispose();
    }
  }
});
