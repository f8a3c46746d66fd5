import assert from "node:assert/strict";
import { BackendUnavailableError, tf, useBackend } from "../../backend/mod.ts";
import { registerNativeBackend } from "../../backend/native/mod.ts";
import { assertNoLeak, assertTensorClose, pcg32, type Prng, randomNormal } from "../_utils.ts";
import { requireOrSkip } from "../_ci.ts";
import { OMP_SPIN_COUNT, setOpenMpWaitPolicy } from "../../backend/native/_blas.ts";

// float32 against float64 loops: sums of up to ~600 products of N(0, 1) values.
const F32 = { rtol: 1e-4, atol: 1e-4 };

await registerNativeBackend();

function t4(values: Float64Array, shape: number[]): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(values), shape as [number, number, number, number]);
}

/** Rounds to float32 so the float64 reference sees exactly what the kernel sees. */
function f32(values: Float64Array): Float64Array {
  return Float64Array.from(Float32Array.from(values));
}

interface Geometry {
  oh: number;
  ow: number;
  top: number;
  left: number;
}

/** TF's `same`/`valid` rule, written out independently of tfjs. */
function geometry(
  h: number,
  w: number,
  kh: number,
  kw: number,
  stride: number,
  dilation: number,
  pad: "same" | "valid",
): Geometry {
  const ekh = (kh - 1) * dilation + 1;
  const ekw = (kw - 1) * dilation + 1;
  if (pad === "valid") {
    return {
      oh: Math.ceil((h - ekh + 1) / stride),
      ow: Math.ceil((w - ekw + 1) / stride),
      top: 0,
      left: 0,
    };
  }
  const oh = Math.ceil(h / stride);
  const ow = Math.ceil(w / stride);
  const padH = Math.max((oh - 1) * stride + ekh - h, 0);
  const padW = Math.max((ow - 1) * stride + ekw - w, 0);
  return { oh, ow, top: Math.floor(padH / 2), left: Math.floor(padW / 2) };
}

interface ConvCase {
  b: number;
  h: number;
  w: number;
  c: number;
  o: number;
  kh: number;
  kw: number;
  stride: number;
  dilation: number;
  pad: "same" | "valid";
}

/**
 * Visits every (output pixel, tap, in channel, out channel) product of the convolution, in
 * float64: the one loop the three references share.
 */
function forEachTap(
  k: ConvCase,
  g: Geometry,
  visit: (xi: number, wi: number, yi: number) => void,
): void {
  for (let b = 0; b < k.b; b++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        for (let ky = 0; ky < k.kh; ky++) {
          const iy = oy * k.stride - g.top + ky * k.dilation;
          if (iy < 0 || iy >= k.h) continue;
          for (let kx = 0; kx < k.kw; kx++) {
            const ix = ox * k.stride - g.left + kx * k.dilation;
            if (ix < 0 || ix >= k.w) continue;
            for (let c = 0; c < k.c; c++) {
              const xi = ((b * k.h + iy) * k.w + ix) * k.c + c;
              for (let o = 0; o < k.o; o++) {
                visit(
                  xi,
                  ((ky * k.kw + kx) * k.c + c) * k.o + o,
                  ((b * g.oh + oy) * g.ow + ox) * k.o + o,
                );
              }
            }
          }
        }
      }
    }
  }
}

const CONV_CASES: ConvCase[] = [
  // shifted-tap lowering (stride 1, >= 16 channels)
  { b: 3, h: 9, w: 7, c: 17, o: 5, kh: 3, kw: 3, stride: 1, dilation: 1, pad: "same" },
  { b: 1, h: 8, w: 11, c: 16, o: 9, kh: 3, kw: 2, stride: 1, dilation: 1, pad: "valid" },
  { b: 2, h: 6, w: 6, c: 20, o: 4, kh: 4, kw: 4, stride: 1, dilation: 1, pad: "same" },
  // im2col lowering
  { b: 3, h: 9, w: 7, c: 17, o: 5, kh: 3, kw: 3, stride: 2, dilation: 1, pad: "same" },
  { b: 2, h: 11, w: 10, c: 3, o: 8, kh: 3, kw: 3, stride: 1, dilation: 1, pad: "same" },
  { b: 1, h: 10, w: 9, c: 5, o: 7, kh: 5, kw: 3, stride: 2, dilation: 1, pad: "valid" },
  { b: 4, h: 7, w: 8, c: 2, o: 3, kh: 1, kw: 1, stride: 1, dilation: 1, pad: "valid" },
];

Deno.test("native conv2d, its input and filter gradients match float64 loops", async () => {
  await useBackend("native", { quiet: true });
  const prng = pcg32(11);
  for (const k of CONV_CASES) {
    const label = JSON.stringify(k);
    const g = geometry(k.h, k.w, k.kh, k.kw, k.stride, k.dilation, k.pad);
    const x = f32(randomNormal(k.b * k.h * k.w * k.c, prng));
    const w = f32(randomNormal(k.kh * k.kw * k.c * k.o, prng));
    const dy = f32(randomNormal(k.b * g.oh * g.ow * k.o, prng));
    const y = new Float64Array(dy.length);
    const dx = new Float64Array(x.length);
    const dw = new Float64Array(w.length);
    forEachTap(k, g, (xi, wi, yi) => {
      y[yi] += x[xi] * w[wi];
      dx[xi] += dy[yi] * w[wi];
      dw[wi] += dy[yi] * x[xi];
    });
    await assertNoLeak(() => {
      const xt = t4(x, [k.b, k.h, k.w, k.c]);
      const wt = t4(w, [k.kh, k.kw, k.c, k.o]);
      const dyt = t4(dy, [k.b, g.oh, g.ow, k.o]);
      const yt = tf.conv2d(xt, wt, k.stride, k.pad);
      assertTensorClose(yt, y, F32, `conv2d ${label}`);
      assert.deepEqual(yt.shape, [k.b, g.oh, g.ow, k.o]);
      // d/dx sum(conv(x, w) * dy) = backprop of dy: exercises the kernels through tf.grads.
      const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, k.stride, k.pad), dyt))
      )([xt, wt]);
      assertTensorClose(gx, dx, F32, `dx ${label}`);
      assertTensorClose(gw, dw, F32, `dw ${label}`);
      return [xt, wt, dyt, yt, gx, gw];
    }, label);
  }
});

