/**
 * Elementwise kernels as oneDNN primitives (parallel, vectorized) where tfjs's results are kept
 * exactly: `Relu` and its gradient, and same-shape `Add` (gradient accumulation, residuals).
 *
 * oneDNN's ReLU maps NaN to 0 (and its gradient passes `dy` where `x` is NaN), while tfjs keeps
 * NaN; so the ReLU kernels first sum `x` with a oneDNN reduction (a read-only parallel
 * pass) and hand anything non-finite to the JavaScript kernels, which keep tfjs's semantics.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { dnnlGlobalAvgPool } from "./_dnnl_pool.ts";
import { reluOfBatchNorm } from "./_bn_relu.ts";
import { allocF32 } from "./_buffers.ts";
import { ALG, ARG, type Dnnl, dnnlOrUndefined, type Primitive, PROP, TAG } from "./_dnnl.ts";
import { type CpuLikeBackend, f32, type KernelFn } from "./_util.ts";

/** Below this many elements the JavaScript passes are as fast (FFI and thread start-up). */
export const MIN_DNNL_ELEMENTS = 1 << 15;

function flat(d: Dnnl, n: number): Uint8Array<ArrayBuffer> {
  return d.memoryDesc([n], TAG.a);
}

const sumOut = new Float32Array(1);

/** Whether every value of `x` is finite (the sum is; a huge finite sum may say no: fall back). */
function allFinite(d: Dnnl, x: Float32Array): boolean {
  const p = d.cached(`sum all ${x.length}`, () => {
    const op = d.opDesc();
    d.check(
      d.symbols.dnnl_reduction_desc_init(
        op,
        ALG.reductionSum,
        flat(d, x.length),
        d.memoryDesc([1], TAG.a),
        0,
        0,
      ),
      "dnnl_reduction_desc_init",
    );
    return d.primitive(op, { what: "sum all" });
  });
  p.execute({ [ARG.src]: x, [ARG.dst]: sumOut });
  return Number.isFinite(sumOut[0]);
}

function reluForward(d: Dnnl, n: number): Primitive {
  return d.cached(`relu fwd ${n}`, () => {
    const op = d.opDesc();
    d.check(
      d.symbols.dnnl_eltwise_forward_desc_init(
        op,
        PROP.forwardTraining,
        ALG.eltwiseRelu,
        flat(d, n),
        0,
        0,
      ),
      "dnnl_eltwise_forward_desc_init",
    );
    return d.primitive(op, { what: "relu fwd" });
  });
}

/** `max(x, 0)` for finite `x`, else `undefined` (the caller keeps tfjs's NaN semantics). */
export function dnnlRelu(d: Dnnl, x: Float32Array): Float32Array | undefined {
  if (!allFinite(d, x)) return undefined;
  const y = allocF32(x.length);
  reluForward(d, x.length).execute({ [ARG.src]: x, [ARG.dst]: y });
  return y;
}

/** `dy * step(x)` for finite `x`, else `undefined`. */
export function dnnlReluBackward(
  d: Dnnl,
  dy: Float32Array,
  x: Float32Array,
): Float32Array | undefined {
  // Only x needs the check: oneDNN's backward multiplies dy (by 1 or 0), so a non-finite dy gives
  // NaN where x <= 0 as tfjs's dy * step(x) does (the tests plant a NaN dy).
  if (!allFinite(d, x)) return undefined;
  const n = x.length;
  const p = d.cached(`relu bwd ${n}`, () => {
    const op = d.opDesc();
    const md = flat(d, n);
    d.check(
      d.symbols.dnnl_eltwise_backward_desc_init(op, ALG.eltwiseRelu, md, md, 0, 0),
      "dnnl_eltwise_backward_desc_init",
    );
    return d.primitive(op, { hint: reluForward(d, n), what: "relu bwd" });
  });
  const dx = allocF32(n);
  p.execute({ [ARG.src]: x, [ARG.diffDst]: dy, [ARG.diffSrc]: dx });
  return dx;
}

function leakyForward(d: Dnnl, n: number, alpha: number): Primitive {
  return d.cached(`leaky relu fwd ${n} ${alpha}`, () => {
    const op = d.opDesc();
    d.check(
      d.symbols.dnnl_eltwise_forward_desc_init(
        op,
        PROP.forwardTraining,
        ALG.eltwiseRelu,
        flat(d, n),
        alpha,
        0,
      ),
      "dnnl_eltwise_forward_desc_init",
    );
    return d.primitive(op, { what: "leaky relu fwd" });
  });
}

