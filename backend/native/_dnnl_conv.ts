/**
 * NHWC 2-D convolutions as oneDNN primitives: forward (bias and an eltwise post-op fused),
 * backward data and backward weights. Activations stay in tfjs's NHWC (`acdb`) layout; the
 * weights go through a cached reorder into the layout the primitive picked (`format_tag::any`),
 * which lets oneDNN use its direct (brgemm) kernels instead of its im2col GEMM fallback.
 *
 * 3x3 stride-1 convolutions forward and backward data may instead run oneDNN's Winograd F(4x4,
 * 3x3) kernel (`jit_wino_4x3`), which wants blocked activations (`nChw16c`): the NHWC input is
 * reordered into a scratch buffer, and the blocked result back into the NHWC output (each reorder
 * 1-4 ms for a [128, 32, 32, 64] tensor). Measured on one thread (CPU time, ResNet-18's shapes at
 * batch 128), Winograd + reorders against direct NHWC: 32x32x64 forward 42 vs 57 ms, backward
 * data 44 vs 71; 8x8x256 24 vs 46 and 24 vs 67; 4x4x512 21 vs 120 and 23 vs 82. Its backward
 * weights is not used: oneDNN 2.6's crashed intermittently on [128, 16, 16, 128]. See
 * {@linkcode setDnnlWinograd} for the modes.
 *
 * @module
 */
import { allocF32 } from "./_buffers.ts";
import type { ConvInfo } from "./_conv.ts";
import {
  ALG,
  ARG,
  type Dnnl,
  DnnlError,
  type MemoryDesc,
  type Primitive,
  PROP,
  TAG,
} from "./_dnnl.ts";
import { scratch } from "./_util.ts";

/** Eltwise post-ops a forward convolution fuses, by tfjs activation name. */
const POST_OPS: Record<string, (alpha: number) => [number, number, number] | undefined> = {
  linear: () => undefined,
  relu: () => [ALG.eltwiseRelu, 0, 0],
  leakyrelu: (alpha) => [ALG.eltwiseRelu, alpha, 0],
  relu6: () => [ALG.eltwiseClip, 0, 6],
  elu: () => [ALG.eltwiseElu, 1, 0],
  sigmoid: () => [ALG.eltwiseLogistic, 0, 0],
};

/** Whether the primitives can run this activation as a post-op. */
export function dnnlActivation(activation: unknown): boolean {
  return activation === undefined || (typeof activation === "string" && activation in POST_OPS);
}

function geometryKey(c: ConvInfo): string {
  const p = c.padInfo;
  return [
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.outHeight,
    c.outWidth,
    c.outChannels,
    c.filterHeight,
    c.filterWidth,
    c.strideHeight,
    c.strideWidth,
    c.dilationHeight,
    c.dilationWidth,
    p.top,
    p.bottom,
    p.left,
    p.right,
  ].join(",");
}

/** Whether oneDNN can run this geometry (explicit non-negative paddings, consistent sizes). */
export function dnnlFits(c: ConvInfo): boolean {
  const { top, bottom, left, right } = c.padInfo;
  if (!(top >= 0 && bottom >= 0 && left >= 0 && right >= 0)) return false;
  const ekh = (c.filterHeight - 1) * c.dilationHeight + 1;
  const ekw = (c.filterWidth - 1) * c.dilationWidth + 1;
  return c.outHeight === Math.floor((c.inHeight + top + bottom - ekh) / c.strideHeight) + 1 &&
    c.outWidth === Math.floor((c.inWidth + left + right - ekw) / c.strideWidth) + 1 &&
    c.outHeight > 0 && c.outWidth > 0;
}

interface Mds {
  src: Uint8Array<ArrayBuffer>;
  weightsAny: Uint8Array<ArrayBuffer>;
  weightsHwio: Uint8Array<ArrayBuffer>;
  dst: Uint8Array<ArrayBuffer>;
  strides: BigInt64Array<ArrayBuffer>;
  dilates: BigInt64Array<ArrayBuffer>;
  padL: BigInt64Array<ArrayBuffer>;
  padR: BigInt64Array<ArrayBuffer>;
}

