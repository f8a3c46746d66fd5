import assert from "node:assert/strict";
import { tf, useBackend } from "../../backend/mod.ts";
import { registerNativeBackend } from "../../backend/native/mod.ts";
import { ALG, ARG, dnnlOrUndefined, PROP, TAG } from "../../backend/native/_dnnl.ts";
import {
  dnnlConvImpls,
  setDnnlWinograd,
  WINO_MIN_CHANNELS,
} from "../../backend/native/_dnnl_conv.ts";
import { convDataGradientsComputed } from "../../backend/native/_conv_kernels.ts";
import {
  type RefConv,
  refConv,
  refConvFilterGrad,
  refConvInputGrad,
  refGeometry,
} from "./_conv_reference.ts";
import { inCi, requireOrSkip } from "../_ci.ts";
import { assertNoLeak, assertTensorClose, pcg32, type Prng, randomNormal } from "../_utils.ts";
import { buildReferenceStep } from "../../bench/_native_reference_step.ts";
import { isPendingLazy } from "../../backend/native/_lineage.ts";

const dnnl = dnnlOrUndefined();
// without libdnnl2 the tests are ignored, except under CI, which installs it
const ignore = dnnl === undefined && !inCi();
if (dnnl === undefined && !ignore) {
  Deno.test("oneDNN (libdnnl2) loads, as CI expects", () => {
    requireOrSkip(false, "libdnnl2 (oneDNN)");
  });
}
if (dnnl !== undefined) await registerNativeBackend();

// float32 primitives against float64 loops: sums of up to ~450 products of N(0, 1) values.
const F32 = { rtol: 1e-4, atol: 1e-4 };

/** Float64 values rounded to float32, so the reference sees exactly what the kernel sees. */
function rounded(n: number, prng: Prng): Float64Array {
  return Float64Array.from(Float32Array.from(randomNormal(n, prng)));
}

/** Strides 1 and 2, same and valid, odd and asymmetric paddings, batch 1 and > 1. */
const CONV_CASES: (RefConv & { pad: "same" | "valid" })[] = [
  { n: 3, h: 9, w: 7, ci: 17, co: 5, kh: 3, kw: 3, stride: [1, 1], pad: "same" },
  { n: 1, h: 8, w: 11, ci: 16, co: 9, kh: 3, kw: 2, stride: [1, 1], pad: "valid" },
  // kh 5, kw 2 'same': top 2 / left 0 / right 1 (asymmetric)
  { n: 2, h: 7, w: 6, ci: 5, co: 4, kh: 5, kw: 2, stride: [1, 1], pad: "same" },
  // stride 2 on even sizes: 'same' pads 0 on top, 1 at the bottom
  { n: 2, h: 8, w: 10, ci: 3, co: 8, kh: 3, kw: 3, stride: [2, 2], pad: "same" },
  { n: 1, h: 10, w: 9, ci: 5, co: 7, kh: 5, kw: 3, stride: [2, 1], pad: "valid" },
  { n: 4, h: 7, w: 8, ci: 2, co: 3, kh: 1, kw: 1, stride: [1, 1], pad: "valid" },
  { n: 2, h: 9, w: 9, ci: 6, co: 4, kh: 3, kw: 3, stride: [1, 1], dilation: [2, 2], pad: "same" },
];

