/**
 * Helpers shared by the training kernels: geometry from kernel attributes, reading inputs and
 * writing outputs on any backend, and turning kernel inputs into tensors for op-composed kernels.
 *
 * @module
 */
import { tf } from "../tf.ts";

/** The geometry of a 2-D convolution, as tfjs computes it. */
export type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** Attributes shared by the convolution gradient kernels. */
export interface ConvAttrs {
  strides: number | [number, number];
  pad: "same" | "valid" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
  dilations?: number | [number, number];
}

/** tfjs's geometry for a convolution whose input is `xShape` and filter `filterShape`. */
export function convInfo(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: ConvAttrs,
  depthwise: boolean,
): ConvInfo {
  const format = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat ?? "NHWC");
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
    format,
  );
}

/** The values of a kernel input as a typed array (a copy or a view; never written to). */
export function readValues(backend: tf.KernelBackend, info: tf.TensorInfo): Float32Array {
  const values = backend.readSync(info.dataId);
  if (!(values instanceof Float32Array)) {
    throw new TypeError(
      `Cannot run a training kernel: expected float32 inputs, received ${info.dtype}`,
    );
  }
  return values;
}

/** Writes `values` as a new tensor on `backend` and returns its info (the kernel's output). */
export function writeOutput(
  backend: tf.KernelBackend,
  values: tf.backend_util.BackendValues,
  shape: number[],
  dtype: tf.DataType = "float32",
): tf.TensorInfo {
  return { dataId: backend.write(values, shape, dtype), shape, dtype };
}

/**
 * A tensor view of a kernel input, so op-composed kernels can call tf ops on it. Call inside
 * `tf.tidy`: the view only adds a reference, which the tidy releases.
 */
export function asTensor<R extends tf.Rank>(info: tf.TensorInfo): tf.Tensor<R> {
  if (info instanceof tf.Tensor) return info as tf.Tensor<R>;
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor<R>;
}

/**
 * Pads (positive amounts) or crops (negative amounts) the two spatial axes of an NHWC tensor.
 *
 * @param x shape `[n, h, w, c]`
 */
export function padOrCrop(
  x: tf.Tensor4D,
  top: number,
  bottom: number,
  left: number,
  right: number,
): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  let y = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const t = Math.max(0, -top), l = Math.max(0, -left);
    y = tf.slice(y, [0, t, l, 0], [
      n,
      h - t - Math.max(0, -bottom),
      w - l - Math.max(0, -right),
      c,
    ]);
  }
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    y = tf.pad(y, [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [
      Math.max(0, left),
      Math.max(0, right),
    ], [0, 0]]);
  }
  return y;
}
