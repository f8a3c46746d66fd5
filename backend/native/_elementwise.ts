/**
 * Broadcasting binary ops, unary ops, reductions and `Tile` on float32 data, replacing the cpu
 * backend's per-element index arithmetic (its broadcasting `Multiply` costs seconds per training
 * step) with collapsed-dimension loops specialized per op.
 *
 * @module
 */
import { dnnlReluGrad, MIN_DNNL_ELEMENTS } from "./_dnnl_eltwise.ts";
import { dnnlOrUndefined } from "./_dnnl.ts";
import { dnnlGlobalAvgPoolBackward } from "./_dnnl_pool.ts";
import { tf } from "../tf.ts";
import { allocF32 } from "./_buffers.ts";
import { type CpuLikeBackend, f32, type KernelFn } from "./_util.ts";

type BinaryLoop = (
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  dims: number[],
  sa: number[],
  sb: number[],
) => void;

/** Builds a monomorphic broadcasting loop for the expression `expr` of `x` and `y`. */
function binaryLoop(expr: string): BinaryLoop {
  // One generated function per op keeps the inner loops monomorphic (no closure call per element).
  return new Function(
    "a",
    "b",
    "out",
    "dims",
    "sa",
    "sb",
    `
    const k = dims.length;
    if (k === 0) { const x = a[0], y = b[0]; out[0] = ${expr}; return; }
    const inner = dims[k - 1], ia = sa[k - 1], ib = sb[k - 1];
    const idx = new Int32Array(k);
    let ao = 0, bo = 0;
    for (let o = 0; o < out.length; o += inner) {
      if (ia !== 0 && ib !== 0) {
        for (let j = 0; j < inner; j++) { const x = a[ao + j], y = b[bo + j]; out[o + j] = ${expr}; }
      } else if (ia !== 0) {
        const y = b[bo];
        for (let j = 0; j < inner; j++) { const x = a[ao + j]; out[o + j] = ${expr}; }
      } else {
        const x = a[ao];
        for (let j = 0; j < inner; j++) { const y = b[bo + j]; out[o + j] = ${expr}; }
      }
      for (let d = k - 2; d >= 0; d--) {
        idx[d]++; ao += sa[d]; bo += sb[d];
        if (idx[d] < dims[d]) break;
        ao -= sa[d] * dims[d]; bo -= sb[d] * dims[d]; idx[d] = 0;
      }
    }
    `,
  ) as BinaryLoop;
}

/** Float32 binary ops the native backend runs, as JS expressions of `x` and `y`. */
export const BINARY_OPS: Record<string, string> = {
  Add: "x + y",
  Sub: "x - y",
  Multiply: "x * y",
  RealDiv: "x / y",
  Maximum: "(x > y || x !== x) ? x : y",
  Minimum: "(x < y || x !== x) ? x : y",
  SquaredDifference: "(x - y) * (x - y)",
};

/**
 * Collapses a broadcast of `aShape` and `bShape` to the fewest dimensions: adjacent dimensions
 * broadcast the same way merge; size-1 output dimensions drop. Returns element strides (0 where
 * an operand is broadcast), or `undefined` when the shapes do not broadcast.
 */
export function collapseBroadcast(aShape: readonly number[], bShape: readonly number[]):
  | { outShape: number[]; dims: number[]; sa: number[]; sb: number[] }
  | undefined {
  const rank = Math.max(aShape.length, bShape.length);
  const outShape: number[] = [];
  const dims: number[] = [];
  const fa: boolean[] = [];
  const fb: boolean[] = [];
  for (let i = 0; i < rank; i++) {
    const da = aShape[aShape.length - rank + i] ?? 1;
    const db = bShape[bShape.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    const d = da === 1 ? db : da;
    outShape.push(d);
    if (d === 1) continue;
    const af = da === d;
    const bf = db === d;
    const last = dims.length - 1;
    if (last >= 0 && fa[last] === af && fb[last] === bf) dims[last] *= d;
    else {
      dims.push(d);
      fa.push(af);
      fb.push(bf);
    }
  }
  const sa = new Array<number>(dims.length);
  const sb = new Array<number>(dims.length);
  let ra = 1;
  let rb = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    sa[i] = fa[i] ? ra : 0;
    sb[i] = fb[i] ? rb : 0;
    if (fa[i]) ra *= dims[i];
    if (fb[i]) rb *= dims[i];
  }
  return { outShape, dims, sa, sb };
}