Deno.test({
  name: "dnnl binding: a convolution primitive over user arrays matches the float64 loops",
  ignore,
  fn() {
    const d = dnnl!;
    const c: RefConv = {
      n: 2,
      h: 7,
      w: 5,
      ci: 3,
      co: 4,
      kh: 3,
      kw: 3,
      stride: [2, 1],
      pad: "same",
    };
    const { ho, wo, top, left } = refGeometry(c);
    const prng = pcg32(3);
    const x = Float32Array.from(randomNormal(c.n * c.h * c.w * c.ci, prng));
    const f = Float32Array.from(randomNormal(c.kh * c.kw * c.ci * c.co, prng));
    const p = d.cached("test conv", () => {
      const op = d.opDesc();
      d.check(
        d.symbols.dnnl_convolution_forward_desc_init(
          op,
          PROP.forwardInference,
          ALG.convolutionDirect,
          d.memoryDesc([c.n, c.ci, c.h, c.w], TAG.acdb),
          d.memoryDesc([c.co, c.ci, c.kh, c.kw], TAG.cdba),
          null,
          d.memoryDesc([c.n, c.co, ho, wo], TAG.acdb),
          d.dims(c.stride),
          d.dims([top, left]),
          d.dims([(ho - 1) * 2 + 3 - c.h - top, (wo - 1) + 3 - c.w - left]),
        ),
        "dnnl_convolution_forward_desc_init",
      );
      return d.primitive(op, { what: "test conv" });
    });
    assert.equal(p.argBytes(ARG.dst), c.n * ho * wo * c.co * 4);
    const y = new Float32Array(c.n * ho * wo * c.co);
    p.execute({ [ARG.src]: x, [ARG.weights]: f, [ARG.dst]: y });
    const want = refConv(c, Float64Array.from(x), Float64Array.from(f));
    for (let i = 0; i < y.length; i++) {
      assert.ok(Math.abs(y[i] - want[i]) <= 1e-4 * (1 + Math.abs(want[i])), `y[${i}]`);
    }
    assert.equal(d.cached("test conv", () => assert.fail("rebuilt a cached primitive")), p);
  },
});

Deno.test({
  name: "dnnl binding: a bad descriptor throws an error naming the call and the status",
  ignore,
  fn() {
    const d = dnnl!;
    const op = d.opDesc();
    // Weights with 5 input channels for a 3-channel source: invalid arguments.
    assert.throws(
      () =>
        d.check(
          d.symbols.dnnl_convolution_forward_desc_init(
            op,
            PROP.forwardInference,
            ALG.convolutionDirect,
            d.memoryDesc([1, 3, 4, 4], TAG.acdb),
            d.memoryDesc([2, 5, 3, 3], TAG.cdba),
            null,
            d.memoryDesc([1, 2, 4, 4], TAG.acdb),
            d.dims([1, 1]),
            d.dims([1, 1]),
            d.dims([1, 1]),
          ),
          "dnnl_convolution_forward_desc_init",
        ),
      /oneDNN dnnl_convolution_forward_desc_init: expected status success, received invalid_arguments/,
    );
  },
});

Deno.test({
  name: "native Conv2D and its input and filter gradients run on oneDNN and match float64 loops",
  ignore,
  async fn() {
    await useBackend("native", { quiet: true });
    const prng = pcg32(17);
    for (const c of CONV_CASES) {
      const label = JSON.stringify(c);
      const { ho, wo } = refGeometry(c);
      const x = rounded(c.n * c.h * c.w * c.ci, prng);
      const f = rounded(c.kh * c.kw * c.ci * c.co, prng);
      const dy = rounded(c.n * ho * wo * c.co, prng);
      const before = dnnl!.cacheSize();
      await assertNoLeak(() => {
        const xt = tf.tensor4d(Float32Array.from(x), [c.n, c.h, c.w, c.ci]);
        const ft = tf.tensor4d(Float32Array.from(f), [c.kh, c.kw, c.ci, c.co]);
        const dyt = tf.tensor4d(Float32Array.from(dy), [c.n, ho, wo, c.co]);
        const conv = (a: tf.Tensor, b: tf.Tensor) =>
          tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, "NHWC", c.dilation);
        const y = conv(xt, ft);
        assertTensorClose(y, refConv(c, x, f), F32, `y ${label}`);
        // tfjs has no gradient for dilated convolutions: forward only.
        if (c.dilation) return [xt, ft, dyt, y];
        const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a, b), dyt)))([
          xt,
          ft,
        ]);
        assertTensorClose(gx, refConvInputGrad(c, dy, f), F32, `dx ${label}`);
        assertTensorClose(gf, refConvFilterGrad(c, x, dy), F32, `dfilter ${label}`);
        return [xt, ft, dyt, y, gx, gf];
      }, label);
      // Forward, backward data and backward weights primitives were built for this shape.
      const built = c.dilation ? 1 : 3;
      assert.ok(dnnl!.cacheSize() >= before + built, `oneDNN primitives used for ${label}`);
    }
  },
});

