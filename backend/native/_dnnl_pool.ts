/**
 * NHWC max pooling as oneDNN primitives: the forward pass keeps oneDNN's workspace (where each
 * maximum came from) beside its output, so the backward pass scatters `dy` without rescanning the
 * input windows.
 *
 * @module
 */
import type { tf } from "../tf.ts";
import { allocF32 } from "./_buffers.ts";
import { ALG, ARG, type Dnnl, type Primitive, PROP, TAG } from "./_dnnl.ts";

type PoolInfo = tf.backend_util.Conv2DInfo;

/** Whether oneDNN can run this pooling geometry (no dilation, sizes consistent with the pads). */
export function dnnlPoolFits(c: PoolInfo): boolean {
  const { top, bottom, left, right } = c.padInfo;
  return c.dilationHeight === 1 && c.dilationWidth === 1 && top >= 0 && left >= 0 &&
    bottom >= 0 && right >= 0 && c.outHeight > 0 && c.outWidth > 0 &&
    // Every window must hold at least one input pixel (oneDNN and tfjs differ on empty ones).
    top < c.filterHeight && left < c.filterWidth && bottom < c.filterHeight &&
    right < c.filterWidth &&
    c.outHeight === Math.floor((c.inHeight + top + bottom - c.filterHeight) / c.strideHeight) + 1 &&
    c.outWidth === Math.floor((c.inWidth + left + right - c.filterWidth) / c.strideWidth) + 1;
}

function key(c: PoolInfo): string {
  const p = c.padInfo;
  return [
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.outHeight,
    c.outWidth,
    c.filterHeight,
    c.filterWidth,
    c.strideHeight,
    c.strideWidth,
    p.top,
    p.bottom,
    p.left,
    p.right,
  ].join(",");
}

function forward(d: Dnnl, c: PoolInfo, alg: number = ALG.poolingMax): Primitive {
  const k = `pool ${alg} fwd ${key(c)}`;
  return d.cached(k, () => {
    const op = d.opDesc();
    d.check(
      d.symbols.dnnl_pooling_v2_forward_desc_init(
        op,
        PROP.forwardTraining,
        alg,
        d.memoryDesc([c.batchSize, c.inChannels, c.inHeight, c.inWidth], TAG.acdb),
        d.memoryDesc([c.batchSize, c.outChannels, c.outHeight, c.outWidth], TAG.acdb),
        d.dims([c.strideHeight, c.strideWidth]),
        d.dims([c.filterHeight, c.filterWidth]),
        d.dims([0, 0]),
        d.dims([c.padInfo.top, c.padInfo.left]),
        d.dims([c.padInfo.bottom, c.padInfo.right]),
      ),
      "dnnl_pooling_v2_forward_desc_init",
      k,
    );
    return d.primitive(op, { what: k });
  });
}

/** Max pooling of `x` `[N, H, W, C]`: the output and the workspace the backward pass reads. */
export function dnnlMaxPool(
  d: Dnnl,
  x: Float32Array,
  c: PoolInfo,
): { y: Float32Array; workspace: Uint8Array<ArrayBuffer> } {
  const p = forward(d, c);
  const y = allocF32(c.batchSize * c.outHeight * c.outWidth * c.outChannels);
  const workspace = new Uint8Array(p.argBytes(ARG.workspace));
  p.execute({ [ARG.src]: x, [ARG.dst]: y, [ARG.workspace]: workspace });
  return { y, workspace };
}

/**
 * Average pooling of `x` `[N, H, W, C]` over each window's pixels inside the image (tfjs's `same`
 * padding divides by that count: oneDNN's `avg_exclude_padding`).
 */
export function dnnlAvgPool(d: Dnnl, x: Float32Array, c: PoolInfo): Float32Array {
  const p = forward(d, c, ALG.poolingAvgExcludePadding);
  const y = allocF32(c.batchSize * c.outHeight * c.outWidth * c.outChannels);
  p.execute({ [ARG.src]: x, [ARG.dst]: y });
  return y;
}

/**
 * The average-pooling input gradient from `dy` `[N, OH, OW, C]` as tfjs defines it: every
 * backend's `AvgPoolGrad` divides by the whole window `KH * KW`, also for windows that overlap
 * `same` padding (where the forward divided by fewer pixels), so this is oneDNN's
 * `avg_include_padding` backward, for the same gradients on every backend.
 */
export function dnnlAvgPoolBackward(d: Dnnl, dy: Float32Array, c: PoolInfo): Float32Array {
  return poolBackward(d, dy, c, ALG.poolingAvgIncludePadding);
}