function descs(d: Dnnl, c: ConvInfo): Mds {
  const w = [c.outChannels, c.inChannels, c.filterHeight, c.filterWidth];
  return {
    src: d.memoryDesc([c.batchSize, c.inChannels, c.inHeight, c.inWidth], TAG.acdb),
    weightsAny: d.memoryDesc(w, TAG.any),
    weightsHwio: d.memoryDesc(w, TAG.cdba),
    dst: d.memoryDesc([c.batchSize, c.outChannels, c.outHeight, c.outWidth], TAG.acdb),
    strides: d.dims([c.strideHeight, c.strideWidth]),
    dilates: d.dims([c.dilationHeight - 1, c.dilationWidth - 1]),
    padL: d.dims([c.padInfo.top, c.padInfo.left]),
    padR: d.dims([c.padInfo.bottom, c.padInfo.right]),
  };
}

/** A primitive with the reorder between tfjs's `hwio` weights and the layout it wants. */
interface WithWeights {
  p: Primitive;
  /** hwio -> primitive layout (forward, backward data) or back (backward weights); none if equal. */
  reorder?: Primitive;
  weightFloats: number;
}

function withWeights(d: Dnnl, p: Primitive, arg: number, hwio: MemoryDesc, toUser: boolean) {
  const md = p.argMd(arg);
  const same = d.symbols.dnnl_memory_desc_equal(md, Deno.UnsafePointer.of(hwio)) === 1;
  const reorder = same ? undefined : toUser ? d.reorder(md, hwio) : d.reorder(hwio, md);
  return { p, reorder, weightFloats: p.argBytes(arg) / 4 };
}

/** A forward-training convolution primitive (optional bias, one post-op) on the given layouts. */
function forwardConv(
  d: Dnnl,
  c: ConvInfo,
  m: Mds,
  alg: number,
  src: MemoryDesc,
  dst: MemoryDesc,
  bias: boolean,
  postOp: [number, number, number] | undefined,
  key: string,
): Primitive {
  const op = d.opDesc();
  d.check(
    d.symbols.dnnl_dilated_convolution_forward_desc_init(
      op,
      PROP.forwardTraining,
      alg,
      src,
      m.weightsAny,
      bias ? d.memoryDesc([c.outChannels], TAG.a) : null,
      dst,
      m.strides,
      m.dilates,
      m.padL,
      m.padR,
    ),
    "dnnl_dilated_convolution_forward_desc_init",
    key,
  );
  const attr = postOp ? d.postOpsAttr([postOp]) : null;
  try {
    return d.primitive(op, { attr, what: key });
  } finally {
    if (attr) d.symbols.dnnl_primitive_attr_destroy(attr);
  }
}

function forwardPrimitive(
  d: Dnnl,
  c: ConvInfo,
  bias: boolean,
  postOp: [number, number, number] | undefined,
): WithWeights {
  const key = `conv fwd ${geometryKey(c)} ${bias} ${postOp ?? ""}`;
  let cached = forwardCache.get(key);
  if (cached) return cached;
  const m = descs(d, c);
  const p = d.cached(
    key,
    () => forwardConv(d, c, m, ALG.convolutionDirect, m.src, m.dst, bias, postOp, key),
  );
  cached = withWeights(d, p, ARG.weights, m.weightsHwio, false);
  forwardCache.set(key, cached);
  return cached;
}

const forwardCache = new Map<string, WithWeights>();
const backwardCache = new Map<string, WithWeights>();

/**
 * When 3x3 stride-1 convolutions use Winograd: `auto` when oneDNN's own choice for the shape
 * (`convolution_auto` with free layouts) is its Winograd kernel (it is for ResNet-18's batch-128
 * shapes, not for small batches) and both channel counts are at least
 * {@linkcode WINO_MIN_CHANNELS}, `force` whenever oneDNN implements it (tests), `off` never.
 * Winograd's float32 results differ from direct convolution's by about 1e-6 of the terms' scale.
 */
export type WinogradMode = "auto" | "force" | "off";

