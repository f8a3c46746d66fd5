/**
 * Batch norm on the native backend: a one-pass `FusedBatchNorm` forward, and a one-pass gradient
 * kernel (`SelfsupFusedBatchNormGrad`) that replaces tfjs's gradient (a `Tile` and nine full-size
 * elementwise ops) when the backend is `native`. Gradients are registered per kernel name for
 * every backend, so the override delegates to tfjs's own gradient everywhere else.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { allocF32 } from "./_buffers.ts";
import { dnnlOrUndefined } from "./_dnnl.ts";
import { dnnlBatchNormBackward, dnnlBatchNormForward } from "./_dnnl_batch_norm.ts";
import { batchNormTraining, fusedReluGradient } from "./_bn_relu.ts";
import type { NativeGradient } from "./_gradients.ts";
import { areBatchMoments, arePendingBatchMoments, knownZeros } from "./_lineage.ts";
import { type CpuLikeBackend, f32, type KernelFn } from "./_util.ts";

/** The native-only kernel computing every batch-norm input gradient in one pass. */
export const BATCH_NORM_GRAD = "SelfsupFusedBatchNormGrad";

/**
 * The native-only kernel for training-mode batch norm (mean and variance are `tf.moments` of `x`):
 * outputs `[dx, dscale, doffset]` from one oneDNN primitive, `dx` including the paths through the
 * batch statistics.
 */
export const BATCH_NORM_TRAIN_GRAD = "SelfsupBatchNormTrainGrad";

/** Per-channel parameters as Float32Arrays of length `c`, or `undefined` when they are not. */
function perChannel(
  backend: CpuLikeBackend,
  c: number,
  ...ts: (tf.TensorInfo | undefined)[]
): (Float32Array | undefined)[] | undefined {
  const out: (Float32Array | undefined)[] = [];
  for (const t of ts) {
    if (!t) {
      out.push(undefined);
      continue;
    }
    const v = f32(backend, t);
    if (!v || v.length !== c || t.shape.length !== 1) return undefined;
    out.push(v);
  }
  return out;
}