Deno.test("native conv2d with dilation 2 matches a float64 loop", async () => {
  await useBackend("native", { quiet: true });
  const prng = pcg32(12);
  for (const pad of ["same", "valid"] as const) {
    const k: ConvCase = {
      b: 2,
      h: 9,
      w: 10,
      c: 18,
      o: 6,
      kh: 3,
      kw: 3,
      stride: 1,
      dilation: 2,
      pad,
    };
    const g = geometry(k.h, k.w, k.kh, k.kw, 1, 2, pad);
    const x = f32(randomNormal(k.b * k.h * k.w * k.c, prng));
    const w = f32(randomNormal(k.kh * k.kw * k.c * k.o, prng));
    const y = new Float64Array(k.b * g.oh * g.ow * k.o);
    forEachTap(k, g, (xi, wi, yi) => (y[yi] += x[xi] * w[wi]));
    await assertNoLeak(() => {
      const xt = t4(x, [k.b, k.h, k.w, k.c]);
      const wt = t4(w, [k.kh, k.kw, k.c, k.o]);
      const yt = tf.conv2d(xt, wt, 1, pad, "NHWC", 2);
      assertTensorClose(yt, y, F32, `dilated ${pad}`);
      return [xt, wt, yt];
    });
  }
});

function activate(v: number, activation: string): number {
  switch (activation) {
    case "relu":
      return Math.max(v, 0);
    case "relu6":
      return Math.min(Math.max(v, 0), 6);
    case "elu":
      return v < 0 ? Math.exp(v) - 1 : v;
    case "sigmoid":
      return 1 / (1 + Math.exp(-v));
    case "leakyrelu":
      return v < 0 ? 0.2 * v : v;
    default:
      return v;
  }
}

Deno.test("native fused conv2d adds the bias and applies the activation", async () => {
  await useBackend("native", { quiet: true });
  const prng = pcg32(13);
  const k: ConvCase = {
    b: 2,
    h: 7,
    w: 6,
    c: 16,
    o: 5,
    kh: 3,
    kw: 3,
    stride: 1,
    dilation: 1,
    pad: "same",
  };
  const g = geometry(k.h, k.w, k.kh, k.kw, 1, 1, "same");
  const x = f32(randomNormal(k.b * k.h * k.w * k.c, prng));
  const w = f32(randomNormal(k.kh * k.kw * k.c * k.o, prng));
  const bias = f32(randomNormal(k.o, prng));
  const y = new Float64Array(k.b * g.oh * g.ow * k.o);
  forEachTap(k, g, (xi, wi, yi) => (y[yi] += x[xi] * w[wi]));
  for (const activation of ["linear", "relu", "relu6", "elu", "sigmoid", "leakyrelu"] as const) {
    const expected = y.map((v, i) => activate(v + bias[i % k.o], activation));
    await assertNoLeak(() => {
      const inputs = {
        x: t4(x, [k.b, k.h, k.w, k.c]),
        filter: t4(w, [k.kh, k.kw, k.c, k.o]),
        bias: tf.tensor1d(Float32Array.from(bias)),
      };
      const out = tf.fused.conv2d({ ...inputs, strides: 1, pad: "same", activation });
      assertTensorClose(out, expected, F32, activation);
      return [inputs, out];
    });
  }
});

/** float64 `op(a) @ op(b)` for row-major `a` and `b`, batched with broadcasting of one side. */
function matMulRef(
  a: Float64Array,
  b: Float64Array,
  batchA: number,
  batchB: number,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
): Float64Array {
  const batch = Math.max(batchA, batchB);
  const out = new Float64Array(batch * m * n);
  for (let p = 0; p < batch; p++) {
    const ao = batchA === 1 ? 0 : p * m * k;
    const bo = batchB === 1 ? 0 : p * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let l = 0; l < k; l++) {
          const av = a[ao + (transA ? l * m + i : i * k + l)];
          const bv = b[bo + (transB ? j * k + l : l * n + j)];
          s += av * bv;
        }
        out[p * m * n + i * n + j] = s;
      }
    }
  }
  return out;
}

/** Right-aligned numpy broadcasting of two batch shapes. */
function broadcast(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length);
  return Array.from({ length: rank }, (_, i) => {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    return Math.max(da, db);
  });
}

function shapeOf(batch: number[], rows: number, cols: number, trans: boolean): number[] {
  return [...batch, trans ? cols : rows, trans ? rows : cols];
}

