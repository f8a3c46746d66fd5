/**
 * `MaxPoolGrad` (NHWC, float32) in one pass with per-channel running maxima; the cpu backend's
 * version goes through `TensorBuffer.get` per element.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { type CpuLikeBackend, f32, type KernelFn } from "./_util.ts";

/** The `MaxPoolGrad` kernel: each output's gradient goes to the first maximum of its window. */
export function makeMaxPoolGrad(fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { dy, input } = args.inputs;
    const dyv = f32(backend, dy);
    const xv = f32(backend, input);
    const { filterSize, strides, pad, dimRoundingMode } = (args.attrs ?? {}) as {
      filterSize: [number, number] | number;
      strides: [number, number] | number;
      pad: "valid" | "same" | number;
      dimRoundingMode?: "floor" | "round" | "ceil";
    };
    if (!dyv || !xv || input!.shape.length !== 4) return fallback(args);
    const c = tf.backend_util.computePool2DInfo(
      input!.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const { batchSize, inHeight: h, inWidth: w, inChannels: ch, outHeight: oh, outWidth: ow } = c;
    const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = c;
    const { top, left } = c.padInfo;
    const dx = new Float32Array(xv.length);
    const best = new Float32Array(ch);
    const where = new Int32Array(ch);
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
          // Rows then columns with a strict '>', as tfjs's maxPoolPositions scans.
          for (let y = yMin; y < yMax; y++) {
            for (let x = xMin; x < xMax; x++) {
              const base = ((b * h + y) * w + x) * ch;
              for (let d = 0; d < ch; d++) {
                const v = xv[base + d];
                if (v > best[d]) {
                  best[d] = v;
                  where[d] = base + d;
                }
              }
            }
          }
          const g = ((b * oh + oy) * ow + ox) * ch;
          for (let d = 0; d < ch; d++) if (where[d] >= 0) dx[where[d]] += dyv[g + d];
        }
      }
    }
    return backend.makeTensorInfo(input!.shape.slice(), "float32", dx);
  };
}