Deno.test({
  name: "native FusedConv2D fuses bias and relu / leaky relu on oneDNN, gradients as on cpu",
  ignore,
  async fn() {
    const prng = pcg32(19);
    for (const c of CONV_CASES.filter((k) => !k.dilation).slice(0, 4)) {
      for (const activation of ["relu", "leakyrelu", "linear"] as const) {
        const label = `${JSON.stringify(c)} ${activation}`;
        const { ho, wo } = refGeometry(c);
        const x = Float32Array.from(randomNormal(c.n * c.h * c.w * c.ci, prng));
        const f = Float32Array.from(randomNormal(c.kh * c.kw * c.ci * c.co, prng));
        const b = Float32Array.from(randomNormal(c.co, prng));
        const dy = Float32Array.from(randomNormal(c.n * ho * wo * c.co, prng));
        const run = () => {
          const xt = tf.tensor4d(x, [c.n, c.h, c.w, c.ci]);
          const ft = tf.tensor4d(f, [c.kh, c.kw, c.ci, c.co]);
          const bt = tf.tensor1d(b);
          const dyt = tf.tensor4d(dy, [c.n, ho, wo, c.co]);
          const conv = (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) =>
            tf.fused.conv2d({
              x: p as tf.Tensor4D,
              filter: q as tf.Tensor4D,
              strides: c.stride,
              pad: c.pad,
              dilations: c.dilation,
              bias: r,
              activation,
              leakyreluAlpha: 0.3,
            });
          const y = conv(xt, ft, bt);
          const grads = tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) =>
            tf.sum(tf.mul(conv(p, q, r), dyt))
          )([xt, ft, bt]);
          const out = [y, ...grads].map((t) => Float64Array.from(t.dataSync()));
          tf.dispose([xt, ft, bt, dyt, y, ...grads]);
          return out;
        };
        await useBackend("cpu", { quiet: true });
        const want = run();
        await useBackend("native", { quiet: true });
        await assertNoLeak(() => {
          const got = run();
          ["y", "dx", "dfilter", "dbias"].forEach((name, i) =>
            assertTensorClose(got[i], want[i], F32, `${name} ${label}`)
          );
        }, label);
      }
    }
  },
});

/** 3x3 stride-1 geometries for the Winograd path: odd sizes and channels, same/valid, batch 1. */
const WINO_CASES: (RefConv & { pad: "same" | "valid" })[] = [
  { n: 3, h: 9, w: 7, ci: 17, co: 5, kh: 3, kw: 3, stride: [1, 1], pad: "same" },
  { n: 1, h: 8, w: 11, ci: 16, co: 9, kh: 3, kw: 3, stride: [1, 1], pad: "valid" },
  { n: 2, h: 6, w: 6, ci: 3, co: 32, kh: 3, kw: 3, stride: [1, 1], pad: "same" },
  { n: 2, h: 4, w: 4, ci: 32, co: 16, kh: 3, kw: 3, stride: [1, 1], pad: "same" },
  { n: 1, h: 13, w: 5, ci: 20, co: 24, kh: 3, kw: 3, stride: [1, 1], pad: "valid" },
];