Deno.test("native matMul matches float64 loops for every transpose and batch layout", async () => {
  await useBackend("native", { quiet: true });
  const prng = pcg32(14);
  const layouts: [number[], number[]][] = [[[], []], [[3], [3]], [[1], [4]], [[2, 3], [1]], [
    [5],
    [],
  ]];
  for (const [outerA, outerB] of layouts) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const m = 1 + Math.floor(prng() * 13);
        const k = 1 + Math.floor(prng() * 37);
        const n = 1 + Math.floor(prng() * 11);
        const batchA = outerA.reduce((p, v) => p * v, 1);
        const batchB = outerB.reduce((p, v) => p * v, 1);
        const a = f32(randomNormal(batchA * m * k, prng));
        const b = f32(randomNormal(batchB * k * n, prng));
        const expected = matMulRef(a, b, batchA, batchB, m, k, n, transA, transB);
        const label = `[${outerA}] x [${outerB}] m=${m} k=${k} n=${n} tA=${transA} tB=${transB}`;
        await assertNoLeak(() => {
          const at = tf.tensor(Float32Array.from(a), shapeOf(outerA, m, k, transA));
          const bt = tf.tensor(Float32Array.from(b), shapeOf(outerB, k, n, transB));
          const y = tf.matMul(at, bt, transA, transB);
          assert.deepEqual(y.shape, [...broadcast(outerA, outerB), m, n]);
          assertTensorClose(y, expected, F32, label);
          return [at, bt, y];
        }, label);
      }
    }
  }
});

Deno.test("native fused matMul: bias, activations and gradients match float64", async () => {
  await useBackend("native", { quiet: true });
  const prng = pcg32(15);
  const m = 9, k = 23, n = 7;
  const a = f32(randomNormal(m * k, prng));
  const b = f32(randomNormal(n * k, prng));
  const bias = f32(randomNormal(n, prng));
  const dy = f32(randomNormal(m * n, prng));
  const z = matMulRef(a, b, 1, 1, m, k, n, false, true);
  for (const activation of ["linear", "relu", "relu6", "elu", "sigmoid", "leakyrelu"] as const) {
    const expected = z.map((v, i) => activate(v + bias[i % n], activation));
    await assertNoLeak(() => {
      const inputs = {
        a: tf.tensor2d(Float32Array.from(a), [m, k]),
        b: tf.tensor2d(Float32Array.from(b), [n, k]),
        bias: tf.tensor1d(Float32Array.from(bias)),
      };
      const y = tf.fused.matMul({ ...inputs, transposeB: true, activation });
      assertTensorClose(y, expected, F32, activation);
      return [inputs, y];
    });
  }
  // Gradients of sum(relu(a @ b^T + bias) * dy): the gate is where the pre-activation is > 0.
  const gate = z.map((v, i) => (v + bias[i % n] > 0 ? dy[i] : 0));
  const da = matMulRef(gate, b, 1, 1, m, n, k, false, false);
  const db = matMulRef(gate, a, 1, 1, n, m, k, true, false);
  const dbias = new Float64Array(n);
  gate.forEach((v, i) => (dbias[i % n] += v));
  await assertNoLeak(() => {
    const at = tf.tensor2d(Float32Array.from(a), [m, k]);
    const bt = tf.tensor2d(Float32Array.from(b), [n, k]);
    const biast = tf.tensor1d(Float32Array.from(bias));
    const dyt = tf.tensor2d(Float32Array.from(dy), [m, n]);
    const grads = tf.grads((x: tf.Tensor, w: tf.Tensor, c: tf.Tensor) =>
      tf.sum(tf.mul(
        tf.fused.matMul({
          a: x as tf.Tensor2D,
          b: w as tf.Tensor2D,
          transposeB: true,
          bias: c,
          activation: "relu",
        }),
        dyt,
      ))
    )([at, bt, biast]);
    assertTensorClose(grads[0], da, F32, "da");
    assertTensorClose(grads[1], db, F32, "db");
    assertTensorClose(grads[2], dbias, F32, "dbias");
    return [at, bt, biast, dyt, grads];
  });
});

/** A small conv net: conv(s1) + relu, conv(s2) + relu, mean pool, dense. Seeded weights. */
function makeNet(prng: Prng) {
  const w = (shape: number[], scale: number) =>
    Float32Array.from(randomNormal(shape.reduce((p, v) => p * v, 1), prng), (v) => v * scale);
  return {
    w1: { values: w([3, 3, 3, 16], 0.3), shape: [3, 3, 3, 16] },
    w2: { values: w([3, 3, 16, 16], 0.1), shape: [3, 3, 16, 16] },
    w3: { values: w([16, 10], 0.3), shape: [16, 10] },
    b3: { values: w([10], 0.1), shape: [10] },
  };
}

type Net = ReturnType<typeof makeNet>;

function forward(params: tf.Tensor[], x: tf.Tensor4D): tf.Tensor2D {
  const [w1, w2, w3, b3] = params;
  const h1 = tf.relu(tf.conv2d(x, w1 as tf.Tensor4D, 1, "same"));
  const h2 = tf.relu(tf.conv2d(h1, w2 as tf.Tensor4D, 2, "same"));
  const pooled = tf.mean(h2, [1, 2]) as tf.Tensor2D;
  return tf.add(tf.matMul(pooled, w3 as tf.Tensor2D), b3) as tf.Tensor2D;
}

function lossOf(params: tf.Tensor[], x: tf.Tensor4D, labels: tf.Tensor2D): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(labels, forward(params, x)) as tf.Scalar;
}

function netGradients(
  net: Net,
  x: Float32Array,
  labels: Float32Array,
  batch: number,
): Float32Array[] {
  return tf.tidy(() => {
    const params = Object.values(net).map((p) => tf.tensor(p.values, p.shape));
    const xt = tf.tensor4d(x, [batch, 10, 10, 3]);
    const yt = tf.tensor2d(labels, [batch, 10]);
    const grads = tf.grads((...ps: tf.Tensor[]) => lossOf(ps, xt, yt))(params);
    return grads.map((g) => g.dataSync() as Float32Array);
  });
}

