/**
 * What the native backend remembers about the op graph, so that a gradient can see the fused op
 * tfjs split into small kernels:
 *
 * - lineage: which `Mean`, `Sub` and `Square` produced a tensor (by `dataId`, never reused), so the
 *   `FusedBatchNorm` gradient can tell that its mean and variance are `tf.moments` of its own input
 *   (training-mode batch norm, as tfjs-layers and the reference step build it) and return the whole
 *   input gradient from one oneDNN primitive;
 * - lazy moments: `tf.moments` centers and squares the whole input (two full-size writes) only to
 *   average the squares; `x - mean(x)` and its square are made lazily (computed on first read of
 *   their values, which keeps their inputs alive until then), and the `Mean` of the lazy square is
 *   computed straight from `x` and its mean in one read-only pass, so neither is ever written when
 *   nothing else reads them (training-mode batch norm);
 * - known zeros: gradients that are zero by construction (the mean and variance gradients once the
 *   batch-norm gradient has folded them into `dx`) share one read-only zero array per size, and the
 *   gradients and `Add`s downstream of them pass them through without touching memory.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { allocF32, noteWrite } from "./_buffers.ts";
import { dnnlOrUndefined } from "./_dnnl.ts";
import type { KernelFn } from "./_util.ts";

/** How a tensor was made, for the kernels that record it. */
export type Lineage =
  | { op: "mean"; x: object; rank: number; axes: number[] }
  | { op: "sub"; a: object; b: object }
  | { op: "square"; x: object };

const lineage = new WeakMap<object, Lineage>();
const zeros = new WeakSet<object>();
const zeroArrays = new Map<number, Float32Array>();

/** The kernel that makes a known-zero tensor: attrs `{ shape }`. */
export const KNOWN_ZEROS = "SelfsupKnownZeros";

/** What produced the tensor with this `dataId`, when a recording kernel did. */
export function lineageOf(dataId: object): Lineage | undefined {
  return lineage.get(dataId);
}

/** Whether `t` is a known-zero tensor (a gradient that is zero by construction). */
export function isKnownZero(t: { dataId: object } | null | undefined): boolean {
  return t != null && zeros.has(t.dataId);
}

export interface Backend {
  makeTensorInfo(shape: number[], dtype: string, values?: unknown): tf.TensorInfo;
  incRef(dataId: object): void;
  disposeData(dataId: object, force?: boolean): boolean;
  data: { get(dataId: unknown): { values: unknown } };
}

/** A lazy tensor not yet computed: what to release if it is disposed first. */
const pending = new Map<object, () => void>();
/** Sets a pending lazy tensor's values from outside (a kernel that computed them on the way). */
const resolvers = new Map<object, (values: Float32Array) => void>();
/** Lazy per-channel means (of the `x` dataId), not yet computed. */
const lazyMeans = new WeakMap<object, object>();
/** Lazy `x - mean(x)` and `(x - mean(x))^2` tensors: their `x` and `mean` dataIds. */
const centered = new WeakMap<object, { x: object; mean: object }>();
const squaredCentered = new WeakMap<object, { x: object; mean: object }>();

export function valuesOf(backend: Backend, dataId: object): Float32Array {
  return backend.data.get(dataId).values as Float32Array;
}

/**
 * A float32 tensor whose values `compute` makes on first read; `deps` (dataIds) are kept alive
 * until then.
 */
export function lazyTensor(
  backend: Backend,
  shape: number[],
  deps: object[],
  compute: () => Float32Array,
): tf.TensorInfo {
  for (const d of deps) backend.incRef(d);
  const info = backend.makeTensorInfo(shape, "float32", new Float32Array(0));
  const id = info.dataId as object;
  const release = () => {
    pending.delete(id);
    resolvers.delete(id);
    for (const d of deps) backend.disposeData(d);
  };
  pending.set(id, release);
  let values: Float32Array | undefined;
  resolvers.set(id, (v) => {
    values = v;
    noteWrite(v);
    release();
  });
  Object.defineProperty(backend.data.get(id), "values", {
    configurable: true,
    enumerable: true,
    get() {
      if (values === undefined) {
        values = compute();
        noteWrite(values);
        release();
      }
      return values;
    },
    set(v: Float32Array) {
      values = v;
    },
  });
  return info;
}

/**
 * Whether the tensor is lazy and not yet computed (its values must not be read on disposal).
 */
export function isPendingLazy(dataId: object): boolean {
  return pending.has(dataId);
}

/**
 * Gives a pending lazy tensor its values, computed elsewhere (e.g. the batch statistics a oneDNN
 * batch-norm primitive computes while normalizing), and releases what it kept alive.
 */
export function resolveLazy(dataId: object, values: Float32Array): void {
  resolvers.get(dataId)?.(values);
}

/**
 * Whether `mean` and `variance` are `tf.moments` of `x` over every axis but the last that nothing
 * has read yet (a kernel may compute them itself and hand them over with
 * {@linkcode resolveLazy}).
 */