function winogradFromEnv(): WinogradMode {
  let value: string | undefined;
  try {
    value = Deno.env.get("SELFSUP_DNNL_WINOGRAD");
  } catch {
    value = undefined;
  }
  if (value === "0" || value === "off") return "off";
  if (value === "force") return "force";
  return "auto";
}

let winogradMode: WinogradMode = winogradFromEnv();

/**
 * Sets the Winograd mode for primitives built from now on (`SELFSUP_DNNL_WINOGRAD=off|force`
 * sets the initial one; default `auto`); returns the previous mode.
 */
export function setDnnlWinograd(mode: WinogradMode): WinogradMode {
  const was = winogradMode;
  winogradMode = mode;
  return was;
}

/** A Winograd primitive with the reorders between NHWC and its blocked activations. */
interface Wino extends WithWeights {
  /** NHWC -> the primitive's input layout (src forward, diff_dst backward data). */
  toBlocked: Primitive;
  /** The primitive's output layout -> NHWC (dst forward, diff_src backward data). */
  fromBlocked: Primitive;
  inFloats: number;
  outFloats: number;
}

const winoCache = new Map<string, Wino | null>();
const ALG_WINOGRAD = 2;

/**
 * Fewest input and output channels for which `auto` lets oneDNN pick Winograd. oneDNN's
 * `convolution_auto` picked it for 3x3 convolutions of 3 input channels (the reference step's and
 * ResNet-18's first layers), whose Winograd kernel works on channels padded to blocks of 16:
 * measured on one thread at batch 128, 32x32, interleaved (load ~10), forward 3->32 took 27-61 ms
 * on Winograd against 1.9-2.3 ms direct (`brgconv`), 8->32 45-66 against 4-16 ms, 16->32 48-62
 * against 15-35 ms; from 32 channels the two were within the noise of one another.
 */
export const WINO_MIN_CHANNELS = 32;

function winoCandidate(c: ConvInfo): boolean {
  return winogradMode !== "off" && c.filterHeight === 3 && c.filterWidth === 3 &&
    c.strideHeight === 1 && c.strideWidth === 1 && c.dilationHeight === 1 &&
    c.dilationWidth === 1 &&
    (winogradMode === "force" ||
      Math.min(c.inChannels, c.outChannels) >= WINO_MIN_CHANNELS);
}

function isWino(p: Primitive): boolean {
  return p.impl.includes("wino");
}

/** Builds a Winograd primitive, or null when oneDNN has none (or, in `auto`, prefers another). */
function winoBuild(
  d: Dnnl,
  c: ConvInfo,
  build: (m: Mds & { srcAny: MemoryDesc; dstAny: MemoryDesc }, alg: number) => Primitive,
  inArg: number,
  outArg: number,
): Wino | null {
  const m = descs(d, c);
  const src = [c.batchSize, c.inChannels, c.inHeight, c.inWidth];
  const dst = [c.batchSize, c.outChannels, c.outHeight, c.outWidth];
  const any = { ...m, srcAny: d.memoryDesc(src, TAG.any), dstAny: d.memoryDesc(dst, TAG.any) };
  let p: Primitive;
  try {
    p = build(any, winogradMode === "force" ? ALG_WINOGRAD : ALG.convolutionAuto);
  } catch (error) {
    if (error instanceof DnnlError) return null; // unimplemented for this geometry
    throw error;
  }
  if (!isWino(p)) return null;
  const nhwcIn = inArg === ARG.src ? m.src : m.dst;
  const nhwcOut = outArg === ARG.dst ? m.dst : m.src;
  return {
    ...withWeights(d, p, ARG.weights, m.weightsHwio, false),
    toBlocked: d.reorder(nhwcIn, p.argMd(inArg)),
    fromBlocked: d.reorder(p.argMd(outArg), nhwcOut),
    inFloats: p.argBytes(inArg) / 4,
    outFloats: p.argBytes(outArg) / 4,
  };
}