Deno.test("a small conv net's gradients agree on native, wasm and cpu", async () => {
  const prng = pcg32(16);
  const net = makeNet(prng);
  const batch = 5;
  const x = Float32Array.from(randomNormal(batch * 10 * 10 * 3, prng));
  const labels = new Float32Array(batch * 10);
  for (let i = 0; i < batch; i++) labels[i * 10 + Math.floor(prng() * 10)] = 1;
  await useBackend("cpu", { quiet: true });
  const onCpu = netGradients(net, x, labels, batch);
  await useBackend("native", { quiet: true });
  let onNative: Float32Array[] = [];
  await assertNoLeak(() => {
    onNative = netGradients(net, x, labels, batch);
  });
  const tolerance = { rtol: 1e-4, atol: 1e-5 };
  for (let i = 0; i < onCpu.length; i++) {
    assertTensorClose(onNative[i], onCpu[i], tolerance, `native vs cpu, parameter ${i}`);
  }
  await useBackend("wasm", { quiet: true });
  // wasm trains convs only once a Conv2DBackpropFilter is registered for it (backend/kernels).
  if (tf.getKernel("Conv2DBackpropFilter", "wasm")) {
    const onWasm = netGradients(net, x, labels, batch);
    for (let i = 0; i < onCpu.length; i++) {
      assertTensorClose(onNative[i], onWasm[i], tolerance, `native vs wasm, parameter ${i}`);
    }
  } else {
    assert.throws(() => netGradients(net, x, labels, batch), /Conv2DBackpropFilter/);
  }
});

function sgdLosses(net: Net, x: Float32Array, labels: Float32Array, batch: number, steps: number) {
  const params = Object.values(net).map((p) =>
    tf.tidy(() => tf.variable(tf.tensor(p.values, p.shape)))
  );
  const xt = tf.tensor4d(x, [batch, 10, 10, 3]);
  const yt = tf.tensor2d(labels, [batch, 10]);
  const optimizer = tf.train.sgd(0.05);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const loss = optimizer.minimize(() => lossOf(params, xt, yt), true, params)!;
    losses.push(loss.dataSync()[0]);
    loss.dispose();
  }
  tf.dispose([...params, xt, yt]);
  optimizer.dispose();
  return losses;
}

Deno.test("SGD on native gives the same losses as on cpu for the first steps", async () => {
  const prng = pcg32(17);
  const net = makeNet(prng);
  const batch = 8;
  const x = Float32Array.from(randomNormal(batch * 10 * 10 * 3, prng));
  const labels = new Float32Array(batch * 10);
  for (let i = 0; i < batch; i++) labels[i * 10 + (i % 10)] = 1;
  await useBackend("cpu", { quiet: true });
  const onCpu = sgdLosses(net, x, labels, batch, 6);
  await useBackend("native", { quiet: true });
  let onNative: number[] = [];
  await assertNoLeak(() => {
    onNative = sgdLosses(net, x, labels, batch, 6);
  });
  assertTensorClose(onNative, onCpu, { rtol: 1e-4, atol: 1e-6 }, "losses");
  assert.ok(onNative[5] < onNative[0], `loss should fall: ${onNative}`);
});

Deno.test("useBackend('auto') picks native here, and native reports its BLAS", async () => {
  const lines: string[] = [];
  assert.equal(await useBackend("auto", { log: (l) => lines.push(l) }), "native");
  assert.match(lines[0], /using the native backend/);
  const info = await registerNativeBackend();
  assert.ok(info.library.length > 0);
  assert.ok(info.kernels.includes("Conv2DBackpropFilter"));
});

/** Runs `code` as a module from the repository root (stdin, so only `flags` apply). */
async function runChild(code: string, flags: string[], env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, "-"],
    cwd: new URL("../../", import.meta.url),
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(code));
  await writer.close();
  const out = await child.output();
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}

const CHILD = `
import { useBackend } from "./backend/mod.ts";
try { await useBackend("native", { quiet: true }); console.log("LOADED"); }
catch (e) { console.log(e.name + ": " + e.message); }
`;

Deno.test("native without a BLAS or without --allow-ffi says what to do", async () => {
  const missing = await runChild(CHILD, ["-A"], { SELFSUP_BLAS: "/nonexistent/libnoblas.so" });
  assert.match(missing, /BackendUnavailableError: .*libnoblas.*libopenblas0-pthread/);
  const noFfi = await runChild(CHILD, ["--allow-read", "--allow-env"], {});
  assert.match(noFfi, /BackendUnavailableError: .*--allow-ffi/);
  assert.ok(new BackendUnavailableError("native", "x") instanceof Error);
});

/** Row-major strides of `shape`. */
function stridesOf(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let r = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = r;
    r *= shape[i];
  }
  return s;
}

/** Multi-index of flat position `i` in `shape`. */
function unravel(i: number, shape: number[]): number[] {
  return stridesOf(shape).map((s, d) => Math.floor(i / s) % shape[d]);
}

/** float64 numpy-style broadcast of `f` over `a` (shape `as`) and `b` (shape `bs`). */
function broadcastRef(
  a: Float64Array,
  as: number[],
  b: Float64Array,
  bs: number[],
  f: (x: number, y: number) => number,
): { values: Float64Array; shape: number[] } {
  const shape = broadcast(as, bs);
  const size = shape.reduce((p, v) => p * v, 1);
  const values = new Float64Array(size);
  const sa = stridesOf(as);
  const sb = stridesOf(bs);
  for (let i = 0; i < size; i++) {
    const idx = unravel(i, shape);
    let ai = 0;
    let bi = 0;
    for (let d = 0; d < as.length; d++) {
      ai += (as[d] === 1 ? 0 : idx[shape.length - as.length + d]) * sa[d];
    }
    for (let d = 0; d < bs.length; d++) {
      bi += (bs[d] === 1 ? 0 : idx[shape.length - bs.length + d]) * sb[d];
    }
    values[i] = f(a[ai], b[bi]);
  }
  return { values, shape };
}