Deno.test({
  name:
    "native Conv2D, its input gradient and FusedConv2D on oneDNN's Winograd kernel match float64",
  ignore,
  async fn() {
    await useBackend("native", { quiet: true });
    const toGeometry = (c: RefConv) => {
      const { ho, wo, top, left } = refGeometry(c);
      const bottom = (ho - 1) + c.kh - c.h - top, right = (wo - 1) + c.kw - c.w - left;
      return {
        batchSize: c.n,
        inHeight: c.h,
        inWidth: c.w,
        inChannels: c.ci,
        outHeight: ho,
        outWidth: wo,
        outChannels: c.co,
        strideHeight: 1,
        strideWidth: 1,
        dilationHeight: 1,
        dilationWidth: 1,
        filterHeight: 3,
        filterWidth: 3,
        padInfo: { top, left, bottom, right, type: "SAME" as const },
      };
    };
    const was = setDnnlWinograd("force");
    try {
      // oneDNN 2.x has its f32 Winograd kernel on AVX-512 only: elsewhere this checks the direct path.
      const available = dnnlConvImpls(dnnl!, toGeometry(WINO_CASES[0])).forward.includes("wino");
      if (!available) console.log("  (no Winograd kernel on this CPU: direct path checked)");
      const prng = pcg32(23);
      for (const c of WINO_CASES) {
        const label = JSON.stringify(c);
        const impls = dnnlConvImpls(dnnl!, toGeometry(c));
        if (available) {
          assert.match(impls.forward, /wino/, `forward kernel ${label}`);
          assert.match(impls.backwardData, /wino/, `backward-data kernel ${label}`);
        }
        const { ho, wo } = refGeometry(c);
        const x = rounded(c.n * c.h * c.w * c.ci, prng);
        const f = rounded(9 * c.ci * c.co, prng);
        const b = rounded(c.co, prng);
        const dy = rounded(c.n * ho * wo * c.co, prng);
        await assertNoLeak(() => {
          const xt = tf.tensor4d(Float32Array.from(x), [c.n, c.h, c.w, c.ci]);
          const ft = tf.tensor4d(Float32Array.from(f), [3, 3, c.ci, c.co]);
          const bt = tf.tensor1d(Float32Array.from(b));
          const dyt = tf.tensor4d(Float32Array.from(dy), [c.n, ho, wo, c.co]);
          const conv = (a: tf.Tensor, w: tf.Tensor) =>
            tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, c.pad, "NHWC");
          const y = conv(xt, ft);
          const want = refConv(c, x, f);
          assertTensorClose(y, want, F32, `y ${label}`);
          const [gx, gf] = tf.grads((a: tf.Tensor, w: tf.Tensor) =>
            tf.sum(tf.mul(conv(a, w), dyt))
          )([
            xt,
            ft,
          ]);
          assertTensorClose(gx, refConvInputGrad(c, dy, f), F32, `dx ${label}`);
          // bias and relu fused into the Winograd primitive
          const fused = tf.fused.conv2d({
            x: xt,
            filter: ft,
            strides: 1,
            pad: c.pad,
            bias: bt,
            activation: "relu",
          });
          const wantFused = want.map((v, i) => Math.max(0, v + b[i % c.co]));
          assertTensorClose(fused, wantFused, F32, `relu(y + b) ${label}`);
          return [xt, ft, bt, dyt, y, gx, gf, fused];
        }, label);
      }
    } finally {
      setDnnlWinograd(was);
    }
  },
});

Deno.test({
  name:
    "native convolutions in Winograd's auto mode: first layers (few input channels) run direct, wide ones may take Winograd",
  ignore,
  fn() {
    // batch 128 at 32x32: oneDNN's convolution_auto picks Winograd for 3->32 as for 32->32, and
    // Winograd took 15-25x the direct kernel's time for 3 input channels
    const geometry = (ci: number, co: number) =>
      tf.backend_util.computeConv2DInfo(
        [128, 32, 32, ci],
        [3, 3, ci, co],
        1,
        1,
        "same",
        undefined,
        false,
        "channelsLast",
      );
    const was = setDnnlWinograd("auto");
    try {
      const wide = dnnlConvImpls(dnnl!, geometry(32, 32));
      if (!wide.forward.includes("wino")) {
        console.log("  (oneDNN picks no Winograd kernel for 32->32 on this CPU: nothing to check)");
        return;
      }
      for (const [ci, co] of [[3, 32], [16, 64], [64, 16]]) {
        const impls = dnnlConvImpls(dnnl!, geometry(ci, co));
        assert.doesNotMatch(impls.forward, /wino/, `forward ${ci}->${co}`);
        assert.doesNotMatch(impls.backwardData, /wino/, `backward data ${ci}->${co}`);
      }
      assert.ok(WINO_MIN_CHANNELS <= 32, "32->32 may take Winograd");
    } finally {
      setDnnlWinograd(was);
    }
  },
});

