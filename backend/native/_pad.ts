/**
 * `MirrorPad` (reflect and symmetric, float32, any rank) by block copies: the cpu backend's kernel
 * computes every output element's source through generic index arithmetic (measured 37 ms per
 * call on the default pretraining run's augmentation, 15% of its kernel time).
 *
 * @module
 */
import { allocF32 } from "./_buffers.ts";
import { type CpuLikeBackend, f32, type KernelFn } from "./_util.ts";

/** The `MirrorPad` kernel; other dtypes go to `fallback`. */
export function makeMirrorPad(fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const x = args.inputs.x;
    const v = f32(backend, x);
    const { paddings, mode } = (args.attrs ?? {}) as {
      paddings: [number, number][];
      mode: "reflect" | "symmetric";
    };
    if (!v || !x || paddings.length !== x.shape.length) return fallback(args);
    const shape = x.shape;
    const rank = shape.length;
    const offset = mode === "reflect" ? 0 : 1;
    for (let d = 0; d < rank; d++) {
      const [before, after] = paddings[d];
      // tfjs requires pads below the size (reflect) or up to it (symmetric): else its error
      if (before < 0 || after < 0 || Math.max(before, after) > shape[d] - 1 + offset) {
        return fallback(args);
      }
    }
    const outShape = shape.map((n, d) => n + paddings[d][0] + paddings[d][1]);
    const out = allocF32(outShape.reduce((p, n) => p * n, 1));
    if (out.length === 0) return backend.makeTensorInfo(outShape, "float32", out);
    const inStride = new Array<number>(rank + 1).fill(1);
    const outStride = new Array<number>(rank + 1).fill(1);
    for (let d = rank - 1; d >= 0; d--) {
      inStride[d] = inStride[d + 1] * shape[d];
      outStride[d] = outStride[d + 1] * outShape[d];
    }
    // From `flat` on, no dimension is padded: one contiguous block per index above it.
    let flat = rank;
    while (flat > 0 && paddings[flat - 1][0] === 0 && paddings[flat - 1][1] === 0) flat--;
    const source = (d: number, o: number) => {
      const n = shape[d];
      const i = o - paddings[d][0];
      if (i < 0) return -i - offset;
      if (i >= n) return 2 * n - 2 + offset - i;
      return i;
    };
    const fill = (d: number, inOff: number, outOff: number) => {
      if (d === flat) {
        const block = inStride[d];
        out.set(v.subarray(inOff, inOff + block), outOff);
        return;
      }
      for (let o = 0; o < outShape[d]; o++) {
        fill(d + 1, inOff + source(d, o) * inStride[d + 1], outOff + o * outStride[d + 1]);
      }
    };
    fill(0, 0, 0);
    return backend.makeTensorInfo(outShape, "float32", out);
  };
}