Deno.test("native broadcasting binary ops match float64 for every broadcast pattern", async () => {
  await useBackend("native", { quiet: true });
  const prng = pcg32(18);
  const pairs: [number[], number[]][] = [
    [[4, 5, 3, 7], [4, 5, 3, 7]],
    [[4, 5, 3, 7], [7]],
    [[1, 1, 1, 7], [4, 5, 3, 7]],
    [[4, 5, 3, 7], [4, 1, 1, 7]],
    [[6, 1], [6, 9]],
    [[], [3, 4]],
    [[5, 1, 3], [1, 4, 1]],
    [[2, 3], []],
  ];
  const ops: [
    string,
    (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
    (x: number, y: number) => number,
  ][] = [
    ["add", tf.add, (x, y) => x + y],
    ["sub", tf.sub, (x, y) => x - y],
    ["mul", tf.mul, (x, y) => x * y],
    ["div", tf.div, (x, y) => x / y],
    ["maximum", tf.maximum, Math.max],
    ["minimum", tf.minimum, Math.min],
    ["squaredDifference", tf.squaredDifference, (x, y) => (x - y) ** 2],
  ];
  for (const [as, bs] of pairs) {
    const a = f32(randomNormal(as.reduce((p, v) => p * v, 1), prng));
    // Keep divisors away from zero so float32 rounding stays relative.
    const b = f32(randomNormal(bs.reduce((p, v) => p * v, 1), prng).map((v) => v + Math.sign(v)));
    for (const [name, op, ref] of ops) {
      const expected = broadcastRef(a, as, b, bs, ref);
      await assertNoLeak(() => {
        const at = tf.tensor(Float32Array.from(a), as);
        const bt = tf.tensor(Float32Array.from(b), bs);
        const y = op(at, bt);
        assert.deepEqual(y.shape, expected.shape, `${name} [${as}] [${bs}]`);
        assertTensorClose(
          y,
          expected.values,
          { rtol: 1e-6, atol: 1e-7 },
          `${name} [${as}] [${bs}]`,
        );
        return [at, bt, y];
      });
    }
  }
});

Deno.test("native unary ops match float64", async () => {
  await useBackend("native", { quiet: true });
  const x = f32(randomNormal(37, pcg32(19)));
  const ops: [string, (t: tf.Tensor) => tf.Tensor, (v: number) => number][] = [
    ["relu", tf.relu, (v) => Math.max(v, 0)],
    ["neg", tf.neg, (v) => -v],
    ["square", tf.square, (v) => v * v],
    ["sqrt", (t) => tf.sqrt(tf.abs(t)), (v) => Math.sqrt(Math.abs(v))],
    ["rsqrt", (t) => tf.rsqrt(tf.abs(t)), (v) => 1 / Math.sqrt(Math.abs(v))],
    ["exp", tf.exp, Math.exp],
    ["abs", tf.abs, Math.abs],
    ["step", (t) => tf.step(t, 0.3), (v) => (v > 0 ? 1 : 0.3)],
  ];
  for (const [name, op, ref] of ops) {
    await assertNoLeak(() => {
      const t = tf.tensor1d(Float32Array.from(x));
      const y = tf.tidy(() => op(t));
      assertTensorClose(y, x.map(ref), { rtol: 1e-6, atol: 1e-7 }, name);
      return [t, y];
    });
  }
});

Deno.test("native sum and mean over any axes match float64", async () => {
  await useBackend("native", { quiet: true });
  const shape = [3, 4, 5, 6];
  const x = f32(randomNormal(360, pcg32(20)));
  const cases: (number | number[])[] = [[0, 1, 2], [3], [1, 2], [0, 2], [0], -1, [0, 1, 2, 3], [
    1,
    3,
  ]];
  for (const axis of cases) {
    const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + 4 : a));
    const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const sum = new Float64Array(outShape.reduce((p, v) => p * v, 1));
    const so = stridesOf(outShape);
    for (let i = 0; i < x.length; i++) {
      const idx = unravel(i, shape);
      sum[idx.reduce((o, v, d) => o + (axes.includes(d) ? 0 : v) * so[d], 0)] += x[i];
    }
    const count = axes.reduce((p, a) => p * shape[a], 1);
    for (const keepDims of [false, true]) {
      await assertNoLeak(() => {
        const t = tf.tensor(Float32Array.from(x), shape);
        const s = tf.sum(t, axis, keepDims);
        const m = tf.mean(t, axis, keepDims);
        const expectShape = keepDims ? outShape : shape.filter((_, i) => !axes.includes(i));
        assert.deepEqual(s.shape, expectShape);
        assertTensorClose(s, sum, { rtol: 1e-5, atol: 1e-5 }, `sum ${axis}`);
        assertTensorClose(m, sum.map((v) => v / count), { rtol: 1e-5, atol: 1e-6 }, `mean ${axis}`);
        return [t, s, m];
      });
    }
  }
});

