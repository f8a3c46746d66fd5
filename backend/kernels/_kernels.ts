/**
 * Kernel configs for the training kernels: which implementation serves which backend.
 *
 * @module
 */
import { tf } from "../tf.ts";
import {
  asTensor,
  type ConvAttrs,
  type ConvInfo,
  convInfo,
  readValues,
  writeOutput,
} from "./_common.ts";
import { conv2dBackpropFilterOps, conv2dBackpropInputOps } from "./_conv2d_backprop_ops.ts";
import {
  conv2dBackpropFilterLoops,
  conv2dBackpropInputLoops,
  depthwiseBackpropFilterLoops,
  depthwiseBackpropInputLoops,
} from "./_conv2d_backprop_loops.ts";
import { unsortedSegmentSumLoops } from "./_unsorted_segment_sum.ts";

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}
type Kernel = (args: KernelArgs) => tf.TensorInfo;
type Loops = (a: Float32Array, b: Float32Array, info: ConvInfo) => Float32Array;
type Ops = (a: tf.Tensor4D, b: tf.Tensor4D, info: ConvInfo) => tf.Tensor4D;

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];

/** Which input is the "x-like" tensor and which output shape attr each kernel has. */
interface ConvKernelSpec {
  name: string;
  /** Names of the two inputs, in the order the implementation takes them. */
  inputs: [string, string];
  /** The input that is NHWC/NCHW data (the other is a filter or an output gradient). */
  depthwise: boolean;
  /** Whether the output is a filter (else an NHWC/NCHW input gradient). */
  outputIsFilter: boolean;
}

const SPECS = {
  Conv2DBackpropFilter: {
    name: "Conv2DBackpropFilter",
    inputs: ["x", "dy"],
    depthwise: false,
    outputIsFilter: true,
  },
  Conv2DBackpropInput: {
    name: "Conv2DBackpropInput",
    inputs: ["dy", "filter"],
    depthwise: false,
    outputIsFilter: false,
  },
  DepthwiseConv2dNativeBackpropFilter: {
    name: "DepthwiseConv2dNativeBackpropFilter",
    inputs: ["x", "dy"],
    depthwise: true,
    outputIsFilter: true,
  },
  DepthwiseConv2dNativeBackpropInput: {
    name: "DepthwiseConv2dNativeBackpropInput",
    inputs: ["dy", "filter"],
    depthwise: true,
    outputIsFilter: false,
  },
} as const satisfies Record<string, ConvKernelSpec>;

type SpecName = keyof typeof SPECS;

interface ConvGradAttrs extends ConvAttrs {
  filterShape?: number[];
  inputShape?: number[];
}

function geometry(spec: ConvKernelSpec, args: KernelArgs): ConvInfo {
  const attrs = args.attrs as unknown as ConvGradAttrs;
  const [first, second] = spec.inputs.map((k) => args.inputs[k] as tf.TensorInfo);
  for (const [key, t] of [[spec.inputs[0], first], [spec.inputs[1], second]] as const) {
    if (t === undefined || t.shape.length !== 4) {
      throw new TypeError(
        `Cannot run ${spec.name}: expected a rank-4 input ${key}, received shape [${
          t?.shape ?? ""
        }]`,
      );
    }
  }
  const xShape = spec.outputIsFilter ? first.shape : attrs.inputShape;
  const filterShape = spec.outputIsFilter ? attrs.filterShape : second.shape;
  if (!xShape || !filterShape) {
    throw new TypeError(`Cannot run ${spec.name}: missing the filterShape or inputShape attr`);
  }
  return convInfo(xShape, filterShape, attrs, spec.depthwise);
}

