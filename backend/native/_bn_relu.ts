/**
 * Batch norm followed by ReLU, fused on oneDNN (what PyTorch runs as two kernels): training-mode
 * batch norm whose output feeds a ReLU runs as one primitive with oneDNN's `fuse_norm_relu` flag,
 * which writes the ReLU's output and a workspace (where the output is positive), and its backward
 * takes the ReLU output's gradient with that workspace, so neither the ReLU nor its gradient is a
 * pass of its own.
 *
 * tfjs runs `FusedBatchNorm` before it knows what reads its output, so every batch-norm site
 * (keyed by its scale tensor, a variable and the same object every step) runs fused, its
 * batch-norm output lazy, until something besides a ReLU reads that output: then the output is
 * computed from the statistics by the primitive the unfused path runs, and the site runs unfused
 * from then on. The ReLU's gradient of a fused output is lazy too, and the batch-norm gradient that
 * receives it runs the fused backward on the gradient before the ReLU, unless the site stopped
 * fusing in the meantime (then it takes the unfused gradient, as the site's later steps will).
 *
 * A site therefore takes the same path on its first step as on every later one (fused when only a
 * ReLU reads its output), so a step's results do not depend on whether the graph ran before: a
 * site that learned it feeds a ReLU only on its first step took the unfused backward then (the
 * float64 JS gradient below 2^19 elements, `_batch_norm.ts`) and the fused oneDNN one later, and a
 * resumed run differed from an uninterrupted one by float32 rounding.
 *
 * @module
 */
import type { tf } from "../tf.ts";
import type { Dnnl } from "./_dnnl.ts";
import { dnnlBatchNormNormalize, dnnlBatchNormTraining } from "./_dnnl_batch_norm.ts";
import { type Backend, isPendingLazy, lazyTensor, resolveLazy, valuesOf } from "./_lineage.ts";
import type { CpuLikeBackend, KernelFn } from "./_util.ts";
import { allocF32 } from "./_buffers.ts";

/** Batch-norm sites (their scale input objects) whose output something besides a ReLU read. */
const unfusedSites = new WeakSet<object>();

interface Fused {
  /** `max(y, 0)`, for the ReLU that reads `y`. */
  relu: Float32Array;
  /** oneDNN's workspace for the fused backward. */
  workspace: Uint8Array<ArrayBuffer>;
  /** The batch norm's input `x` (dataId). */
  x: object;
  /** The batch-norm site. */
  site: object;
  claimed: boolean;
}
/** Fused batch-norm outputs (lazy `y`), by dataId. */
const fused = new WeakMap<object, Fused>();
/** Lazy ReLU gradients of fused outputs, by dataId: the gradient of the ReLU's output and `y`. */
const reluGrads = new WeakMap<object, { dy: object; y: object }>();

/** The kernel making the lazy ReLU gradient of a fused output: inputs `dy`, `x` (the lazy `y`). */
export const BN_RELU_GRAD = "SelfsupBnReluGrad";

function allFinite(...arrays: (Float32Array | undefined)[]): boolean {
  for (const a of arrays) {
    if (!a) continue;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  }
  return true;
}

/**
 * Training-mode batch norm of `x` whose pending moments `mean`, `variance` the primitive computes
 * (and hands over): fused with the ReLU unless the site's output was read besides a ReLU.
 */
