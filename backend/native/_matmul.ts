/**
 * `BatchMatMul` and `_FusedMatMul` on `cblas_sgemm`.
 *
 * @module
 */
import type { tf } from "../tf.ts";
import type { Blas } from "./_blas.ts";
import {
  activateInPlace,
  addBias,
  biasFits,
  canFuseActivation,
  type CpuLikeBackend,
  f32,
  type KernelFn,
} from "./_util.ts";
import { allocF32 } from "./_buffers.ts";

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * `op(a) @ op(b)` for float32 tensors of rank >= 2 whose batch dimensions are equal or one side
 * has a single batch; `undefined` for anything else (the caller falls back to the cpu kernel).
 */
export function batchMatMul(
  blas: Blas,
  backend: CpuLikeBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transA: boolean,
  transB: boolean,
): { values: Float32Array; shape: number[]; n: number } | undefined {
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (!av || !bv || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) return undefined; // tfjs reports the mismatch itself
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = outerA.reduce((p, v) => p * v, 1);
  const batchB = outerB.reduce((p, v) => p * v, 1);
  let outer: number[];
  if (sameShape(outerA, outerB)) outer = outerA;
  else if (batchA === 1 && outerA.length <= outerB.length) outer = outerB;
  else if (batchB === 1 && outerB.length <= outerA.length) outer = outerA;
  else return undefined;
  const batch = Math.max(batchA, batchB);
  const out = allocF32(batch * m * n, k === 0); // sgemm (beta 0) writes it all when k > 0
  const shape = [...outer, m, n];
  if (m === 0 || n === 0) return { values: out, shape, n };
  if (k === 0) return { values: out, shape, n };
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  if (batchB === 1 && !transA) {
    // Rows of every batch of a are one tall matrix: a single sgemm.
    blas.sgemm(false, transB, batch * m, n, k, 1, av, lda, bv, ldb, 0, out, n);
    return { values: out, shape, n };
  }
  const strideA = batchA === 1 ? 0 : m * k;
  const strideB = batchB === 1 ? 0 : k * n;
  for (let i = 0; i < batch; i++) {
    blas.sgemm(
      transA,
      transB,
      m,
      n,
      k,
      1,
      av.subarray(i * strideA),
      lda,
      bv.subarray(i * strideB),
      ldb,
      0,
      out.subarray(i * m * n),
      n,
    );
  }
  return { values: out, shape, n };
}

/** The `BatchMatMul` kernel; `fallback` is the cpu backend's. */
export function makeBatchMatMul(blas: Blas, fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { a, b } = args.inputs;
    const { transposeA = false, transposeB = false } = (args.attrs ?? {}) as {
      transposeA?: boolean;
      transposeB?: boolean;
    };
    const r = batchMatMul(blas, backend, a!, b!, transposeA, transposeB);
    if (!r) return fallback(args);
    return backend.makeTensorInfo(r.shape, "float32", r.values);
  };
}

/** The `_FusedMatMul` kernel (bias and activation applied in place); `fallback` is the cpu one. */
export function makeFusedMatMul(blas: Blas, fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { a, b, bias } = args.inputs;
    const {
      transposeA = false,
      transposeB = false,
      activation = "linear",
      leakyreluAlpha = 0.2,
    } = (args.attrs ?? {}) as {
      transposeA?: boolean;
      transposeB?: boolean;
      activation?: string;
      leakyreluAlpha?: number;
    };
    if (!canFuseActivation(activation)) return fallback(args);
    const biasValues = bias ? f32(backend, bias) : undefined;
    if (bias && !biasValues) return fallback(args);
    const r = batchMatMul(blas, backend, a!, b!, transposeA, transposeB);
    if (!r) return fallback(args);
    if (biasValues) {
      // Only a bias over the last axis (or a scalar, or the whole output) is added here.
      const lastOnly = bias!.shape.slice(0, -1).every((d) => d === 1);
      if (
        !biasFits(biasValues.length, r.n, r.values.length) ||
        (!lastOnly && biasValues.length !== r.values.length)
      ) {
        return fallback(args);
      }
      addBias(r.values, r.n, biasValues);
    }
    activateInPlace(r.values, activation, leakyreluAlpha);
    return backend.makeTensorInfo(r.shape, "float32", r.values);
  };
}