/** A kernel that runs float32 loops on NHWC values, transposing NCHW data around them. */
function loopsKernel(spec: ConvKernelSpec, loops: Loops): Kernel {
  return (args: KernelArgs) => {
    const info = geometry(spec, args);
    const { backend } = args;
    const [first, second] = spec.inputs.map((k) => args.inputs[k] as tf.TensorInfo);
    const channelsFirst = info.dataFormat === "channelsFirst";
    const values = (t: tf.TensorInfo, isData: boolean): Float32Array => {
      if (!(channelsFirst && isData)) return readValues(backend, t);
      return tf.tidy(() => tf.transpose(asTensor(t), NCHW_TO_NHWC).dataSync() as Float32Array);
    };
    // the first input is data (x or dy); the second is dy for filter kernels, else the filter
    const out = loops(values(first, true), values(second, spec.outputIsFilter), info);
    if (spec.outputIsFilter) {
      return writeOutput(backend, out, [
        info.filterHeight,
        info.filterWidth,
        info.inChannels,
        info.outChannels / (spec.depthwise ? info.inChannels : 1),
      ]);
    }
    const nhwc = [info.batchSize, info.inHeight, info.inWidth, info.inChannels];
    if (!channelsFirst) return writeOutput(backend, out, nhwc);
    return tf.tidy(() => tf.transpose(tf.tensor(out, nhwc, "float32"), NHWC_TO_NCHW));
  };
}

/** A kernel composed of the backend's own ops on NHWC tensors. */
function opsKernel(spec: ConvKernelSpec, ops: Ops): Kernel {
  return (args: KernelArgs) => {
    const info = geometry(spec, args);
    const channelsFirst = info.dataFormat === "channelsFirst";
    return tf.tidy(() => {
      const [first, second] = spec.inputs.map((k, index) => {
        const t = asTensor<tf.Rank.R4>(args.inputs[k] as tf.TensorInfo);
        const isData = index === 0 || spec.outputIsFilter;
        return channelsFirst && isData ? tf.transpose(t, NCHW_TO_NHWC) : t;
      });
      const out = ops(first, second, info);
      return channelsFirst && !spec.outputIsFilter ? tf.transpose(out, NHWC_TO_NCHW) : out;
    });
  };
}

function unsortedSegmentSumKernel(args: KernelArgs): tf.TensorInfo {
  const { backend, inputs } = args;
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  const x = inputs.x as tf.TensorInfo;
  const ids = inputs.segmentIds as tf.TensorInfo;
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new TypeError(
      `Cannot run UnsortedSegmentSum: expected float32 or int32 data, received ${x.dtype}`,
    );
  }
  const { values, shape } = unsortedSegmentSumLoops(
    backend.readSync(x.dataId) as Float32Array | Int32Array,
    x.shape,
    backend.readSync(ids.dataId) as Int32Array,
    ids.shape,
    numSegments,
  );
  return writeOutput(backend, values, shape, x.dtype);
}

/** The kernels each backend gets: name to implementation. */
export function trainingKernels(backend: "cpu" | "wasm"): Map<string, tf.KernelFunc> {
  const kernels = new Map<string, tf.KernelFunc>();
  for (const [name, kernel] of kernelsFor(backend)) kernels.set(name, kernel as tf.KernelFunc);
  return kernels;
}

function kernelsFor(backend: "cpu" | "wasm"): Map<string, Kernel> {
  const k = (name: SpecName) => SPECS[name];
  const kernels = new Map<string, Kernel>();
  if (backend === "wasm") {
    kernels.set(
      "Conv2DBackpropFilter",
      opsKernel(k("Conv2DBackpropFilter"), (x, dy, info) => conv2dBackpropFilterOps(x, dy, info)),
    );
    kernels.set(
      "Conv2DBackpropInput",
      opsKernel(k("Conv2DBackpropInput"), (dy, f, info) => conv2dBackpropInputOps(dy, f, info)),
    );
    kernels.set(
      "DepthwiseConv2dNativeBackpropFilter",
      loopsKernel(k("DepthwiseConv2dNativeBackpropFilter"), depthwiseBackpropFilterLoops),
    );
    kernels.set(
      "DepthwiseConv2dNativeBackpropInput",
      loopsKernel(k("DepthwiseConv2dNativeBackpropInput"), depthwiseBackpropInputLoops),
    );
    kernels.set("UnsortedSegmentSum", unsortedSegmentSumKernel);
  } else {
    kernels.set(
      "Conv2DBackpropFilter",
      loopsKernel(k("Conv2DBackpropFilter"), conv2dBackpropFilterLoops),
    );
    kernels.set(
      "Conv2DBackpropInput",
      loopsKernel(k("Conv2DBackpropInput"), conv2dBackpropInputLoops),
    );
  }
  return kernels;
}