Deno.test({
  name:
    "native Conv2DBackpropInput is lazy: a first layer's unwanted input gradient is never computed",
  ignore,
  async fn() {
    await useBackend("native", { quiet: true });
    const c = CONV_CASES[0];
    const prng = pcg32(29);
    const { ho, wo } = refGeometry(c);
    const x = rounded(c.n * c.h * c.w * c.ci, prng);
    const f = rounded(c.kh * c.kw * c.ci * c.co, prng);
    const dy = rounded(c.n * ho * wo * c.co, prng);
    await assertNoLeak(() => {
      const xt = tf.tensor4d(Float32Array.from(x), [c.n, c.h, c.w, c.ci]);
      const ft = tf.tensor4d(Float32Array.from(f), [c.kh, c.kw, c.ci, c.co]);
      const fv = tf.variable(ft);
      const dyt = tf.tensor4d(Float32Array.from(dy), [c.n, ho, wo, c.co]);
      // tfjs-layers' conv2d: the fused op, whose custom gradient makes dx and dfilter together
      const loss = (input: tf.Tensor) => () =>
        tf.sum(tf.mul(
          tf.fused.conv2d({ x: input as tf.Tensor4D, filter: fv, strides: 1, pad: c.pad }),
          dyt,
        )) as tf.Scalar;
      const before = convDataGradientsComputed();
      const onlyFilter = tf.variableGrads(loss(xt), [fv]);
      assertTensorClose(onlyFilter.grads[fv.name], refConvFilterGrad(c, x, dy), F32, "dfilter");
      assert.equal(convDataGradientsComputed(), before, "dx computed for an input needing none");
      // an input that needs its gradient still gets it, computed once
      const xv = tf.variable(xt);
      const both = tf.variableGrads(loss(xv), [fv, xv]);
      assertTensorClose(both.grads[xv.name], refConvInputGrad(c, dy, f), F32, "dx");
      assert.equal(convDataGradientsComputed(), before + 1);
      // the lazy dx keeps dy and the filter alive until read (conv2dTranspose is the same kernel)
      const dy2 = tf.tensor4d(Float32Array.from(dy), [c.n, ho, wo, c.co]);
      const f2 = tf.tensor4d(Float32Array.from(f), [c.kh, c.kw, c.ci, c.co]);
      const dx2 = tf.conv2dTranspose(dy2, f2, [c.n, c.h, c.w, c.ci], 1, c.pad);
      tf.dispose([dy2, f2]);
      tf.tidy(() => tf.mul(tf.ones([1000, 1000]), 2).dataSync()); // reuse freed buffers
      assertTensorClose(dx2, refConvInputGrad(c, dy, f), F32, "dx read after its inputs' disposal");
      const out = [xt, ft, dyt, dx2, onlyFilter.value, ...Object.values(onlyFilter.grads)];
      out.push(both.value, ...Object.values(both.grads));
      tf.dispose([fv, xv]);
      return out;
    }, "lazy dx");
  },
});

/** Runs `f` on `backend` and returns every output's values (float64). */
async function valuesOn(backend: "cpu" | "native", f: () => tf.Tensor[]): Promise<Float64Array[]> {
  await useBackend(backend, { quiet: true });
  let values: Float64Array[] = [];
  tf.tidy(() => {
    values = f().map((t) => Float64Array.from(t.dataSync()));
  });
  return values;
}

// Small shapes take the two-pass JS gradient; [8, 32, 32, 64] and [8192, 64] (2^19 elements) the
// oneDNN primitive.
const BN_SHAPES: number[][] = [
  [3, 5, 7, 6],
  [1, 4, 3, 5],
  [9, 4],
  [2, 1, 1, 3],
  [8, 32, 32, 64],
  [8192, 64],
];

