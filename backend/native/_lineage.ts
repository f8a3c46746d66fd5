/**
 * What the native backend remembers about the op graph, so that a gradient can see the fused op
 * tfjs split into small kernels:
 *
 * - lineage: which `Mean`, `Sub` and `Square` produced a tensor (by `dataId`, never reused), so the
 *   `FusedBatchNorm` gradient can tell that its mean and variance are `tf.moments` of its own input
 *   (training-mode batch norm, as tfjs-layers and the reference step build it) and return the whole
 *   input gradient from one oneDNN primitive;
 * - known zeros: gradients that are zero by construction (the mean and variance gradients once the
 *   batch-norm gradient has folded them into `dx`) share one read-only zero array per size, and the
 *   gradients and `Add`s downstream of them pass them through without touching memory.
 *
 * @module
 */
import { tf } from "../tf.ts";
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

interface Backend {
  makeTensorInfo(shape: number[], dtype: string, values?: unknown): tf.TensorInfo;
  incRef(dataId: object): void;
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
  switch (kernelName) {
    case "Mean":
      return (args) => {
        const out = kernel(args) as tf.TensorInfo;
        const x = args.inputs.x!;
        const axis = (args.attrs as { axis: number | number[] }).axis;
        const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
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
        const out = kernel(args) as tf.TensorInfo;
        lineage.set(out.dataId as object, {
          op: "sub",
          a: args.inputs.a!.dataId as object,
          b: args.inputs.b!.dataId as object,
        });
        return out;
      };
    case "Square":
      return (args) => {
        const out = kernel(args) as tf.TensorInfo;
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

/** A mean over every axis but the last. */
function perChannel(m: { rank: number; axes: number[] }): boolean {
  return m.rank >= 2 && m.axes.length === m.rank - 1 && m.axes.every((a, i) => a === i);
}