export function arePendingBatchMoments(x: object, mean: object, variance: object): boolean {
  return pending.has(mean) && pending.has(variance) && lazyMeans.get(mean) === x &&
    areBatchMoments(x, mean, variance);
}

/** Releases what a lazy tensor that was never computed kept alive (it was deleted). */
export function releaseLazy(dataId: object): void {
  pending.get(dataId)?.();
}

/** The per-channel mean `b` of `a` (over every axis but the last), when lineage says so. */
function isChannelMeanOf(a: tf.TensorInfo, b: tf.TensorInfo): boolean {
  const m = lineage.get(b.dataId as object);
  const c = a.shape[a.shape.length - 1];
  return m !== undefined && m.op === "mean" && m.x === a.dataId && perChannel(m) &&
    m.rank === a.shape.length && b.shape.reduce((p, d) => p * d, 1) === c &&
    b.shape[b.shape.length - 1] === c &&
    a.dtype === "float32";
}

/** The `SelfsupKnownZeros` kernel: a float32 zero tensor sharing one read-only array per size. */
export function knownZerosKernel(args: Parameters<KernelFn>[0]): tf.TensorInfo {
  const backend = args.backend as Backend;
  const shape = (args.attrs as { shape: number[] }).shape;
  const n = shape.reduce((p, d) => p * d, 1);
  let values = zeroArrays.get(n);
  if (!values) zeroArrays.set(n, values = new Float32Array(n));
  const info = backend.makeTensorInfo(shape.slice(), "float32", values);
  zeros.add(info.dataId as object);
  return info;
}

