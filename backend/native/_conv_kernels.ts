/**
 * The conv kernel functions tfjs calls: attribute handling and fallbacks around `_conv.ts`.
 *
 * @module
 */
import { tf } from "../tf.ts";
import type { Blas } from "./_blas.ts";
import { conv2dBackpropFilter, conv2dBackpropInput, conv2dForward } from "./_conv.ts";
import { dnnlOrUndefined } from "./_dnnl.ts";
import { type Backend, lazyTensor, valuesOf } from "./_lineage.ts";
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

let dataGradients = 0;

/** Input gradients `Conv2DBackpropInput` has computed in this process (tests). */
export function convDataGradientsComputed(): number {
  return dataGradients;
}

/**
 * The `Conv2DBackpropInput` kernel, lazy: `dx` is computed when something reads it. tfjs's fused
 * convolution (what tfjs-layers' `conv2d` runs) computes both input and filter gradients in its
 * custom gradient, and the engine then drops the input gradient of a layer whose input needs none,
 * the network's first convolution (ResNet-18's stem: a [128, 32, 32, 3] gradient, 18 ms a step);
 * that one is now never computed. Every other `dx` is read by the next gradient kernel at once.
 */
export function makeConv2DBackpropInput(blas: Blas, fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const { dy, filter } = args.inputs;
    const attrs = args.attrs as unknown as ConvAttrs;
    if (!f32(backend, dy) || !f32(backend, filter) || !nhwc(attrs) || !attrs.inputShape) {
      return fallback(args);
    }
    const info = convInfo(attrs.inputShape, filter!.shape, attrs);
    const lazy = backend as unknown as Backend;
    const ids = { dy: dy!.dataId as object, filter: filter!.dataId as object };
    return lazyTensor(lazy, info.inShape.slice(), [ids.dy, ids.filter], () => {
      dataGradients++;
      const dyv = valuesOf(lazy, ids.dy);
      const fv = valuesOf(lazy, ids.filter);
      const dnnl = dnnlOrUndefined();
      return dnnl && dnnlFits(info)
        ? dnnlConvBackwardData(dnnl, dyv, fv, info)
        : conv2dBackpropInput(blas, dyv, fv, info);
    });
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