function winoForward(
  d: Dnnl,
  c: ConvInfo,
  bias: boolean,
  postOp: [number, number, number] | undefined,
): Wino | null {
  if (!winoCandidate(c)) return null;
  const key = `conv wino fwd ${geometryKey(c)} ${bias} ${postOp ?? ""} ${winogradMode}`;
  let w = winoCache.get(key);
  if (w !== undefined) return w;
  w = winoBuild(
    d,
    c,
    (m, alg) => forwardConv(d, c, m, alg, m.srcAny, m.dstAny, bias, postOp, key),
    ARG.src,
    ARG.dst,
  );
  winoCache.set(key, w);
  return w;
}

function winoBackwardData(d: Dnnl, c: ConvInfo): Wino | null {
  if (!winoCandidate(c)) return null;
  const key = `conv wino bwd data ${geometryKey(c)} ${winogradMode}`;
  let w = winoCache.get(key);
  if (w !== undefined) return w;
  const hint = winoForward(d, c, false, undefined);
  w = hint && winoBuild(
    d,
    c,
    (m) => {
      const op = d.opDesc();
      d.check(
        d.symbols.dnnl_dilated_convolution_backward_data_desc_init(
          op,
          ALG_WINOGRAD,
          m.srcAny,
          m.weightsAny,
          m.dstAny,
          m.strides,
          m.dilates,
          m.padL,
          m.padR,
        ),
        "dnnl_dilated_convolution_backward_data_desc_init",
        key,
      );
      return d.primitive(op, { hint: hint.p, what: key });
    },
    ARG.diffDst,
    ARG.diffSrc,
  );
  winoCache.set(key, w);
  return w;
}

/**
 * Which kernels a convolution of this geometry runs now: oneDNN's implementation names for
 * forward (no bias, no post-op) and backward data (tests and benches).
 */
export function dnnlConvImpls(d: Dnnl, c: ConvInfo): { forward: string; backwardData: string } {
  const wf = winoForward(d, c, false, undefined);
  const wb = winoBackwardData(d, c);
  return {
    forward: wf ? wf.p.impl : forwardPrimitive(d, c, false, undefined).p.impl,
    backwardData: wb ? wb.p.impl : directBackwardData(d, c).p.impl,
  };
}

/** Weights in the primitive's layout: reordered into a scratch slot unless already its own. */
function weightsFor(w: WithWeights, filter: Float32Array, slot: string): Float32Array {
  if (!w.reorder) return filter;
  const out = scratch(slot, w.weightFloats);
  w.reorder.execute({ [ARG.src]: filter, [ARG.dst]: out });
  return out;
}

/**
 * `y = act(conv(x, filter) + bias)` with `x` `[N, H, W, Ci]`, `filter` `[KH, KW, Ci, Co]`;
 * returns `[N, OH, OW, Co]`.
 */
export function dnnlConvForward(
  d: Dnnl,
  x: Float32Array,
  filter: Float32Array,
  c: ConvInfo,
  bias?: Float32Array,
  activation?: string,
  alpha = 0.2,
): Float32Array {
  const postOp = POST_OPS[activation ?? "linear"](alpha);
  const out = allocF32(c.batchSize * c.outHeight * c.outWidth * c.outChannels);
  const wino = winoForward(d, c, bias !== undefined, postOp);
  if (wino) {
    const xb = scratch("dnnl wino in", wino.inFloats);
    wino.toBlocked.execute({ [ARG.src]: x, [ARG.dst]: xb });
    const yb = scratch("dnnl wino out", wino.outFloats);
    wino.p.execute({
      [ARG.src]: xb,
      [ARG.weights]: weightsFor(wino, filter, "dnnl conv weights"),
      [ARG.bias]: bias,
      [ARG.dst]: yb,
    });
    wino.fromBlocked.execute({ [ARG.src]: yb, [ARG.dst]: out });
    return out;
  }
  const w = forwardPrimitive(d, c, bias !== undefined, postOp);
  w.p.execute({
    [ARG.src]: x,
    [ARG.weights]: weightsFor(w, filter, "dnnl conv weights"),
    [ARG.bias]: bias,
    [ARG.dst]: out,
  });
  return out;
}