/** A known-zero float32 tensor of `shape` (on the native backend). */
export function knownZeros(shape: number[]): tf.Tensor {
  return tf.engine().runKernel(
    KNOWN_ZEROS,
    {},
    { shape } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Wraps a native kernel so that it records lineage (`Mean`, `Sub`, `Square`) or passes known zeros
 * through (`Add`); other kernels are returned as they are.
 */
export function withGraphHooks(kernelName: string, kernel: KernelFn): KernelFn {
  if (hooked.has(kernel)) return kernel;
  const wrapped = graphHook(kernelName, kernel);
  hooked.add(wrapped);
  return wrapped;
}

const hooked = new WeakSet<KernelFn>();
const HOOKED_KERNELS = ["Mean", "Sub", "Square", "Add"];

/**
 * Puts the graph hooks back on top of the `Mean`, `Sub`, `Square` and `Add` kernels registered for
 * `backendName` (code that registers its own versions later, e.g. oneDNN reductions, would
 * otherwise read a lazy tensor's values, computing it, before the hooks could see it).
 */
export function rewrapGraphHooks(backendName: string): void {
  for (const name of HOOKED_KERNELS) {
    const config = tf.getKernel(name, backendName);
    if (!config || hooked.has(config.kernelFunc as unknown as KernelFn)) continue;
    tf.unregisterKernel(name, backendName);
    tf.registerKernel({
      ...config,
      kernelFunc: withGraphHooks(
        name,
        config.kernelFunc as unknown as KernelFn,
      ) as unknown as tf.KernelFunc,
    });
  }
}

function graphHook(kernelName: string, kernel: KernelFn): KernelFn {
  switch (kernelName) {
    case "Mean":
      return (args) => {
        const x = args.inputs.x!;
        const axis = (args.attrs as { axis: number | number[] }).axis;
        const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
        const sq = squaredCentered.get(x.dataId as object);
        const record = { rank: x.shape.length, axes };
        const backend = args.backend as Backend;
        const attrs = args.attrs as { keepDims?: boolean };
        let out: tf.TensorInfo;
        if (sq && perChannel(record)) {
          out = pending.has(sq.mean)
            ? lazyTensor(
              backend,
              statShape(x.shape, attrs),
              [sq.x, sq.mean],
              () => variance(backend, sq),
            )
            : backend.makeTensorInfo(statShape(x.shape, attrs), "float32", variance(backend, sq));
        } else if (perChannel(record) && x.dtype === "float32" && lazyStatistics()) {
          const id = x.dataId as object;
          out = lazyTensor(
            backend,
            statShape(x.shape, attrs),
            [id],
            () => channelMean(backend, id, x.shape[x.shape.length - 1]),
          );
          lazyMeans.set(out.dataId as object, id);
        } else {
          out = kernel(args) as tf.TensorInfo;
        }
        lineage.set(out.dataId as object, {
          op: "mean",
          x: x.dataId as object,
          rank: x.shape.length,
          axes,
        });
        return out;
      };
    case "Sub":
      return (args) => {
        const { a, b } = args.inputs;
        const backend = args.backend as Backend;
        let out: tf.TensorInfo;
        if (a && b && isChannelMeanOf(a, b)) {
          const ids = { x: a.dataId as object, mean: b.dataId as object };
          out = lazyTensor(backend, a.shape.slice(), [ids.x, ids.mean], () => {
            const x = valuesOf(backend, ids.x);
            const m = valuesOf(backend, ids.mean);
            const c = m.length;
            const y = allocF32(x.length);
            for (let i = 0; i < x.length; i += c) {
              for (let j = 0; j < c; j++) y[i + j] = x[i + j] - m[j];
            }
            return y;
          });
          centered.set(out.dataId as object, ids);
        } else {
          out = kernel(args) as tf.TensorInfo;
        }
        lineage.set(out.dataId as object, {
          op: "sub",
          a: args.inputs.a!.dataId as object,
          b: args.inputs.b!.dataId as object,
        });
        return out;
      };
    case "Square":
      return (args) => {
        const x = args.inputs.x!;
        const backend = args.backend as Backend;
        const ids = centered.get(x.dataId as object);
        let out: tf.TensorInfo;
        if (ids) {
          out = lazyTensor(backend, x.shape.slice(), [ids.x, ids.mean], () => {
            const v = valuesOf(backend, ids.x);
            const m = valuesOf(backend, ids.mean);
            const c = m.length;
            const y = allocF32(v.length);
            for (let i = 0; i < v.length; i += c) {
              for (let j = 0; j < c; j++) {
                const d = v[i + j] - m[j];
                y[i + j] = d * d;
              }
            }
            return y;
          });
          squaredCentered.set(out.dataId as object, ids);
        } else {
          out = kernel(args) as tf.TensorInfo;
        }
        lineage.set(out.dataId as object, { op: "square", x: args.inputs.x!.dataId as object });
        return out;
      };
    case "Add":
      return (args) => {
        const { a, b } = args.inputs;
        if (a && b && a.dtype === b.dtype) {
          // Gradient accumulation adds known zeros: the sum is the other input, shared.
          const keep = isKnownZero(b as { dataId: object }) && sameShape(a.shape, broadcast(a, b))
            ? a
            : isKnownZero(a as { dataId: object }) && sameShape(b.shape, broadcast(a, b))
            ? b
            : undefined;
          if (keep) {
            (args.backend as Backend).incRef(keep.dataId as object);
            return { dataId: keep.dataId, shape: keep.shape.slice(), dtype: keep.dtype };
          }
        }
        return kernel(args);
      };
    default:
      return kernel;
  }
}

/** The shape of a per-channel statistic of `shape` (all axes but the last reduced). */
function statShape(shape: number[], attrs: { keepDims?: boolean }): number[] {
  const c = shape[shape.length - 1];
  return attrs.keepDims ? shape.map((d, i) => (i === shape.length - 1 ? d : 1)) : [c];
}

/** `mean(x)` per channel (the last axis; float64 sums). */
function channelMean(backend: Backend, id: object, c: number): Float32Array {
  const v = valuesOf(backend, id);
  const acc = new Float64Array(c);
  for (let i = 0; i < v.length; i += c) {
    for (let j = 0; j < c; j++) acc[j] += v[i + j];
  }
  const out = new Float32Array(c);
  const rows = v.length / c;
  for (let j = 0; j < c; j++) out[j] = acc[j] / rows;
  return out;
}

/** `mean((x - mean)^2)` per channel, read from `x` and `mean` in one pass (float64 sums). */
function variance(backend: Backend, ids: { x: object; mean: object }): Float32Array {
  const v = valuesOf(backend, ids.x);
  const m = valuesOf(backend, ids.mean);
  const c = m.length;
  const acc = new Float64Array(c);
  for (let i = 0; i < v.length; i += c) {
    for (let j = 0; j < c; j++) {
      const d = v[i + j] - m[j];
      acc[j] += d * d;
    }
  }
  const out = new Float32Array(c);
  const rows = v.length / c;
  for (let j = 0; j < c; j++) out[j] = acc[j] / rows;
  return out;
}

function broadcast(a: tf.TensorInfo, b: tf.TensorInfo): number[] {
  return tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
}

/**
 * Whether `mean` and `variance` are `tf.moments(x, all axes but the last)`: `mean = Mean(x)`,
 * `variance = Mean(Square(Sub(x, reshape(mean))))` (reshapes and casts share the `dataId`).
 */
export function areBatchMoments(x: object, mean: object, variance: object): boolean {
  const m = lineage.get(mean);
  if (!m || m.op !== "mean" || m.x !== x || !perChannel(m)) return false;
  const v = lineage.get(variance);
  if (!v || v.op !== "mean" || !perChannel(v)) return false;
  const sq = lineage.get(v.x);
  if (!sq || sq.op !== "square") return false;
  const d = lineage.get(sq.x);
  return d !== undefined && d.op === "sub" && d.a === x && d.b === mean;
}

/**
 * Whether batch statistics are made lazily: with oneDNN, the training-mode batch norm computes
 * them (`batchMoments`, float64 sums) right before its primitive normalizes, so `tf.moments`'s
 * centered and squared tensors are never written.
 */
function lazyStatistics(): boolean {
  return dnnlOrUndefined() !== undefined;
}

/** A mean over every axis but the last. */
function perChannel(m: { rank: number; axes: number[] }): boolean {
  return m.rank >= 2 && m.axes.length === m.rank - 1 && m.axes.every((a, i) => a === i);
}