/** A float32 broadcasting binary kernel for `expr`; other dtypes go to `fallback`. */
export function makeBinary(expr: string, fallback: KernelFn): KernelFn {
  const loop = binaryLoop(expr);
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { a, b } = args.inputs;
    const av = f32(backend, a);
    const bv = f32(backend, b);
    if (!av || !bv) return fallback(args);
    const plan = collapseBroadcast(a!.shape, b!.shape);
    if (!plan) return fallback(args);
    const out = allocF32(plan.outShape.reduce((p, v) => p * v, 1));
    if (out.length > 0) loop(av, bv, out, plan.dims, plan.sa, plan.sb);
    return backend.makeTensorInfo(plan.outShape, "float32", out);
  };
}

/**
 * Float32 unary ops, as JS expressions of `x` (`alpha` is the kernel's attribute, if any; `y` is a
 * scratch variable). Relu and Step select by multiplying with `+(x > 0)`: a data-dependent branch
 * mispredicts on half of the elements of real activations and costs 4-5x the arithmetic. The
 * remaining branches (NaN, -Infinity) are almost never taken.
 */
export const UNARY_OPS: Record<string, string> = {
  Relu: "(y = x * +(x > 0)) === y ? y : (x === x ? 0 : x)",
  Step: "x === x ? alpha + (1 - alpha) * +(x > 0) : x",
  Neg: "-x",
  Square: "x * x",
  Sqrt: "Math.sqrt(x)",
  Rsqrt: "1 / Math.sqrt(x)",
  Exp: "Math.exp(x)",
  Abs: "Math.abs(x)",
};

/** A float32 unary kernel for `expr`; other dtypes go to `fallback`. */
export function makeUnary(expr: string, fallback: KernelFn): KernelFn {
  const loop = new Function(
    "v",
    "out",
    "alpha",
    `let y = 0; for (let i = 0; i < v.length; i++) { const x = v[i]; out[i] = ${expr}; } return y;`,
  ) as (v: Float32Array, out: Float32Array, alpha: number) => void;
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { x } = args.inputs;
    const v = f32(backend, x);
    if (!v) return fallback(args);
    const out = allocF32(v.length);
    loop(v, out, ((args.attrs ?? {}) as { alpha?: number }).alpha ?? 0);
    return backend.makeTensorInfo(x!.shape.slice(), "float32", out);
  };
}

/**
 * Sums (or averages) float32 `x` over `axes` without transposing: the shape collapses to
 * alternating kept/reduced runs and one pass accumulates in float64.
 */
