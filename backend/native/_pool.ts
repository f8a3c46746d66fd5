/**
 * `MaxPool` and `MaxPoolGrad` (NHWC, float32) in one pass with per-channel running maxima; the cpu
 * backend's versions go through per-element index arithmetic (`TensorBuffer.get`).
 *
 * The running maximum is updated without a data-dependent branch (on activations `v > best` is a
 * coin flip, and mispredictions cost several times the arithmetic): the candidates sit in a
 * two-slot array indexed by the comparison.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { allocF32 } from "./_buffers.ts";
import { dnnlOrUndefined } from "./_dnnl.ts";
import {
  dnnlAvgPool,
  dnnlAvgPoolBackward,
  dnnlMaxPool,
  dnnlMaxPoolBackward,
  dnnlPoolFits,
} from "./_dnnl_pool.ts";
import { type CpuLikeBackend, f32, type KernelFn } from "./_util.ts";

interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: "valid" | "same" | number;
  dimRoundingMode?: "floor" | "round" | "ceil";
}

function poolInfo(shape: number[], attrs: PoolAttrs) {
  return tf.backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

/**
 * Scans the window of every output pixel rows then columns with a strict `>` (NaN never wins), as
 * tfjs's cpu pooling does, and calls `emit(outIndex, best, where)` with per-channel maxima and the
 * flat input index of the first maximum (-1 where none exceeded -Infinity).
 */
function scanMax(
  xv: Float32Array,
  c: tf.backend_util.Conv2DInfo,
  emit: (g: number, best: Float32Array, where: Int32Array) => void,
): void {
  const { batchSize, inHeight: h, inWidth: w, inChannels: ch, outHeight: oh, outWidth: ow } = c;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = c;
  const { top, left } = c.padInfo;
  const best = new Float32Array(ch);
  const where = new Int32Array(ch);
  const pair = new Float32Array(2);
  const pairAt = new Int32Array(2);
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - top;
      const yMin = Math.max(0, y0);
      const yMax = Math.min(h, y0 + kh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - left;
        const xMin = Math.max(0, x0);
        const xMax = Math.min(w, x0 + kw);
        best.fill(-Infinity);
        where.fill(-1);
        for (let y = yMin; y < yMax; y++) {
          for (let x = xMin; x < xMax; x++) {
            const base = ((b * h + y) * w + x) * ch;
            for (let d = 0; d < ch; d++) {
              const v = xv[base + d];
              const k = +(v > best[d]);
              pair[0] = best[d];
              pair[1] = v;
              pairAt[0] = where[d];
              pairAt[1] = base + d;
              best[d] = pair[k];
              where[d] = pairAt[k];
            }
          }
        }
        emit(((b * oh + oy) * ow + ox) * ch, best, where);
      }
    }
  }
}

/** oneDNN's record of where each maximum came from, by the `MaxPool` output's `dataId`. */
const workspaces = new WeakMap<object, Uint8Array<ArrayBuffer>>();

/** The `MaxPool` kernel (NHWC float32); anything else goes to `fallback`. */
export function makeMaxPool(fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { x } = args.inputs;
    const xv = f32(backend, x);
    if (!xv || x!.shape.length !== 4) return fallback(args);
    const c = poolInfo(x!.shape, args.attrs as unknown as PoolAttrs);
    if (c.dilationHeight !== 1 || c.dilationWidth !== 1) return fallback(args);
    const dnnl = dnnlOrUndefined();
    if (dnnl && dnnlPoolFits(c)) {
      const { y, workspace } = dnnlMaxPool(dnnl, xv, c);
      const info = backend.makeTensorInfo(c.outShape.slice(), "float32", y);
      workspaces.set(info.dataId as object, workspace);
      return info;
    }
    const out = allocF32(c.batchSize * c.outHeight * c.outWidth * c.outChannels);
    const ch = c.inChannels;
    scanMax(xv, c, (g, best) => {
      for (let d = 0; d < ch; d++) out[g + d] = best[d];
    });
    return backend.makeTensorInfo(c.outShape.slice(), "float32", out);
  };
}

/** The `MaxPoolGrad` kernel: each output's gradient goes to the first maximum of its window. */
export function makeMaxPoolGrad(fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { dy, input, output } = args.inputs;
    const dyv = f32(backend, dy);
    const xv = f32(backend, input);
    if (!dyv || !xv || input!.shape.length !== 4) return fallback(args);
    const c = poolInfo(input!.shape, args.attrs as unknown as PoolAttrs);
    const workspace = output ? workspaces.get(output.dataId as object) : undefined;
    const dnnl = dnnlOrUndefined();
    if (workspace && dnnl && dnnlPoolFits(c)) {
      const dx = dnnlMaxPoolBackward(dnnl, dyv, workspace, c);
      return backend.makeTensorInfo(input!.shape.slice(), "float32", dx);
    }
    const dx = allocF32(xv.length, true);
    const ch = c.inChannels;
    scanMax(xv, c, (g, _, where) => {
      for (let d = 0; d < ch; d++) if (where[d] >= 0) dx[where[d]] += dyv[g + d];
    });
    return backend.makeTensorInfo(input!.shape.slice(), "float32", dx);
  };
}

/** The `AvgPool` kernel on oneDNN (NHWC float32, geometries it runs); else `fallback`. */
export function makeAvgPool(fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { x } = args.inputs;
    const xv = f32(backend, x);
    const dnnl = dnnlOrUndefined();
    if (!dnnl || !xv || x!.shape.length !== 4) return fallback(args);
    const c = poolInfo(x!.shape, args.attrs as unknown as PoolAttrs);
    if (!dnnlPoolFits(c)) return fallback(args);
    return backend.makeTensorInfo(c.outShape.slice(), "float32", dnnlAvgPool(dnnl, xv, c));
  };
}

/** The `AvgPoolGrad` kernel on oneDNN (inputs `dy`, `input`); else `fallback`. */
export function makeAvgPoolGrad(fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { dy, input } = args.inputs;
    const dyv = f32(backend, dy);
    const dnnl = dnnlOrUndefined();
    if (!dnnl || !dyv || !input || input.shape.length !== 4) return fallback(args);
    const c = poolInfo(input.shape, args.attrs as unknown as PoolAttrs);
    if (!dnnlPoolFits(c)) return fallback(args);
    const dx = dnnlAvgPoolBackward(dnnl, dyv, c);
    return backend.makeTensorInfo(input.shape.slice(), "float32", dx);
  };
}