/**
 * `x > 0 ? x : alpha * x` (tfjs's `LeakyRelu`, NaN kept: oneDNN's ReLU with a non-zero slope
 * multiplies where `x > 0` is false, so NaN stays NaN); `alpha` must not be 0 (that is `Relu`,
 * whose oneDNN kernel maps NaN to 0).
 */
export function dnnlLeakyRelu(d: Dnnl, x: Float32Array, alpha: number): Float32Array {
  const y = allocF32(x.length);
  leakyForward(d, x.length, alpha).execute({ [ARG.src]: x, [ARG.dst]: y });
  return y;
}

/** `x > 0 ? dy : alpha * dy`, tfjs's `LeakyRelu` gradient, for finite `x`. */
export function dnnlLeakyReluBackward(
  d: Dnnl,
  dy: Float32Array,
  x: Float32Array,
  alpha: number,
): Float32Array {
  const n = x.length;
  const p = d.cached(`leaky relu bwd ${n} ${alpha}`, () => {
    const op = d.opDesc();
    const md = flat(d, n);
    d.check(
      d.symbols.dnnl_eltwise_backward_desc_init(op, ALG.eltwiseRelu, md, md, alpha, 0),
      "dnnl_eltwise_backward_desc_init",
    );
    return d.primitive(op, { hint: leakyForward(d, n, alpha), what: "leaky relu bwd" });
  });
  const dx = allocF32(n);
  p.execute({ [ARG.src]: x, [ARG.diffDst]: dy, [ARG.diffSrc]: dx });
  return dx;
}

/** The `SelfsupLeakyReluGrad` kernel: inputs `dy`, `x`, attr `alpha`; as tfjs's gradient. */
export const LEAKY_RELU_GRAD = "SelfsupLeakyReluGrad";

/** {@linkcode LEAKY_RELU_GRAD}: oneDNN above {@linkcode MIN_DNNL_ELEMENTS}, else one JS pass. */
export const leakyReluGrad: KernelFn = (args) => {
  const backend = args.backend as CpuLikeBackend;
  const { dy, x } = args.inputs;
  const alpha = Math.fround((args.attrs as { alpha: number }).alpha);
  const g = f32(backend, dy)!;
  const v = f32(backend, x)!;
  const d = dnnlOrUndefined();
  // oneDNN's backward passes dy where x is NaN (tfjs: alpha * dy): non-finite x takes the JS pass.
  if (d && v.length >= MIN_DNNL_ELEMENTS && alpha !== 0 && allFinite(d, v)) {
    return backend.makeTensorInfo(
      x!.shape.slice(),
      "float32",
      dnnlLeakyReluBackward(d, g, v, alpha),
    );
  }
  const out = allocF32(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] > 0 ? g[i] : Math.fround(g[i] * alpha);
  return backend.makeTensorInfo(x!.shape.slice(), "float32", out);
};

/** `a + b` for two float32 arrays of one length. */
export function dnnlAdd(d: Dnnl, a: Float32Array, b: Float32Array): Float32Array {
  return dnnlBinary(d, ALG.binaryAdd, a, b);
}

/**
 * `big op small` where `small` (length dividing `big`'s) repeats along `big`'s leading elements:
 * `small` is a scalar, the same length, or `big`'s trailing dimensions (a bias, a per-channel
 * scale). One oneDNN binary primitive (parallel; float32 add, sub and mul round as tfjs's JS
 * passes do).
 */
export function dnnlBinary(
  d: Dnnl,
  alg: number,
  big: Float32Array,
  small: Float32Array,
): Float32Array {
  const n = big.length;
  const inner = small.length;
  const p = d.cached(`binary ${alg} ${n} ${inner}`, () => {
    const op = d.opDesc();
    // A scalar as 1-D [1] against [n]: as [n, 1] x [1, 1] oneDNN's jit walked one element per
    // row (measured 385 ms against 90 ms for the JS pass on 2.4M elements).
    const md0 = inner === 1 ? flat(d, n) : d.memoryDesc([n / inner, inner], TAG.ab);
    const md1 = inner === 1 ? flat(d, 1) : d.memoryDesc([1, inner], TAG.ab);
    d.check(
      d.symbols.dnnl_binary_desc_init(op, alg, md0, md1, md0),
      "dnnl_binary_desc_init",
    );
    return d.primitive(op, { what: `binary ${alg}` });
  });
  const c = allocF32(n);
  p.execute({ [ARG.src]: big, [ARG.src1]: small, [ARG.dst]: c });
  return c;
}

/** oneDNN binary algorithms for tfjs kernels, and whether the operands may swap. */
const BINARY: Record<string, { alg: number; commutes: boolean }> = {
  Add: { alg: ALG.binaryAdd, commutes: true },
  Multiply: { alg: ALG.binaryMul, commutes: true },
  Sub: { alg: ALG.binarySub, commutes: false },
};