function reduceSum(x: Float32Array, shape: readonly number[], axes: number[], mean: boolean) {
  const reduced = new Set(axes);
  const dims: number[] = [];
  const red: boolean[] = [];
  let outSize = 1;
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    const r = reduced.has(i);
    if (r) count *= d;
    else outSize *= d;
    if (d === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && red[last] === r) dims[last] *= d;
    else {
      dims.push(d);
      red.push(r);
    }
  }
  const acc = new Float64Array(outSize);
  const k = dims.length;
  if (x.length > 0) {
    if (k === 0) acc[0] = x[0];
    else {
      // Output strides: 0 along reduced runs.
      const so = new Array<number>(k);
      let r = 1;
      for (let i = k - 1; i >= 0; i--) {
        so[i] = red[i] ? 0 : r;
        if (!red[i]) r *= dims[i];
      }
      const inner = dims[k - 1];
      const innerReduced = red[k - 1];
      const idx = new Int32Array(k);
      let o = 0;
      for (let i = 0; i < x.length; i += inner) {
        if (innerReduced) {
          let s = 0;
          for (let j = 0; j < inner; j++) s += x[i + j];
          acc[o] += s;
        } else {
          for (let j = 0; j < inner; j++) acc[o + j] += x[i + j];
        }
        for (let d = k - 2; d >= 0; d--) {
          idx[d]++;
          o += so[d];
          if (idx[d] < dims[d]) break;
          o -= so[d] * dims[d];
          idx[d] = 0;
        }
      }
    }
  }
  const out = allocF32(outSize);
  const scale = mean ? 1 / count : 1;
  for (let i = 0; i < outSize; i++) out[i] = acc[i] * scale;
  return out;
}

/** `Sum` or `Mean` over any axes for float32 input. */
export function makeReduce(mean: boolean, fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { x } = args.inputs;
    const v = f32(backend, x);
    if (!v) return fallback(args);
    const { axis, keepDims = false } = (args.attrs ?? {}) as {
      axis: number | number[];
      keepDims?: boolean;
    };
    const axes = tf.util.parseAxisParam(axis, x!.shape);
    const out = reduceSum(v, x!.shape, axes, mean);
    const shape = keepDims
      ? x!.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x!.shape.filter((_, i) => !axes.includes(i));
    return backend.makeTensorInfo(shape, "float32", out);
  };
}

/** `Tile` of float32 data by block copies that double in size. */
export function makeTile(fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { x } = args.inputs;
    const v = f32(backend, x);
    const { reps } = (args.attrs ?? {}) as { reps: number[] };
    if (!v || reps.length !== x!.shape.length) return fallback(args);
    const shape = x!.shape;
    const outShape = shape.map((d, i) => d * reps[i]);
    const out = allocF32(outShape.reduce((p, d) => p * d, 1));
    if (out.length === 0) return backend.makeTensorInfo(outShape, "float32", out);
    const rank = shape.length;
    // outBlock[i]: floats of one tiled slab below dimension i (the output's stride at i).
    const outBlock = new Array<number>(rank + 1);
    const inBlock = new Array<number>(rank + 1);
    outBlock[rank] = 1;
    inBlock[rank] = 1;
    for (let i = rank - 1; i >= 0; i--) {
      outBlock[i] = outBlock[i + 1] * outShape[i];
      inBlock[i] = inBlock[i + 1] * shape[i];
    }
    const fill = (dim: number, inOff: number, outOff: number) => {
      if (dim === rank) {
        out[outOff] = v[inOff];
        return;
      }
      const unit = shape[dim] * outBlock[dim + 1]; // one copy of the untiled extent
      if (dim === rank - 1) out.set(v.subarray(inOff, inOff + shape[dim]), outOff);
      else {
        for (let i = 0; i < shape[dim]; i++) {
          fill(dim + 1, inOff + i * inBlock[dim + 1], outOff + i * outBlock[dim + 1]);
        }
      }
      let have = 1;
      while (have < reps[dim]) {
        const n = Math.min(have, reps[dim] - have);
        out.copyWithin(outOff + have * unit, outOff, outOff + n * unit);
        have += n;
      }
    };
    fill(0, 0, 0);
    return backend.makeTensorInfo(outShape, "float32", out);
  };
}

/** The native-only kernel for the gradient of `Relu`: `dy * step(x)` in one pass. */
export const RELU_GRAD = "SelfsupReluGrad";

/**
 * `SelfsupReluGrad`: inputs `dy` and `x` of one shape; returns `dy` where `x > 0`, 0 elsewhere and
 * NaN where `x` is NaN, as tfjs's `dy * step(x)` does.
 */