/** The `FusedBatchNorm` kernel: `(x - mean) * scale / sqrt(variance + eps) + offset`. */
export function makeFusedBatchNorm(fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { x, mean, variance, offset, scale } = args.inputs;
    const eps0 = ((args.attrs ?? {}) as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001;
    const d = dnnlOrUndefined();
    if (
      d && x && mean && variance && x.dtype === "float32" &&
      arePendingBatchMoments(x.dataId as object, mean.dataId as object, variance.dataId as object)
    ) {
      // Training mode, statistics not read yet: one primitive computes them and normalizes.
      const c = x.shape[x.shape.length - 1];
      const [o, s] = perChannel(backend, c, offset, scale) ?? [];
      const xv = f32(backend, x);
      if (xv && (offset == null || o) && (scale == null || s)) {
        return batchNormTraining(
          d,
          backend,
          { x, mean, variance, scale, offset },
          { x: xv, scale: s, offset: o },
          eps0,
        );
      }
    }
    const xv = f32(backend, x);
    const c = x?.shape[x.shape.length - 1] ?? 0;
    const params = xv && c > 0 ? perChannel(backend, c, mean, variance, offset, scale) : undefined;
    if (!xv || !params || !params[0] || !params[1]) return fallback(args);
    const [m, v, o, s] = params as [Float32Array, Float32Array, Float32Array?, Float32Array?];
    const eps = ((args.attrs ?? {}) as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001;
    const dnnl = dnnlOrUndefined();
    if (dnnl) {
      const y = dnnlBatchNormForward(dnnl, xv, x!.shape, m, v, eps, s, o);
      return backend.makeTensorInfo(x!.shape.slice(), "float32", y);
    }
    const a = new Float64Array(c);
    const b = new Float64Array(c);
    for (let j = 0; j < c; j++) {
      a[j] = (s ? s[j] : 1) / Math.sqrt(v[j] + eps);
      b[j] = (o ? o[j] : 0) - m[j] * a[j];
    }
    const out = allocF32(xv.length);
    for (let i = 0; i < xv.length; i += c) {
      for (let j = 0; j < c; j++) out[i + j] = xv[i + j] * a[j] + b[j];
    }
    return backend.makeTensorInfo(x!.shape.slice(), "float32", out);
  };
}

/**
 * `SelfsupFusedBatchNormGrad`: inputs `dy`, `x`, `mean`, `variance`, `scale` (optional), all
 * per-channel over the last axis; outputs `[dx, dmean, dvariance, dscale, doffset]` as tfjs's
 * FusedBatchNorm gradient defines them (mean and variance are treated as inputs).
 */
export function batchNormGrad(args: Parameters<KernelFn>[0]): tf.TensorInfo[] {
  const backend = args.backend as CpuLikeBackend;
  const { dy, x, mean, variance, scale } = args.inputs;
  const xv = f32(backend, x)!;
  const dyv = f32(backend, dy)!;
  const c = x!.shape[x!.shape.length - 1];
  const [m, v, s] = perChannel(backend, c, mean, variance, scale)!;
  const eps = ((args.attrs ?? {}) as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001;
  const r = new Float64Array(c);
  const k = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    r[j] = 1 / Math.sqrt(v![j] + eps);
    k[j] = (s ? s[j] : 1) * r[j];
  }
  const sumDy = new Float64Array(c);
  const sumDyXm = new Float64Array(c);
  const dx = allocF32(xv.length);
  for (let i = 0; i < xv.length; i += c) {
    for (let j = 0; j < c; j++) {
      const g = dyv[i + j];
      sumDy[j] += g;
      sumDyXm[j] += g * (xv[i + j] - m![j]);
      dx[i + j] = g * k[j];
    }
  }
  const dmean = new Float32Array(c);
  const dvar = new Float32Array(c);
  const dscale = new Float32Array(c);
  const doffset = new Float32Array(c);
  for (let j = 0; j < c; j++) {
    const sc = s ? s[j] : 1;
    dmean[j] = -k[j] * sumDy[j];
    dvar[j] = -0.5 * r[j] * r[j] * r[j] * sc * sumDyXm[j];
    dscale[j] = r[j] * sumDyXm[j];
    doffset[j] = sumDy[j];
  }
  return [
    backend.makeTensorInfo(x!.shape.slice(), "float32", dx),
    backend.makeTensorInfo([c], "float32", dmean),
    backend.makeTensorInfo([c], "float32", dvar),
    backend.makeTensorInfo([c], "float32", dscale),
    backend.makeTensorInfo([c], "float32", doffset),
  ];
}

/**
 * Below this many elements the training-mode gradient runs as two JS passes: measured at load ~17
 * on 2 cores, oneDNN's nhwc kernel took 41 ms on [128, 7, 7, 64] against 2.5 ms for the passes
 * (its threads wait for a busy core), tied at [128, 14, 14, 32] and won from [128, 28, 28, 16]
 * (32 against 61 ms).
 */
const DNNL_BN_MIN_ELEMENTS = 1 << 19;

/** The training-mode batch-norm gradient in two passes (sums in float64). */
function trainGradJs(
  x: Float32Array,
  dy: Float32Array,
  mean: Float32Array,
  variance: Float32Array,
  eps: number,
  scale?: Float32Array,
): { dx: Float32Array; dscale: Float32Array; doffset: Float32Array } {
  const c = mean.length;
  const rows = x.length / c;
  const sumDy = new Float64Array(c);
  const sumDyXm = new Float64Array(c);
  for (let i = 0; i < x.length; i += c) {
    for (let j = 0; j < c; j++) {
      const g = dy[i + j];
      sumDy[j] += g;
      sumDyXm[j] += g * (x[i + j] - mean[j]);
    }
  }
  // dx = scale * r * (dy - sumDy / rows - (x - mean) * r^2 * sumDyXm / rows)
  const k = new Float64Array(c);
  const a = new Float64Array(c);
  const b = new Float64Array(c);
  const dscale = new Float32Array(c);
  const doffset = new Float32Array(c);
  for (let j = 0; j < c; j++) {
    const r = 1 / Math.sqrt(variance[j] + eps);
    k[j] = (scale ? scale[j] : 1) * r;
    a[j] = sumDy[j] / rows;
    b[j] = (r * r * sumDyXm[j]) / rows;
    dscale[j] = r * sumDyXm[j];
    doffset[j] = sumDy[j];
  }
  const dx = allocF32(x.length);
  for (let i = 0; i < x.length; i += c) {
    for (let j = 0; j < c; j++) {
      dx[i + j] = k[j] * (dy[i + j] - a[j] - (x[i + j] - mean[j]) * b[j]);
    }
  }
  return { dx, dscale, doffset };
}

/** `SelfsupBatchNormTrainGrad`: inputs `dy`, `x`, `mean`, `variance`, `scale` (optional). */
export function batchNormTrainGrad(args: Parameters<KernelFn>[0]): tf.TensorInfo[] {
  const backend = args.backend as CpuLikeBackend;
  const { dy, x, mean, variance, scale } = args.inputs;
  const c = x!.shape[x!.shape.length - 1];
  const [m, v, s] = perChannel(backend, c, mean, variance, scale)!;
  const eps = ((args.attrs ?? {}) as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001;
  const xv = f32(backend, x)!;
  // dy the pending ReLU gradient of this batch norm's fused output: one fused backward.
  const relu = fusedReluGradient(backend, dy!, x!);
  if (relu) {
    const r = dnnlBatchNormBackward(
      dnnlOrUndefined()!,
      xv,
      relu.dy,
      x!.shape,
      m!,
      v!,
      eps,
      s,
      relu.workspace,
    );
    return [
      backend.makeTensorInfo(x!.shape.slice(), "float32", r.dx),
      backend.makeTensorInfo([c], "float32", r.dscale),
      backend.makeTensorInfo([c], "float32", r.doffset),
    ];
  }
  const dyv = f32(backend, dy)!;
  const { dx, dscale, doffset } = xv.length < DNNL_BN_MIN_ELEMENTS
    ? trainGradJs(xv, dyv, m!, v!, eps, s)
    : dnnlBatchNormBackward(dnnlOrUndefined()!, xv, dyv, x!.shape, m!, v!, eps, s);
  return [
    backend.makeTensorInfo(x!.shape.slice(), "float32", dx),
    backend.makeTensorInfo([c], "float32", dscale),
    backend.makeTensorInfo([c], "float32", doffset),
  ];
}

/**
 * The `FusedBatchNorm` gradient as one pass ({@linkcode BATCH_NORM_GRAD}) when the parameters are
 * per-channel float32 vectors; installed over the registered gradient by `installGradient`.
 */
export const BATCH_NORM_GRADIENT: NativeGradient = {
  kernelName: "FusedBatchNorm",
  inputsToSave: ["x", "mean", "variance", "scale"],
  fits: (dy, [x, mean, variance, scale]) => {
    const c = x.shape[x.rank - 1];
    return dy.dtype === "float32" && x.dtype === "float32" && c > 0 && mean != null &&
      variance != null &&
      [mean, variance, scale].every((t) =>
        t == null || (t.rank === 1 && t.shape[0] === c && t.dtype === "float32")
      );
  },
  gradFunc: (dy, [x, mean, variance, scale], attrs) => {
    const inputs: Record<string, tf.Tensor> = { dy, x, mean, variance };
    if (scale != null) inputs.scale = scale;
    if (dnnlOrUndefined() && areBatchMoments(x.dataId, mean.dataId, variance.dataId)) {
      // Training mode: the statistics' gradients are folded into dx, theirs are zero, and the
      // gradients of tf.moments' kernels pass the known zeros through without a pass over x.
      const [dx, dscale, doffset] = tf.engine().runKernel(
        BATCH_NORM_TRAIN_GRAD,
        inputs as unknown as tf.NamedTensorMap,
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
      return {
        x: () => dx,
        mean: () => knownZeros(mean.shape),
        variance: () => knownZeros(variance.shape),
        scale: () => dscale,
        offset: () => doffset,
      };
    }
    const [dx, dmean, dvar, dscale, doffset] = tf.engine().runKernel(
      BATCH_NORM_GRAD,
      inputs as unknown as tf.NamedTensorMap,
      attrs as unknown as tf.NamedAttrMap,
    ) as tf.Tensor[];
    return {
      x: () => dx,
      mean: () => dmean,
      variance: () => dvar,
      scale: () => dscale,
      offset: () => doffset,
    };
  },
};