Deno.test({
  name: "native training-mode batch norm: one oneDNN backward primitive, values and grads as cpu",
  ignore,
  async fn() {
    const prng = pcg32(29);
    // tfjs's own batch-norm gradient needs both scale and offset (it saves and walks them).
    for (const shape of BN_SHAPES) {
      const c = shape[shape.length - 1];
      const size = shape.reduce((p, v) => p * v, 1);
      // Channel means up to 16 at std 3 (means up to 63 moved dscale by 4e-3 with oneDNN's f32
      // statistics; a post-conv activation's mean is rarely 5x its std).
      const x = Float32Array.from(randomNormal(size, prng)).map((v, i) => v * 3 + (i % c) / 4);
      const dy = Float32Array.from(randomNormal(size, prng));
      const gamma = Float32Array.from(randomNormal(c, prng));
      const beta = Float32Array.from(randomNormal(c, prng));
      const axes = shape.slice(0, -1).map((_, i) => i);
      const run = () => {
        const dyt = tf.tensor(dy, shape);
        const f = (xt: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          const { mean, variance } = tf.moments(xt, axes);
          const y = tf.batchNorm(xt, mean, variance, b, g, 1e-3);
          // ELU, not ReLU: oneDNN's batch statistics differ from cpu's by ~1e-5 relative (f32
          // sums), which flips ReLU's mask wherever y is within ~1e-4 of 0 (tens of elements).
          return tf.sum(tf.mul(tf.elu(y), dyt)) as tf.Scalar;
        };
        const { value, grads } = tf.valueAndGrads(f)([
          tf.tensor(x, shape),
          tf.tensor1d(gamma),
          tf.tensor1d(beta),
        ]);
        return [value, ...grads];
      };
      const label = `[${shape}]`;
      const want = await valuesOn("cpu", run);
      await useBackend("native", { quiet: true });
      const profile = await tf.profile(() => {
        tf.tidy(() => {
          run();
        });
      });
      const names = profile.kernels.map((k) => k.name);
      assert.ok(names.includes("SelfsupBatchNormTrainGrad"), `one primitive for ${label}`);
      // tf.moments' Square gradient never ran: the known zeros passed through.
      assert.ok(!names.includes("SelfsupSquareGrad"), `no moments gradient for ${label}`);
      await assertNoLeak(async () => {
        const got = await valuesOn("native", run);
        // oneDNN computes the batch statistics with f32 sums (as PyTorch does through it): a mean
        // ~3e-6 relative off, times sum(dy) over the rows, moves dscale by ~sqrt(rows) * 1e-5.
        const rows = size / c;
        got.forEach((g, i) =>
          assertTensorClose(
            g,
            want[i],
            { rtol: 1e-4, atol: i >= 2 ? 1e-4 * Math.max(1, Math.sqrt(rows / 64)) : 1e-4 },
            `${i} ${label}`,
          )
        );
      }, label);
    }
  },
});

Deno.test({
  name: "native batch norm whose statistics also feed the loss keeps every gradient path",
  ignore,
  async fn() {
    const prng = pcg32(31);
    const shape = [4, 3, 5, 6];
    const x = Float32Array.from(randomNormal(4 * 3 * 5 * 6, prng));
    const u = Float32Array.from(randomNormal(6, prng));
    const run = () => {
      const f = (xt: tf.Tensor, g: tf.Tensor) => {
        const { mean, variance } = tf.moments(xt, [0, 1, 2]);
        const y = tf.batchNorm(xt, mean, variance, tf.onesLike(g), g, 1e-5);
        const extra = tf.add(tf.sum(tf.mul(mean, u)), tf.sum(tf.square(variance)));
        return tf.add(tf.sum(tf.square(tf.sin(y))), extra) as tf.Scalar;
      };
      return tf.grads(f)([tf.tensor(x, shape), tf.tensor1d(u.map((v) => 1 + v / 4))]);
    };
    const want = await valuesOn("cpu", run);
    await assertNoLeak(async () => {
      const got = await valuesOn("native", run);
      got.forEach((g, i) => assertTensorClose(g, want[i], { rtol: 1e-4, atol: 1e-4 }, `grad ${i}`));
    });
  },
});

