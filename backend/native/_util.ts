/**
 * Shared pieces of the native kernels: typed access to the cpu backend's storage, reusable
 * scratch buffers and in-place activations.
 *
 * @module
 */
import type { tf } from "../tf.ts";

/** The part of `MathBackendCPU` the native kernels use. */
export interface CpuLikeBackend {
  data: { get(dataId: unknown): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values?: unknown): tf.TensorInfo;
  disposeIntermediateTensorInfo(info: tf.TensorInfo): void;
}

/** A kernel function as tfjs calls it. */
export type KernelFn = (args: {
  inputs: Record<string, tf.TensorInfo | undefined>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}) => tf.TensorInfo | tf.TensorInfo[];

/** The float32 values behind a tensor, or `undefined` when it is not a float32 tensor. */
export function f32(
  backend: CpuLikeBackend,
  t: tf.TensorInfo | undefined,
): Float32Array | undefined {
  if (!t || t.dtype !== "float32") return undefined;
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : undefined;
}

const pool = new Map<string, Float32Array>();

/**
 * A scratch buffer of at least `n` floats for the named slot, reused across calls (the contents
 * are stale: callers fill what they read). Buffers grow, never shrink.
 */
export function scratch(slot: string, n: number): Float32Array {
  let buf = pool.get(slot);
  if (!buf || buf.length < n) {
    buf = new Float32Array(Math.max(n, Math.ceil((buf?.length ?? 0) * 1.25)));
    pool.set(slot, buf);
  }
  return buf.subarray(0, n);
}

/** Frees every scratch buffer (tests and long-lived processes that shrink their models). */
export function releaseScratch(): void {
  pool.clear();
}

/** Activations the fused kernels apply in place; `prelu` goes through the cpu kernel instead. */
export function canFuseActivation(activation: unknown): boolean {
  return activation === undefined || activation === "linear" || activation === "relu" ||
    activation === "relu6" || activation === "elu" || activation === "sigmoid" ||
    activation === "leakyrelu";
}

/** Adds a per-column bias (length `n`, or a scalar) to `out` viewed as `[rows, n]`. */
export function addBias(out: Float32Array, n: number, bias: Float32Array): void {
  if (bias.length === 1) {
    const b = bias[0];
    for (let i = 0; i < out.length; i++) out[i] += b;
    return;
  }
  if (bias.length === out.length) {
    for (let i = 0; i < out.length; i++) out[i] += bias[i];
    return;
  }
  for (let base = 0; base < out.length; base += n) {
    for (let j = 0; j < n; j++) out[base + j] += bias[j];
  }
}

/** Whether a bias of this size can be added by {@linkcode addBias}. */
export function biasFits(biasSize: number, n: number, outSize: number): boolean {
  return biasSize === 1 || biasSize === n || biasSize === outSize;
}

/** Applies a fusable activation to `out` in place. */
export function activateInPlace(out: Float32Array, activation: unknown, alpha = 0.2): void {
  switch (activation) {
    case undefined:
    case "linear":
      return;
    case "relu":
      for (let i = 0; i < out.length; i++) if (out[i] < 0) out[i] = 0;
      return;
    case "relu6":
      for (let i = 0; i < out.length; i++) out[i] = Math.min(Math.max(out[i], 0), 6);
      return;
    case "elu":
      for (let i = 0; i < out.length; i++) if (out[i] < 0) out[i] = Math.exp(out[i]) - 1;
      return;
    case "sigmoid":
      for (let i = 0; i < out.length; i++) out[i] = 1 / (1 + Math.exp(-out[i]));
      return;
    case "leakyrelu":
      for (let i = 0; i < out.length; i++) if (out[i] < 0) out[i] *= alpha;
      return;
    default:
      throw new TypeError(
        `Cannot apply activation: expected linear, relu, relu6, elu, sigmoid or leakyrelu, received ${
          String(activation)
        }`,
      );
  }
}
