/**
 * Batch norm followed by ReLU, fused on oneDNN (what PyTorch runs as two kernels): training-mode
 * batch norm whose output feeds a ReLU runs as one primitive with oneDNN's `fuse_norm_relu` flag,
 * which writes the ReLU's output and a workspace (where the output is positive), and its backward
 * takes the ReLU output's gradient with that workspace, so neither the ReLU nor its gradient is a
 * pass of its own.
 *
 * tfjs runs `FusedBatchNorm` before it knows what reads its output, so each batch-norm site
 * (keyed by its scale tensor, a variable and the same object every step) learns it: a site whose
 * output was read by a ReLU runs fused from then on, its batch-norm output lazy (computed from the
 * statistics only if something else reads it, which stops fusing at that site). The ReLU's
 * gradient of a fused output is lazy too, and the batch-norm gradient that receives it runs the
 * fused backward on the gradient before the ReLU.
 *
 * @module
 */
import type { tf } from "../tf.ts";
import type { Dnnl } from "./_dnnl.ts";
import { dnnlBatchNormForward, dnnlBatchNormTraining } from "./_dnnl_batch_norm.ts";
import { type Backend, isPendingLazy, lazyTensor, resolveLazy, valuesOf } from "./_lineage.ts";
import type { CpuLikeBackend, KernelFn } from "./_util.ts";
import { allocF32 } from "./_buffers.ts";

/** Per batch-norm site (its scale input object): whether its output feeds a ReLU. */
const feedsRelu = new WeakMap<object, boolean>();
/** Batch-norm outputs computed unfused, by dataId: their site, while it is still unknown. */
const unfusedOutputs = new WeakMap<object, object>();

interface Fused {
  /** `max(y, 0)`, for the ReLU that reads `y`. */
  relu: Float32Array;
  /** oneDNN's workspace for the fused backward. */
  workspace: Uint8Array<ArrayBuffer>;
  /** The batch norm's input `x` (dataId). */
  x: object;
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
 * (and hands over): fused with the ReLU at a site known to feed one, else unfused.
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
  if (site && feedsRelu.get(site) === true) {
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
        feedsRelu.set(site, false); // something besides the ReLU reads y: stop fusing here
        const v = (t?: tf.TensorInfo) => (t ? valuesOf(b, t.dataId as object) : undefined);
        return dnnlBatchNormForward(
          d,
          v(x)!,
          shape,
          v(mean)!,
          v(variance)!,
          eps,
          v(scale),
          v(offset),
        );
      });
      fused.set(y.dataId as object, {
        relu: r.y,
        workspace: r.workspace!,
        x: x.dataId as object,
        claimed: false,
      });
      return y;
    }
  }
  const r = dnnlBatchNormTraining(d, values.x, shape, eps, values.scale, values.offset);
  resolveLazy(mean.dataId as object, r.mean);
  resolveLazy(variance.dataId as object, r.variance);
  const y = backend.makeTensorInfo(shape, "float32", r.y);
  if (site && !feedsRelu.has(site)) unfusedOutputs.set(y.dataId as object, site);
  return y;
}

/**
 * The ReLU of a batch-norm output: the fused output's ReLU values (computed with it), or
 * `undefined` for the ReLU kernel to run (learning that this site feeds a ReLU).
 */
export function reluOfBatchNorm(backend: CpuLikeBackend, x: tf.TensorInfo) {
  const f = fused.get(x.dataId as object);
  if (f && !f.claimed) {
    f.claimed = true;
    return backend.makeTensorInfo(x.shape.slice(), "float32", f.relu);
  }
  const site = unfusedOutputs.get(x.dataId as object);
  if (site && !feedsRelu.has(site)) feedsRelu.set(site, true);
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
 * output, the gradient before the ReLU and the workspace for the fused backward.
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
  if (!f || f.x !== x.dataId) return undefined;
  return { dy: valuesOf(backend as unknown as Backend, r.dy), workspace: f.workspace };
}