export function reluGrad(args: Parameters<KernelFn>[0]): tf.TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const { dy, x } = args.inputs;
  const fast = dnnlReluGrad(backend, dy!, x!);
  if (fast) return backend.makeTensorInfo(x!.shape.slice(), "float32", fast);
  const g = f32(backend, dy)!;
  const v = f32(backend, x)!;
  const out = allocF32(v.length);
  for (let i = 0; i < v.length; i++) {
    const xi = v[i];
    out[i] = xi === xi ? g[i] * +(xi > 0) : xi;
  }
  return backend.makeTensorInfo(x!.shape.slice(), "float32", out);
}

/** The native-only kernel behind the `Mean` and `Sum` gradients. */
export const BROADCAST_DIV = "SelfsupBroadcastDiv";

/** `out = a / divisor` with `a` read through the collapsed strides `sa` (0 where broadcast). */
function divInto(
  a: Float32Array,
  divisor: number,
  out: Float32Array,
  dims: number[],
  sa: number[],
) {
  const k = dims.length;
  if (k === 0) {
    out[0] = a[0] / divisor;
    return;
  }
  const inner = dims[k - 1];
  const ia = sa[k - 1];
  if (k === 2 && sa[0] === 0) {
    // One row repeated (a per-channel vector over every pixel): fill one, then double by copies.
    for (let j = 0; j < inner; j++) out[j] = a[ia * j] / divisor;
    for (let have = inner; have < out.length; have *= 2) {
      out.copyWithin(have, 0, Math.min(have, out.length - have));
    }
    return;
  }
  const idx = new Int32Array(k);
  let ao = 0;
  for (let o = 0; o < out.length; o += inner) {
    if (ia !== 0) { for (let j = 0; j < inner; j++) out[o + j] = a[ao + j] / divisor; }
    else out.fill(a[ao] / divisor, o, o + inner);
    for (let d = k - 2; d >= 0; d--) {
      idx[d]++;
      ao += sa[d];
      if (idx[d] < dims[d]) break;
      ao -= sa[d] * dims[d];
      idx[d] = 0;
    }
  }
}

/**
 * `SelfsupBroadcastDiv`: input `x` broadcast to the attribute `shape` and divided by `divisor`, in
 * one pass (tfjs's `Mean` gradient makes a tensor of ones, multiplies and divides: three).
 */
export function broadcastDiv(args: Parameters<KernelFn>[0]): tf.TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const { x } = args.inputs;
  const { shape, divisor } = args.attrs as { shape: number[]; divisor: number };
  const v = f32(backend, x)!;
  const plan = collapseBroadcast(x!.shape, shape);
  if (!plan || plan.outShape.some((d, i) => d !== shape[i])) {
    throw new TypeError(
      `Cannot broadcast: shape [${x!.shape}] does not broadcast to [${shape}]`,
    );
  }
  const d = dnnlOrUndefined();
  const size = shape.reduce((p, d) => p * d, 1);
  if (
    d && shape.length === 4 && size >= MIN_DNNL_ELEMENTS && x!.shape[1] === 1 &&
    x!.shape[2] === 1 && x!.shape[0] === shape[0] && x!.shape[3] === shape[3] &&
    divisor === shape[1] * shape[2]
  ) {
    // A global average pool's gradient: oneDNN's average-pooling backward (parallel).
    const dx = dnnlGlobalAvgPoolBackward(d, v, shape[0], shape[1], shape[2], shape[3]);
    return backend.makeTensorInfo(shape.slice(), "float32", dx);
  }
  const out = allocF32(size);
  // float32 division, as tfjs divides by a float32 scalar
  if (out.length > 0) divInto(v, Math.fround(divisor), out, plan.dims, plan.sa);
  return backend.makeTensorInfo(shape.slice(), "float32", out);
}

/** The native-only kernel for the gradient of `Square`: `dy * 2x` in one pass. */
export const SQUARE_GRAD = "SelfsupSquareGrad";