Deno.test({
  name: "native max pool and its gradient run on oneDNN and agree with cpu, ties included",
  ignore,
  async fn() {
    const prng = pcg32(37);
    const cases: [number[], number, number, "same" | "valid"][] = [
      [[2, 8, 8, 3], 2, 2, "valid"],
      [[1, 7, 9, 4], 3, 2, "same"],
      [[3, 5, 6, 2], 3, 1, "same"],
      [[2, 9, 7, 5], 2, 2, "same"],
      [[1, 6, 6, 1], 3, 3, "valid"],
    ];
    for (const [shape, size, stride, pad] of cases) {
      for (const ties of [false, true]) {
        const n = shape.reduce((p, v) => p * v, 1);
        // With ties, values from {-1, 0, 1}: the gradient must go to the first maximum, as on cpu.
        const x = Float32Array.from(randomNormal(n, prng), (v) => (ties ? Math.round(v) : v));
        const run = () => {
          const xt = tf.tensor4d(x, shape as [number, number, number, number]);
          const f = (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, size, stride, pad);
          const y = f(xt);
          const dy = tf.tensor4d(
            Float32Array.from({ length: y.size }, (_, i) => (i % 7) - 3),
            y.shape,
          );
          const [gx] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(f(a), dy)))([xt]);
          return [y, gx];
        };
        const label = `[${shape}] ${size}/${stride} ${pad} ties ${ties}`;
        const want = await valuesOn("cpu", run);
        const before = dnnl!.cacheSize();
        await assertNoLeak(async () => {
          const got = await valuesOn("native", run);
          got.forEach((g, i) =>
            assertTensorClose(g, want[i], { rtol: 0, atol: 0 }, `${i} ${label}`)
          );
        }, label);
        assert.ok(dnnl!.cacheSize() >= before + (ties ? 0 : 2), `oneDNN pooling for ${label}`);
      }
    }
  },
});

Deno.test({
  name: "native lazy moments: x - mean(x) and its square are exact when read, even after x is gone",
  ignore,
  async fn() {
    const prng = pcg32(41);
    const shape = [3, 4, 5, 6];
    const x = Float32Array.from(randomNormal(360, prng), (v, i) => v + (i % 6));
    const run = (disposeFirst: boolean) => {
      const xt = tf.tensor4d(x, shape as [number, number, number, number]);
      const m = tf.mean(xt, [0, 1, 2]);
      const d = tf.sub(xt, m);
      const sq = tf.square(d);
      const v = tf.mean(sq, [0, 1, 2], true);
      // Dispose the input (and the mean) before the lazy tensors are read.
      if (disposeFirst) tf.dispose([xt, m]);
      const out = [d, sq, v].map((t) => Float64Array.from(t.dataSync()));
      tf.dispose([xt, m, d, sq, v]);
      return out;
    };
    await useBackend("cpu", { quiet: true });
    const want = run(false);
    await useBackend("native", { quiet: true });
    const backend = tf.backend() as unknown as { numDataIds(): number };
    for (const disposeFirst of [false, true]) {
      const buffers = backend.numDataIds();
      await assertNoLeak(() => {
        run(disposeFirst).forEach((g, i) =>
          assertTensorClose(g, want[i], { rtol: 1e-5, atol: 1e-5 }, `${i} ${disposeFirst}`)
        );
      });
      assert.equal(backend.numDataIds(), buffers, "every kept-alive input released");
    }
    // Never read: disposing the lazy tensors releases their inputs too.
    const buffers = backend.numDataIds();
    tf.tidy(() => {
      const xt = tf.tensor4d(x, shape as [number, number, number, number]);
      const { variance } = tf.moments(xt, [0, 1, 2]);
      assertTensorClose(variance, want[2], { rtol: 1e-5, atol: 1e-5 }, "variance");
    });
    assert.equal(backend.numDataIds(), buffers, "unread lazy tensors released their inputs");
    // A large input (above the oneDNN reductions' threshold): the variance still does not compute
    // the centered square.
    tf.tidy(() => {
      const big = tf.randomNormal([16, 32, 32, 48], 0, 1, "float32", 5);
      const d = tf.sub(big, tf.mean(big, [0, 1, 2]));
      const sq = tf.square(d);
      tf.mean(sq, [0, 1, 2]).dataSync();
      assert.ok(isPendingLazy(d.dataId) && isPendingLazy(sq.dataId), "never computed");
    });
  },
});