/** `dx` `[N, H, W, Ci]` from `dy` `[N, OH, OW, Co]` and `filter` `[KH, KW, Ci, Co]`. */
export function dnnlConvBackwardData(
  d: Dnnl,
  dy: Float32Array,
  filter: Float32Array,
  c: ConvInfo,
): Float32Array {
  const dx = allocF32(c.batchSize * c.inHeight * c.inWidth * c.inChannels);
  const wino = winoBackwardData(d, c);
  if (wino) {
    const dyb = scratch("dnnl wino in", wino.inFloats);
    wino.toBlocked.execute({ [ARG.src]: dy, [ARG.dst]: dyb });
    const dxb = scratch("dnnl wino out", wino.outFloats);
    wino.p.execute({
      [ARG.diffDst]: dyb,
      [ARG.weights]: weightsFor(wino, filter, "dnnl conv weights"),
      [ARG.diffSrc]: dxb,
    });
    wino.fromBlocked.execute({ [ARG.src]: dxb, [ARG.dst]: dx });
    return dx;
  }
  const w = directBackwardData(d, c);
  w.p.execute({
    [ARG.diffDst]: dy,
    [ARG.weights]: weightsFor(w, filter, "dnnl conv weights"),
    [ARG.diffSrc]: dx,
  });
  return dx;
}

function directBackwardData(d: Dnnl, c: ConvInfo): WithWeights {
  const key = `conv bwd data ${geometryKey(c)}`;
  let w = backwardCache.get(key);
  if (!w) {
    const hint = forwardPrimitive(d, c, false, undefined).p;
    const m = descs(d, c);
    const op = d.opDesc();
    d.check(
      d.symbols.dnnl_dilated_convolution_backward_data_desc_init(
        op,
        ALG.convolutionDirect,
        m.src,
        m.weightsAny,
        m.dst,
        m.strides,
        m.dilates,
        m.padL,
        m.padR,
      ),
      "dnnl_dilated_convolution_backward_data_desc_init",
      key,
    );
    const p = d.cached(key, () => d.primitive(op, { hint, what: key }));
    w = withWeights(d, p, ARG.weights, m.weightsHwio, false);
    backwardCache.set(key, w);
  }
  return w;
}

/**
 * `dfilter` `[KH, KW, Ci, Co]` from `x` `[N, H, W, Ci]` and `dy` `[N, OH, OW, Co]`; with `dbias`
 * (length `Co`) also the bias gradient, the sum of `dy` over N, OH, OW.
 */
export function dnnlConvBackwardWeights(
  d: Dnnl,
  x: Float32Array,
  dy: Float32Array,
  c: ConvInfo,
  dbias?: Float32Array,
): Float32Array {
  const key = `conv bwd weights ${geometryKey(c)} ${dbias !== undefined}`;
  let w = backwardCache.get(key);
  if (!w) {
    const hint = forwardPrimitive(d, c, dbias !== undefined, undefined).p;
    const m = descs(d, c);
    const op = d.opDesc();
    d.check(
      d.symbols.dnnl_dilated_convolution_backward_weights_desc_init(
        op,
        ALG.convolutionDirect,
        m.src,
        m.weightsAny,
        dbias ? d.memoryDesc([c.outChannels], TAG.a) : null,
        m.dst,
        m.strides,
        m.dilates,
        m.padL,
        m.padR,
      ),
      "dnnl_dilated_convolution_backward_weights_desc_init",
      key,
    );
    const p = d.cached(key, () => d.primitive(op, { hint, what: key }));
    w = withWeights(d, p, ARG.diffWeights, m.weightsHwio, true);
    backwardCache.set(key, w);
  }
  const dw = allocF32(c.filterHeight * c.filterWidth * c.inChannels * c.outChannels);
  const target = w.reorder ? scratch("dnnl conv dweights", w.weightFloats) : dw;
  w.p.execute({
    [ARG.src]: x,
    [ARG.diffDst]: dy,
    [ARG.diffWeights]: target,
    [ARG.diffBias]: dbias,
  });
  if (w.reorder) w.reorder.execute({ [ARG.src]: target, [ARG.dst]: dw });
  return dw;
}
