/**
 * The conv kernel functions tfjs calls: attribute handling and fallbacks around `_conv.ts`.
 *
 * @module
 */
import { tf } from "../tf.ts";
import type { Blas } from "./_blas.ts";
import { conv2dBackpropFilter, conv2dBackpropInput, conv2dForward } from "./_conv.ts";
import { dnnlOrUndefined } from "./_dnnl.ts";
import {
  dnnlActivation,
  dnnlConvBackwardData,
  dnnlConvBackwardWeights,
  dnnlConvForward,
  dnnlFits,
} from "./_dnnl_conv.ts";
import {
  activateInPlace,
  addBias,
  canFuseActivation,
  type CpuLikeBackend,
  f32,
  type KernelFn,
} from "./_util.ts";

interface ConvAttrs {
  strides: [number, number] | number;
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dilations?: [number, number] | number;
  dimRoundingMode?: "floor" | "round" | "ceil";
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
  activation?: string;
  leakyreluAlpha?: number;
}

function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
  dilations: [number, number] | number = 1,
) {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
}

function nhwc(attrs: ConvAttrs): boolean {
  return attrs.dataFormat === undefined || attrs.dataFormat === "NHWC";
}

/** The `Conv2D` kernel. */
export function makeConv2D(blas: Blas, fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { x, filter } = args.inputs;
    const attrs = args.attrs as unknown as ConvAttrs;
    const xv = f32(backend, x);
    const fv = f32(backend, filter);
    if (!xv || !fv || !nhwc(attrs) || x!.shape.length !== 4) return fallback(args);
    const info = convInfo(x!.shape, filter!.shape, attrs, attrs.dilations);
    const dnnl = dnnlOrUndefined();
    const out = dnnl && dnnlFits(info)
      ? dnnlConvForward(dnnl, xv, fv, info)
      : conv2dForward(blas, xv, fv, info);
    return backend.makeTensorInfo(info.outShape, "float32", out);
  };
}

/** The `FusedConv2D` kernel: bias and activation applied in place after the sgemm. */
export function makeFusedConv2D(blas: Blas, fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { x, filter, bias } = args.inputs;
    const attrs = args.attrs as unknown as ConvAttrs;
    const xv = f32(backend, x);
    const fv = f32(backend, filter);
    const bv = bias ? f32(backend, bias) : undefined;
    if (
      !xv || !fv || (bias && !bv) || !nhwc(attrs) || x!.shape.length !== 4 ||
      !canFuseActivation(attrs.activation)
    ) {
      return fallback(args);
    }
    const info = convInfo(x!.shape, filter!.shape, attrs, attrs.dilations);
    if (bv && bv.length !== 1 && bv.length !== info.outChannels) return fallback(args);
    const dnnl = dnnlOrUndefined();
    if (
      dnnl && dnnlFits(info) && dnnlActivation(attrs.activation) &&
      (!bv || bv.length === info.outChannels)
    ) {
      const y = dnnlConvForward(dnnl, xv, fv, info, bv, attrs.activation, attrs.leakyreluAlpha);
      return backend.makeTensorInfo(info.outShape, "float32", y);
    }
    const out = conv2dForward(blas, xv, fv, info);
    if (bv) addBias(out, info.outChannels, bv);
    activateInPlace(out, attrs.activation, attrs.leakyreluAlpha);
    return backend.makeTensorInfo(info.outShape, "float32", out);
  };
}

/** The `Conv2DBackpropInput` kernel. */
export function makeConv2DBackpropInput(blas: Blas, fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { dy, filter } = args.inputs;
    const attrs = args.attrs as unknown as ConvAttrs;
    const dyv = f32(backend, dy);
    const fv = f32(backend, filter);
    if (!dyv || !fv || !nhwc(attrs) || !attrs.inputShape) return fallback(args);
    const info = convInfo(attrs.inputShape, filter!.shape, attrs);
    const dnnl = dnnlOrUndefined();
    const dx = dnnl && dnnlFits(info)
      ? dnnlConvBackwardData(dnnl, dyv, fv, info)
      : conv2dBackpropInput(blas, dyv, fv, info);
    return backend.makeTensorInfo(info.inShape, "float32", dx);
  };
}

/** The `Conv2DBackpropFilter` kernel. */
export function makeConv2DBackpropFilter(blas: Blas, fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { x, dy } = args.inputs;
    const attrs = args.attrs as unknown as ConvAttrs;
    const xv = f32(backend, x);
    const dyv = f32(backend, dy);
    if (!xv || !dyv || !nhwc(attrs) || !attrs.filterShape) return fallback(args);
    const info = convInfo(x!.shape, attrs.filterShape, attrs);
    const dnnl = dnnlOrUndefined();
    const dw = dnnl && dnnlFits(info)
      ? dnnlConvBackwardWeights(dnnl, xv, dyv, info)
      : conv2dBackpropFilter(blas, xv, dyv, info);
    return backend.makeTensorInfo(info.filterShape, "float32", dw);
  };
}