Deno.test({
  name: "the reference step's losses on native (oneDNN primitives) equal wasm's to 4 decimals",
  ignore,
  async fn() {
    const losses = async (backend: "native" | "wasm") => {
      await useBackend(backend, { quiet: true });
      const s = buildReferenceStep(8, 3);
      const out = Array.from({ length: 5 }, () => s.step());
      s.dispose();
      return out;
    };
    const want = await losses("wasm");
    const before = tf.memory().numTensors;
    const got = await losses("native");
    assert.equal(tf.memory().numTensors, before, "no tensor left behind by 5 native steps");
    got.forEach((l, i) =>
      assert.ok(Math.abs(l - want[i]) < 5e-5, `step ${i}: native ${l} vs wasm ${want[i]}`)
    );
  },
});

Deno.test({
  name:
    "native Relu, its gradient and Add on oneDNN match float64; non-finite inputs keep tfjs's NaN",
  ignore,
  async fn() {
    await useBackend("native", { quiet: true });
    const prng = pcg32(43);
    const n = 50_000; // above the size from which the oneDNN path runs
    const x = rounded(n, prng);
    const y = rounded(n, prng);
    for (const special of ["none", "dy NaN where x < 0", "x Infinity", "x NaN"]) {
      const dy = Float64Array.from(y);
      const xs = Float64Array.from(x);
      const at = xs.findIndex((v) => v < 0);
      if (special === "dy NaN where x < 0") {
        dy[at] = NaN;
        dy[xs.findIndex((v, i) => v < 0 && i > at)] = -Infinity; // gives NaN too (-Infinity * 0)
      }
      if (special === "x Infinity") xs[7] = Infinity;
      if (special === "x NaN") xs[9] = NaN; // oneDNN alone would give relu 0 and gradient dy
      const relu = xs.map((v) => Math.max(v, 0)); // NaN for NaN
      const grad = xs.map((v, i) => (v !== v ? NaN : v > 0 ? dy[i] : dy[i] * 0));
      const sum = xs.map((v, i) => Math.fround(v + dy[i])); // one float32 rounding, as tfjs
      const before = dnnl!.cacheSize();
      await assertNoLeak(() => {
        const xt = tf.tensor1d(Float32Array.from(xs));
        const dyt = tf.tensor1d(Float32Array.from(dy));
        const r = tf.relu(xt);
        const g = tf.grad((t: tf.Tensor) => tf.relu(t))(xt, dyt);
        const s = tf.add(xt, dyt);
        // The same NaNs and infinities where the reference has them, equal elsewhere.
        const same = (t: tf.Tensor, want: Float64Array, what: string) => {
          const got = Float64Array.from(t.dataSync());
          const kind = (v: number) => (Number.isFinite(v) ? "finite" : String(v));
          want.forEach((v, i) => assert.equal(kind(got[i]), kind(v), `${what} ${i}`));
          const clean = (a: Float64Array) => a.map((v) => (Number.isFinite(v) ? v : 0));
          assertTensorClose(clean(got), clean(want), { rtol: 0, atol: 0 }, what);
        };
        same(r, relu, `relu ${special}`);
        same(g, grad, `relu gradient ${special}`);
        same(s, sum, `add ${special}`);
        if (special === "dy NaN where x < 0") assert.ok(Number.isNaN(g.dataSync()[at]), "NaN kept");
        if (special === "x Infinity") assert.equal(r.dataSync()[7], Infinity, "relu(Infinity)");
        return [xt, dyt, r, g, s];
      }, special);
      // sum, relu forward, relu backward and add primitives, built once for this size.
      if (special === "none") assert.equal(dnnl!.cacheSize(), before + 4, "oneDNN primitives used");
    }
  },
});