/** Whether `small`, without leading 1s, is empty (a scalar) or the trailing dims of `big`. */
function repeatsAlong(big: readonly number[], small: readonly number[]): boolean {
  let i = 0;
  while (i < small.length && small[i] === 1) i++;
  const tail = small.slice(i);
  if (tail.length > big.length || small.length > big.length) return false;
  const off = big.length - tail.length;
  return tail.every((v, j) => v === big[off + j]);
}

/**
 * Wraps the native `Relu`, `LeakyRelu`, `Add`, `Sub` and `Multiply` kernels with their oneDNN
 * versions for large float32 inputs (for the binary ops: one full-size operand, the other a scalar,
 * the same shape or its trailing dimensions), and `Mean` over axes 1 and 2 of NHWC data (a global average pool) with
 * oneDNN's average pooling; other kernels are returned as they are.
 */
export function withDnnlElementwise(kernelName: string, kernel: KernelFn): KernelFn {
  if (kernelName === "Relu") {
    return (args) => {
      const backend = args.backend as CpuLikeBackend;
      const x = args.inputs.x!;
      // A batch norm's output: its ReLU may have been computed with it (fused).
      const fused = reluOfBatchNorm(backend, x);
      if (fused) return fused;
      const xv = f32(backend, x);
      const d = dnnlOrUndefined();
      if (d && xv && xv.length >= MIN_DNNL_ELEMENTS) {
        const y = dnnlRelu(d, xv);
        if (y) return backend.makeTensorInfo(x.shape.slice(), "float32", y);
      }
      return kernel(args);
    };
  }
  if (kernelName in BINARY) {
    const { alg, commutes } = BINARY[kernelName];
    return (args) => {
      const backend = args.backend as CpuLikeBackend;
      const { a, b } = args.inputs;
      const av = f32(backend, a);
      const bv = f32(backend, b);
      const d = dnnlOrUndefined();
      if (d && av && bv) {
        // a full-size, b repeating along it; or (add, mul) the other way round.
        const order = av.length >= MIN_DNNL_ELEMENTS && repeatsAlong(a!.shape, b!.shape)
          ? [av, bv]
          : commutes && bv.length >= MIN_DNNL_ELEMENTS && repeatsAlong(b!.shape, a!.shape)
          ? [bv, av]
          : undefined;
        if (order) {
          const shape = (order[0] === av ? a! : b!).shape.slice();
          return backend.makeTensorInfo(shape, "float32", dnnlBinary(d, alg, order[0], order[1]));
        }
      }
      return kernel(args);
    };
  }
  if (kernelName === "LeakyRelu") {
    return (args) => {
      const backend = args.backend as CpuLikeBackend;
      const x = args.inputs.x!;
      const xv = f32(backend, x);
      const alpha = Math.fround((args.attrs as { alpha: number }).alpha);
      const d = dnnlOrUndefined();
      if (d && xv && xv.length >= MIN_DNNL_ELEMENTS && alpha !== 0 && Number.isFinite(alpha)) {
        return backend.makeTensorInfo(x.shape.slice(), "float32", dnnlLeakyRelu(d, xv, alpha));
      }
      return kernel(args);
    };
  }
  if (kernelName === "Mean") {
    return (args) => {
      const backend = args.backend as CpuLikeBackend;
      const x = args.inputs.x!;
      const xv = f32(backend, x);
      const d = dnnlOrUndefined();
      if (d && xv && x.shape.length === 4 && xv.length >= MIN_DNNL_ELEMENTS) {
        const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims?: boolean };
        const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
        if (axes.length === 2 && axes[0] === 1 && axes[1] === 2) {
          // A global average pool (NHWC): oneDNN's average pooling over the whole plane.
          const [n, h, w, c] = x.shape;
          const y = dnnlGlobalAvgPool(d, xv, n, h, w, c);
          return backend.makeTensorInfo(keepDims ? [n, 1, 1, c] : [n, c], "float32", y);
        }
      }
      return kernel(args);
    };
  }
  return kernel;
}

/** The `SelfsupReluGrad` kernel's oneDNN path: the gradient, or `undefined` to run the JS pass. */
export function dnnlReluGrad(backend: CpuLikeBackend, dy: tf.TensorInfo, x: tf.TensorInfo) {
  const d = dnnlOrUndefined();
  const g = f32(backend, dy);
  const v = f32(backend, x);
  if (!d || !g || !v || v.length < MIN_DNNL_ELEMENTS || g.length !== v.length) return undefined;
  return dnnlReluBackward(d, g, v);
}