Deno.test("native tile matches an index-by-index reference", async () => {
  await useBackend("native", { quiet: true });
  const cases: [number[], number[]][] = [
    [[1, 1, 1, 4], [3, 2, 5, 1]],
    [[2, 3], [2, 3]],
    [[3], [4]],
    [
      [2, 1, 3],
      [1, 4, 2],
    ],
  ];
  for (const [shape, reps] of cases) {
    const x = randomNormal(shape.reduce((p, v) => p * v, 1), pcg32(21)).map((v) => Math.fround(v));
    const outShape = shape.map((d, i) => d * reps[i]);
    const expected = new Float64Array(outShape.reduce((p, v) => p * v, 1));
    const sx = stridesOf(shape);
    for (let i = 0; i < expected.length; i++) {
      expected[i] = x[unravel(i, outShape).reduce((o, v, d) => o + (v % shape[d]) * sx[d], 0)];
    }
    await assertNoLeak(() => {
      const t = tf.tensor(Float32Array.from(x), shape);
      const y = tf.tile(t, reps);
      assert.deepEqual(y.shape, outShape);
      assertTensorClose(y, expected, { rtol: 0, atol: 0 }, `tile [${shape}] x [${reps}]`);
      return [t, y];
    });
  }
});

Deno.test("native max-pool gradient routes to the first maximum, as cpu does", async () => {
  const prng = pcg32(22);
  // ReLU'd values: many windows of zeros, where the tie rule decides.
  const shape: [number, number, number, number] = [2, 7, 8, 5];
  const x = Float32Array.from(randomNormal(2 * 7 * 8 * 5, prng), (v) => Math.max(v, 0));
  const dy = Float32Array.from(randomNormal(2 * 7 * 8 * 5, prng)); // enough for stride 1
  const grad = (pad: "same" | "valid", strides: number) =>
    tf.tidy(() => {
      const xt = tf.tensor4d(x, shape);
      return tf.grad((t: tf.Tensor) => {
        const y = tf.maxPool(t as tf.Tensor4D, 2, strides, pad);
        return tf.sum(tf.mul(y, tf.tensor(dy.subarray(0, y.size), y.shape)));
      })(xt).dataSync() as Float32Array;
    });
  for (const [pad, strides] of [["same", 2], ["valid", 2], ["same", 1]] as const) {
    await useBackend("cpu", { quiet: true });
    const onCpu = grad(pad, strides);
    await useBackend("native", { quiet: true });
    const onNative = grad(pad, strides);
    assertTensorClose(onNative, onCpu, { rtol: 0, atol: 1e-6 }, `maxPool ${pad} s${strides}`);
    assert.ok(onNative.some((v) => v !== 0));
  }
});

Deno.test("batch-norm forward and gradients agree on native, cpu and wasm", async () => {
  const prng = pcg32(23);
  const x = Float32Array.from(randomNormal(4 * 5 * 6 * 7, prng));
  const gamma = Float32Array.from(randomNormal(7, prng));
  const beta = Float32Array.from(randomNormal(7, prng));
  const dy = Float32Array.from(randomNormal(4 * 5 * 6 * 7, prng));
  const grads = () =>
    tf.tidy(() => {
      // tf.batchNorm runs the FusedBatchNorm kernel, whose gradient native replaces.
      const dyt = tf.tensor4d(dy, [4, 5, 6, 7]);
      const f = (xt: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(xt, [0, 1, 2]);
        return tf.sum(tf.mul(tf.relu(tf.batchNorm(xt, mean, variance, b, g, 1e-5)), dyt));
      };
      return tf.grads(f)([tf.tensor4d(x, [4, 5, 6, 7]), tf.tensor1d(gamma), tf.tensor1d(beta)])
        .map((g) => g.dataSync() as Float32Array);
    });
  await useBackend("cpu", { quiet: true });
  const onCpu = grads();
  await useBackend("native", { quiet: true });
  let onNative: Float32Array[] = [];
  await assertNoLeak(() => {
    onNative = grads();
  });
  // The native gradient is one fused kernel; cpu and wasm keep tfjs's own (delegated) gradient.
  await useBackend("wasm", { quiet: true });
  const onWasm = grads();
  for (let i = 0; i < 3; i++) {
    assertTensorClose(onNative[i], onCpu[i], { rtol: 1e-4, atol: 1e-5 }, `batch norm grad ${i}`);
    assertTensorClose(onWasm[i], onCpu[i], { rtol: 1e-4, atol: 1e-5 }, `wasm batch norm grad ${i}`);
  }
});

Deno.test("native max pool matches a float64 loop for odd sizes, strides and padding", async () => {
  await useBackend("native", { quiet: true });
  const prng = pcg32(24);
  const shape: [number, number, number, number] = [3, 9, 7, 5];
  const x = f32(randomNormal(3 * 9 * 7 * 5, prng));
  x[17] = NaN; // never the maximum, as on cpu
  for (
    const [size, stride, pad] of [[2, 2, "valid"], [2, 2, "same"], [3, 1, "same"], [
      3,
      2,
      "valid",
    ]] as const
  ) {
    const g = geometry(9, 7, size, size, stride, 1, pad);
    const expected = new Float64Array(3 * g.oh * g.ow * 5);
    for (let b = 0; b < 3; b++) {
      for (let oy = 0; oy < g.oh; oy++) {
        for (let ox = 0; ox < g.ow; ox++) {
          for (let d = 0; d < 5; d++) {
            let best = -Infinity;
            for (let ky = 0; ky < size; ky++) {
              for (let kx = 0; kx < size; kx++) {
                const iy = oy * stride - g.top + ky;
                const ix = ox * stride - g.left + kx;
                if (iy < 0 || iy >= 9 || ix < 0 || ix >= 7) continue;
                const v = x[((b * 9 + iy) * 7 + ix) * 5 + d];
                if (v > best) best = v;
              }
            }
            expected[((b * g.oh + oy) * g.ow + ox) * 5 + d] = best;
          }
        }
      }
    }
    await assertNoLeak(() => {
      const t = tf.tensor4d(Float32Array.from(x), shape);
      const y = tf.maxPool(t, size, stride, pad);
      assert.deepEqual(y.shape, [3, g.oh, g.ow, 5]);
      assertTensorClose(y, expected, { rtol: 0, atol: 0 }, `maxPool ${size} s${stride} ${pad}`);
      return [t, y];
    });
  }
});