export function batchNormTraining(
  d: Dnnl,
  backend: CpuLikeBackend,
  inputs: {
    x: tf.TensorInfo;
    mean: tf.TensorInfo;
    variance: tf.TensorInfo;
    scale?: tf.TensorInfo;
    offset?: tf.TensorInfo;
  },
  values: { x: Float32Array; scale?: Float32Array; offset?: Float32Array },
  eps: number,
): tf.TensorInfo {
  const { x, mean, variance, scale, offset } = inputs;
  const site = scale as object | undefined;
  const shape = x.shape.slice();
  if (site && !unfusedSites.has(site)) {
    const r = dnnlBatchNormTraining(d, values.x, shape, eps, values.scale, values.offset, true);
    // Non-finite statistics or parameters: tfjs's ReLU keeps NaN where oneDNN's may not.
    if (allFinite(r.mean, r.variance, values.scale, values.offset)) {
      resolveLazy(mean.dataId as object, r.mean);
      resolveLazy(variance.dataId as object, r.variance);
      const b = backend as unknown as Backend;
      const ids = [x, mean, variance, scale, offset].filter((t) => t !== undefined).map((t) =>
        t!.dataId as object
      );
      const y = lazyTensor(b, shape, ids, () => {
        unfusedSites.add(site); // something besides the ReLU reads y: stop fusing here
        const v = (t?: tf.TensorInfo) => (t ? valuesOf(b, t.dataId as object) : undefined);
        return dnnlBatchNormNormalize(
          d,
          v(x)!,
          shape,
          v(mean)!,
          v(variance)!,
          eps,
          v(scale),
          v(offset),
        ).y;
      });
      fused.set(y.dataId as object, {
        relu: r.y,
        workspace: r.workspace!,
        x: x.dataId as object,
        site,
        claimed: false,
      });
      return y;
    }
  }
  const r = dnnlBatchNormTraining(d, values.x, shape, eps, values.scale, values.offset);
  resolveLazy(mean.dataId as object, r.mean);
  resolveLazy(variance.dataId as object, r.variance);
  return backend.makeTensorInfo(shape, "float32", r.y);
}

/**
 * The ReLU of a batch-norm output: the fused output's ReLU values (computed with it), or
 * `undefined` for the ReLU kernel to run.
 */
export function reluOfBatchNorm(backend: CpuLikeBackend, x: tf.TensorInfo) {
  const f = fused.get(x.dataId as object);
  if (f && !f.claimed) {
    f.claimed = true;
    return backend.makeTensorInfo(x.shape.slice(), "float32", f.relu);
  }
  return undefined;
}

/** Whether `x` is a fused batch-norm output (its ReLU gradient goes to {@linkcode BN_RELU_GRAD}). */
export function isFusedOutput(x: { dataId: object }): boolean {
  return fused.has(x.dataId);
}

/**
 * `SelfsupBnReluGrad`: `dy * step(y)` for a fused output `y` (input `x`), lazy: the batch-norm
 * gradient it feeds applies it inside the fused backward; anything else reading it computes it.
 */
export const bnReluGrad: KernelFn = (args) => {
  const backend = args.backend as unknown as Backend;
  const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const ids = { dy: dy.dataId as object, y: x.dataId as object };
  const out = lazyTensor(backend, x.shape.slice(), [ids.dy, ids.y], () => {
    const g = valuesOf(backend, ids.dy);
    const v = valuesOf(backend, ids.y);
    const dx = allocF32(v.length);
    for (let i = 0; i < v.length; i++) {
      const xi = v[i];
      dx[i] = xi === xi ? g[i] * +(xi > 0) : xi;
    }
    return dx;
  });
  reluGrads.set(out.dataId as object, ids);
  return out;
};

/**
 * For the batch-norm gradient: when `dy` is the pending ReLU gradient of this batch norm's fused
 * output, the gradient before the ReLU and the workspace for the fused backward; `undefined` when
 * the site stopped fusing since (its output was read besides the ReLU: the unfused gradient, as on
 * the site's later steps).
 */
export function fusedReluGradient(
  backend: CpuLikeBackend,
  dy: tf.TensorInfo,
  x: tf.TensorInfo,
): { dy: Float32Array; workspace: Uint8Array<ArrayBuffer> } | undefined {
  const id = dy.dataId as object;
  const r = reluGrads.get(id);
  if (!r || !isPendingLazy(id)) return undefined;
  const f = fused.get(r.y);
  if (!f || f.x !== x.dataId || unfusedSites.has(f.site)) return undefined;
  return { dy: valuesOf(backend as unknown as Backend, r.dy), workspace: f.workspace };
}