/** The max-pooling input gradient from `dy` `[N, OH, OW, C]` and the forward workspace. */
export function dnnlMaxPoolBackward(
  d: Dnnl,
  dy: Float32Array,
  workspace: Uint8Array<ArrayBuffer>,
  c: PoolInfo,
): Float32Array {
  return poolBackward(d, dy, c, ALG.poolingMax, workspace);
}

function poolBackward(
  d: Dnnl,
  dy: Float32Array,
  c: PoolInfo,
  alg: number,
  workspace?: Uint8Array<ArrayBuffer>,
): Float32Array {
  const k = `pool ${alg} bwd ${key(c)}`;
  const p = d.cached(k, () => {
    const hint = forward(d, c, alg);
    const op = d.opDesc();
    d.check(
      d.symbols.dnnl_pooling_v2_backward_desc_init(
        op,
        alg,
        d.memoryDesc([c.batchSize, c.inChannels, c.inHeight, c.inWidth], TAG.acdb),
        d.memoryDesc([c.batchSize, c.outChannels, c.outHeight, c.outWidth], TAG.acdb),
        d.dims([c.strideHeight, c.strideWidth]),
        d.dims([c.filterHeight, c.filterWidth]),
        d.dims([0, 0]),
        d.dims([c.padInfo.top, c.padInfo.left]),
        d.dims([c.padInfo.bottom, c.padInfo.right]),
      ),
      "dnnl_pooling_v2_backward_desc_init",
      k,
    );
    return d.primitive(op, { hint, what: k });
  });
  const dx = allocF32(c.batchSize * c.inHeight * c.inWidth * c.inChannels);
  p.execute({ [ARG.diffDst]: dy, [ARG.workspace]: workspace, [ARG.diffSrc]: dx });
  return dx;
}

/** The average pooling over the whole `H x W` plane of NHWC data (a mean over axes 1 and 2). */
function globalAvgDesc(d: Dnnl, n: number, h: number, w: number, c: number, prop?: number) {
  const op = d.opDesc();
  const src = d.memoryDesc([n, c, h, w], TAG.acdb);
  const dst = d.memoryDesc([n, c, 1, 1], TAG.acdb);
  const geometry = [
    d.dims([h, w]),
    d.dims([h, w]),
    d.dims([0, 0]),
    d.dims([0, 0]),
    d.dims([0, 0]),
  ] as const;
  const status = prop === undefined
    ? d.symbols.dnnl_pooling_v2_backward_desc_init(
      op,
      ALG.poolingAvgExcludePadding,
      src,
      dst,
      ...geometry,
    )
    : d.symbols.dnnl_pooling_v2_forward_desc_init(
      op,
      prop,
      ALG.poolingAvgExcludePadding,
      src,
      dst,
      ...geometry,
    );
  d.check(status, "dnnl_pooling_v2_desc_init", `global avg ${n},${h},${w},${c}`);
  return op;
}

function globalAvgForward(d: Dnnl, n: number, h: number, w: number, c: number): Primitive {
  const k = `global avg fwd ${n},${h},${w},${c}`;
  return d.cached(k, () => {
    return d.primitive(globalAvgDesc(d, n, h, w, c, PROP.forwardTraining), { what: k });
  });
}

/** `mean(x, [1, 2])` of NHWC `x` `[n, h, w, c]` as an `[n, c]` array (parallel). */
export function dnnlGlobalAvgPool(
  d: Dnnl,
  x: Float32Array,
  n: number,
  h: number,
  w: number,
  c: number,
): Float32Array {
  const y = allocF32(n * c);
  globalAvgForward(d, n, h, w, c).execute({ [ARG.src]: x, [ARG.dst]: y });
  return y;
}

/** The gradient of {@linkcode dnnlGlobalAvgPool}: `dy[n, c] / (h w)` spread over each plane. */
export function dnnlGlobalAvgPoolBackward(
  d: Dnnl,
  dy: Float32Array,
  n: number,
  h: number,
  w: number,
  c: number,
): Float32Array {
  const k = `global avg bwd ${n},${h},${w},${c}`;
  const p = d.cached(k, () => {
    const hint = globalAvgForward(d, n, h, w, c);
    return d.primitive(globalAvgDesc(d, n, h, w, c), { hint, what: k });
  });
  const dx = allocF32(n * h * w * c);
  p.execute({ [ARG.diffDst]: dy, [ARG.diffSrc]: dx });
  return dx;
}