/** Checks indices 3-6 (NaN, -Infinity, Infinity, 0 in x) exactly, then zeroes them in both. */
function compareSpecials(actual: ArrayLike<number>, expected: Float64Array, what: string) {
  for (let i = 3; i <= 6; i++) {
    assert.ok(
      Object.is(actual[i], expected[i]) || actual[i] === expected[i],
      `${what} at ${i}: ${actual[i]} vs ${expected[i]}`,
    );
    (actual as Float32Array)[i] = 0;
    expected[i] = 0;
  }
}

Deno.test("native relu and its one-kernel gradient match float64, NaN and infinities included", async () => {
  await useBackend("native", { quiet: true });
  const prng = pcg32(25);
  const n = 40000; // above the size from which kernel outputs are recycled
  const x = f32(randomNormal(n, prng));
  const dy = f32(randomNormal(n, prng));
  x[3] = NaN;
  x[4] = -Infinity;
  x[5] = Infinity;
  x[6] = 0;
  const relu = x.map((v) => (v !== v ? v : Math.max(v, 0)));
  const grad = x.map((v, i) => (v !== v ? NaN : v > 0 ? dy[i] : 0));
  let kernels: string[] = [];
  await assertNoLeak(async () => {
    const xt = tf.tensor1d(Float32Array.from(x));
    const dyt = tf.tensor1d(Float32Array.from(dy));
    const y = tf.relu(xt);
    const profile = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.relu(t))(xt, dyt));
    kernels = profile.kernels.map((k) => k.name);
    const g = tf.grad((t: tf.Tensor) => tf.relu(t))(xt, dyt);
    const yv = y.dataSync();
    compareSpecials(yv, relu, "relu");
    assertTensorClose(yv, relu, { rtol: 0, atol: 0 }, "relu");
    const gv = g.dataSync();
    compareSpecials(gv, grad, "relu gradient"); // a NaN input gives NaN, as dy * step(x) does
    assertTensorClose(gv, grad, { rtol: 0, atol: 0 }, "relu gradient");
    return [xt, dyt, y, g, profile.result as tf.Tensor];
  });
  assert.ok(kernels.includes("SelfsupReluGrad"), `kernels run: ${kernels}`);
  assert.ok(!kernels.includes("Step"), `kernels run: ${kernels}`);
  // Other backends keep tfjs's gradient.
  await useBackend("cpu", { quiet: true });
  const onCpu = tf.tidy(() =>
    tf.grad((t: tf.Tensor) => tf.relu(t))(
      tf.tensor1d(Float32Array.from(x)),
      tf.tensor1d(Float32Array.from(dy)),
    )
      .dataSync()
  );
  compareSpecials(onCpu, x.map((v, i) => (v !== v ? NaN : v > 0 ? dy[i] : 0)), "cpu");
  assertTensorClose(onCpu, grad, { rtol: 0, atol: 0 }, "cpu relu gradient");
});

Deno.test("native recycles kernel outputs without touching arrays still in use", async () => {
  await useBackend("native", { quiet: true });
  const prng = pcg32(26);
  const n = 50000;
  const a = f32(randomNormal(n, prng));
  const b = f32(randomNormal(n, prng));
  await assertNoLeak(() => {
    const at = tf.tensor1d(Float32Array.from(a));
    const bt = tf.tensor1d(Float32Array.from(b));
    // An array read out with dataSync stays the caller's after the tensor is disposed.
    const sum = tf.add(at, bt);
    const read = sum.dataSync();
    const readCopy = Float64Array.from(read);
    sum.dispose();
    // A view of a kernel output (a simple slice is a subarray on cpu) outlives the output.
    const prod = tf.mul(at, bt);
    const half = tf.slice(prod, [0], [n / 2]);
    prod.dispose();
    // Many same-size outputs made and dropped: each would take a wrongly recycled buffer.
    for (let i = 0; i < 6; i++) {
      tf.tidy(() => {
        tf.sub(tf.mul(at, at), tf.add(bt, at));
      });
    }
    assert.deepEqual(Array.from(read), Array.from(readCopy), "read-back array changed");
    assertTensorClose(half, a.slice(0, n / 2).map((v, i) => v * b[i]), F32, "slice view");
    // Outputs that must start from zero (matMul with k = 0, max-pool gradient) do.
    const empty = tf.tidy(() => tf.matMul(tf.zeros([200, 0]), tf.zeros([0, 100])));
    assertTensorClose(empty, new Float64Array(20000), { rtol: 0, atol: 0 }, "k = 0 matMul");
    return [at, bt, half, empty];
  });
});

Deno.test("native one-pass mean, sum and square gradients match float64 on native and cpu", async () => {
  const prng = pcg32(27);
  const shape = [3, 4, 5, 6];
  const x = f32(randomNormal(360, prng));
  const dyFull = f32(randomNormal(360, prng));
  const cases: number[][] = [[0, 1, 2], [1], [0, 3], [0, 1, 2, 3]];
  for (const backend of ["native", "cpu"] as const) {
    await useBackend(backend, { quiet: true });
    for (const axes of cases) {
      const outShape = shape.filter((_, i) => !axes.includes(i));
      const keptShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const w = f32(randomNormal(outShape.reduce((p, v) => p * v, 1), prng));
      const so = stridesOf(keptShape);
      const count = axes.reduce((p, a) => p * shape[a], 1);
      const sumGrad = new Float64Array(360);
      for (let i = 0; i < 360; i++) {
        const idx = unravel(i, shape);
        sumGrad[i] = w[idx.reduce((o, v, d) => o + (axes.includes(d) ? 0 : v) * so[d], 0)];
      }
      await assertNoLeak(() => {
        const xt = tf.tensor(Float32Array.from(x), shape);
        const wt = tf.tensor(Float32Array.from(w), outShape);
        const gMean = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mean(t, axes), wt)))(xt);
        const gSum = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.sum(t, axes), wt)))(xt);
        const tol = { rtol: 1e-6, atol: 1e-7 };
        assertTensorClose(gMean, sumGrad.map((v) => v / count), tol, `${backend} mean ${axes}`);
        assertTensorClose(gSum, sumGrad, tol, `${backend} sum ${axes}`);
        return [xt, wt, gMean, gSum];
      });
    }
    await assertNoLeak(() => {
      const xt = tf.tensor(Float32Array.from(x), shape);
      const dyt = tf.tensor(Float32Array.from(dyFull), shape);
      const g = tf.grad((t: tf.Tensor) => tf.square(t))(xt, dyt);
      assertTensorClose(g, x.map((v, i) => 2 * v * dyFull[i]), F32, `${backend} square`);
      return [xt, dyt, g];
    });
  }
  await useBackend("native", { quiet: true });
  const xt = tf.tensor(Float32Array.from(x), shape);
  const profile = await tf.profile(() =>
    tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.mean(t, [0, 1]))))(xt)
  );
  const names = profile.kernels.map((k) => k.name);
  tf.dispose([xt, profile.result as tf.Tensor]);
  for (const name of ["SelfsupBroadcastDiv", "SelfsupSquareGrad"]) {
    assert.ok(names.includes(name), `${name} not among ${names}`);
  }
  assert.ok(!names.includes("Fill"), `kernels run: ${names}`);
});

const GEMM_CHILD = `
import { tf, useBackend } from "./backend/mod.ts";
import { registerNativeBackend } from "./backend/native/mod.ts";
const run = () => tf.tidy(() => {
  const x = tf.randomNormal([3, 9, 8, 20], 0, 1, "float32", 1);
  const w = tf.randomNormal([3, 3, 20, 6], 0, 1, "float32", 2);
  const a = tf.randomNormal([2, 37, 19], 0, 1, "float32", 3);
  const b = tf.randomNormal([2, 23, 19], 0, 1, "float32", 4);
  const g = tf.randomNormal([3, 9, 8, 6], 0, 1, "float32", 5);
  const f = (xt, wt) => tf.sum(tf.mul(tf.conv2d(xt, wt, 1, "same"), g));
  const [dx, dw] = tf.grads(f)([x, w]);
  return [tf.conv2d(x, w, 2, "valid"), dx, dw, tf.matMul(a, b, false, true)].map((t) => t.dataSync());
});
await useBackend("cpu", { quiet: true });
const want = run();
await useBackend("native", { quiet: true });
const got = run();
let worst = 0;
want.forEach((v, i) => v.forEach((e, j) => { worst = Math.max(worst, Math.abs(e - got[i][j]) / (1 + Math.abs(e))); }));
console.log(JSON.stringify({ library: (await registerNativeBackend()).library, worst }));
`;

Deno.test("native gives the same convs and matMuls on oneDNN's sgemm and on OpenBLAS", async () => {
  const libraries = Deno.build.os === "linux" ? ["libdnnl.so.2", "libopenblas.so.0"] : [];
  let ran = 0;
  for (const library of libraries) {
    const out = await runChild(GEMM_CHILD, ["-A"], { SELFSUP_BLAS: library });
    const line = out.split("\n").find((l) => l.startsWith("{"));
    if (!line) {
      // This GEMM library is not installed here: the loader must say so (CI installs both).
      assert.match(out, new RegExp(`BackendUnavailableError|${library.replace(/\./g, "\\.")}`));
      requireOrSkip(false, library);
      continue;
    }
    const { library: loaded, worst } = JSON.parse(line);
    assert.equal(loaded, library);
    assert.ok(worst < 1e-4, `${library}: worst relative difference from cpu ${worst}`);
    ran++;
  }
  if (Deno.build.os === "linux") assert.ok(ran > 0, "neither oneDNN nor OpenBLAS loaded");
});

Deno.test("OpenMP's wait policy: passive with a short spin by default, the user's setting kept", () => {
  const names = ["OMP_WAIT_POLICY", "GOMP_SPINCOUNT"];
  const saved = names.map((n) => Deno.env.get(n));
  const set = (values: (string | undefined)[]) =>
    names.forEach((
      n,
      i,
    ) => (values[i] === undefined ? Deno.env.delete(n) : Deno.env.set(n, values[i]!)));
  try {
    set([undefined, undefined]);
    setOpenMpWaitPolicy();
    assert.deepEqual(names.map((n) => Deno.env.get(n)), ["PASSIVE", String(OMP_SPIN_COUNT)]);
    assert.ok(OMP_SPIN_COUNT > 0 && OMP_SPIN_COUNT <= 100_000, "a spin of at most ~1 ms");
    for (const user of [["ACTIVE", undefined], [undefined, "0"], ["PASSIVE", "5"]]) {
      set(user);
      setOpenMpWaitPolicy();
      assert.deepEqual(names.map((n) => Deno.env.get(n)), user, `user's ${user}`);
    }
  } finally {
    set(saved);
  }
});
