import { tf } from "../tf.ts";
import { type Blas, loadBlas } from "./_blas.ts";
import {
  makeConv2D,
  makeConv2DBackpropFilter,
  makeConv2DBackpropInput,
  makeFusedConv2D,
} from "./_conv_kernels.ts";
import {
  BINARY_OPS,
  BROADCAST_DIV,
  broadcastDiv,
  makeBinary,
  makeReduce,
  makeTile,
  makeUnary,
  RELU_GRAD,
  reluGrad,
  SQUARE_GRAD,
  UNARY_OPS,
} from "./_elementwise.ts";
import {
  BATCH_NORM_GRAD,
  BATCH_NORM_GRADIENT,
  BATCH_NORM_TRAIN_GRAD,
  batchNormGrad,
  batchNormTrainGrad,
  makeFusedBatchNorm,
} from "./_batch_norm.ts";
import {
  isPendingLazy,
  KNOWN_ZEROS,
  knownZerosKernel,
  releaseLazy,
  rewrapGraphHooks,
  withGraphHooks,
} from "./_lineage.ts";
import { noteDispose, noteEscape, noteWrite } from "./_buffers.ts";
import { BN_RELU_GRAD, bnReluGrad } from "./_bn_relu.ts";
import { LEAKY_RELU_GRAD, leakyReluGrad, withDnnlElementwise } from "./_dnnl_eltwise.ts";
import {
  installGradient,
  LEAKY_RELU_GRADIENT,
  MEAN_GRADIENT,
  RELU_GRADIENT,
  SQUARE_GRADIENT,
  SUB_GRADIENT,
  SUM_GRADIENT,
} from "./_gradients.ts";
import { makeBatchMatMul, makeFusedMatMul } from "./_matmul.ts";
import { makeAvgPool, makeAvgPoolGrad, makeMaxPool, makeMaxPoolGrad } from "./_pool.ts";
import { makeMirrorPad } from "./_pad.ts";
import { registerDnnlSoftmaxKernels } from "./_dnnl_softmax.ts";
import type { KernelFn } from "./_util.ts";
import { registerTrainingKernels } from "../kernels/mod.ts";

/** The kernels the native backend replaces, by tfjs kernel name. */
const OVERRIDES: Record<string, (blas: Blas, fallback: KernelFn) => KernelFn> = {
  BatchMatMul: makeBatchMatMul,
  _FusedMatMul: makeFusedMatMul,
  Conv2D: makeConv2D,
  FusedConv2D: makeFusedConv2D,
  Conv2DBackpropInput: makeConv2DBackpropInput,
  Conv2DBackpropFilter: makeConv2DBackpropFilter,
  Sum: (_, fallback) => makeReduce(false, fallback),
  Mean: (_, fallback) => makeReduce(true, fallback),
  Tile: (_, fallback) => makeTile(fallback),
  MaxPool: (_, fallback) => makeMaxPool(fallback),
  MaxPoolGrad: (_, fallback) => makeMaxPoolGrad(fallback),
  AvgPool: (_, fallback) => makeAvgPool(fallback),
  AvgPoolGrad: (_, fallback) => makeAvgPoolGrad(fallback),
  MirrorPad: (_, fallback) => makeMirrorPad(fallback),
  FusedBatchNorm: (_, fallback) => makeFusedBatchNorm(fallback),
  ...Object.fromEntries(
    Object.entries(BINARY_OPS).map(([name, expr]) => [
      name,
      (_: Blas, fallback: KernelFn) => makeBinary(expr, fallback),
    ]),
  ),
  ...Object.fromEntries(
    Object.entries(UNARY_OPS).map(([name, expr]) => [
      name,
      (_: Blas, fallback: KernelFn) => makeUnary(expr, fallback),
    ]),
  ),
};

/** What the native backend loaded, once {@linkcode registerNativeBackend} has succeeded. */
export interface NativeBackendInfo {
  /** The BLAS library file or name that loaded. */
  library: string;
  /** Threads the BLAS uses (0 when the library exposes no thread control). */
  threads: number;
  /** Kernel names that run on the BLAS (the rest are the cpu backend's). */
  kernels: string[];
}

let info: NativeBackendInfo | undefined;

/**
 * Registers the `native` backend with tfjs: the pure-JS cpu backend's storage and kernels, with
 * `BatchMatMul`, `_FusedMatMul`, `Conv2D`, `FusedConv2D`, `Conv2DBackpropInput` and
 * `Conv2DBackpropFilter` running on an sgemm through Deno FFI (tensor memory passed zero-copy),
 * and one-pass JS kernels for broadcasting elementwise ops, `Sum`/`Mean`, `Tile`, `MaxPool`,
 * `MaxPoolGrad` and `FusedBatchNorm`, with kernel outputs recycled from disposed tensors. It also
 * replaces the global `FusedBatchNorm`, `Relu`, `Mean`, `Sum` and `Square` gradients with ones
 * that use a single fused kernel on `native` and the gradient registered before on every other
 * backend. Calling it again is a no-op. The sgemm is the first of `SELFSUP_BLAS` (a path or a
 * name), oneDNN's `dnnl_sgemm` (libdnnl), OpenBLAS, MKL, BLIS, Accelerate (macOS) and the
 * reference `libblas.so.3`; it runs `SELFSUP_THREADS` threads, else one per core. When oneDNN 2.x
 * loads, the convolutions, batch norm (statistics, normalization and the whole training-mode
 * backward as one primitive each, fused with a following ReLU), `MaxPool`, `AvgPool`, the global
 * average pool, `Relu`, `LeakyRelu`, same-shape `Add` and their gradients run as oneDNN primitives
 * instead (`SELFSUP_DNNL_PRIMITIVES=0` keeps the sgemm and JS kernels).
 *
 * @returns what loaded
 * @throws {BackendUnavailableError} without `--allow-ffi` or when no BLAS loads (the message
 * names the package to install)
 *
 * @example
 * ```ts
 * import { tf } from "../tf.ts";
 * import { registerNativeBackend } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const { library } = await registerNativeBackend();
 * assert.ok(library.length > 0);
 * await tf.setBackend("native");
 * const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
 * assert.deepEqual(Array.from(y.dataSync()), [11]);
 * ```
 */
export async function registerNativeBackend(): Promise<NativeBackendInfo> {
  if (info) {
    installGradients(); // another module may have registered its own since
    return info;
  }
  const blas = loadBlas();
  const { MathBackendCPU } = await import("@tensorflow/tfjs-backend-cpu");
  /** The cpu backend, telling the buffer pool which arrays it holds, reads out and drops. */
  class NativeBackend extends MathBackendCPU {
    override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType) {
      noteWrite(values);
      return super.write(values, shape, dtype);
    }
    override move(
      dataId: tf.DataId,
      values: tf.backend_util.BackendValues,
      shape: number[],
      dtype: tf.DataType,
      refCount: number,
    ) {
      noteWrite(values);
      super.move(dataId, values, shape, dtype, refCount);
    }
    override readSync(dataId: tf.DataId) {
      const values = super.readSync(dataId);
      noteEscape(this.data.get(dataId)?.values);
      return values;
    }
    override disposeData(dataId: tf.DataId, force = false): boolean {
      // A lazy tensor never read is dropped without computing it (reading values would).
      const lazy = isPendingLazy(dataId as object);
      const values = !lazy && this.data.has(dataId) ? this.data.get(dataId).values : undefined;
      const done = super.disposeData(dataId, force);
      if (!this.data.has(dataId)) {
        if (lazy) releaseLazy(dataId as object);
        else if (values !== undefined) noteDispose(values);
      }
      return done;
    }
  }
  tf.registerBackend("native", () => {
    const backend = new NativeBackend();
    // The cpu backend prints a banner recommending tfjs-node on first use: not ours to print.
    (backend as unknown as { firstUse: boolean }).firstUse = false;
    return backend;
  }, 0);
  for (const config of tf.getKernelsForBackend("cpu")) {
    const make = OVERRIDES[config.kernelName];
    const kernelFunc = withGraphHooks(
      config.kernelName,
      withDnnlElementwise(
        config.kernelName,
        make
          ? make(blas, config.kernelFunc as unknown as KernelFn)
          : config.kernelFunc as unknown as KernelFn,
      ),
    ) as unknown as tf.KernelFunc;
    tf.registerKernel({ ...config, backendName: "native", kernelFunc });
  }
  const own: [string, KernelFn][] = [
    [BATCH_NORM_GRAD, batchNormGrad],
    [BATCH_NORM_TRAIN_GRAD, batchNormTrainGrad],
    [KNOWN_ZEROS, knownZerosKernel],
    [RELU_GRAD, reluGrad],
    [BN_RELU_GRAD, bnReluGrad],
    [LEAKY_RELU_GRAD, leakyReluGrad],
    [BROADCAST_DIV, broadcastDiv],
    [
      SQUARE_GRAD,
      makeBinary("y * (2 * x)", () => {
        throw new TypeError(`Cannot run ${SQUARE_GRAD}: expected float32 tensors`);
      }),
    ],
  ];
  for (const [kernelName, kernelFunc] of own) {
    tf.registerKernel({
      kernelName,
      backendName: "native",
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    });
  }
  // On oneDNN, when it loads: the contrastive losses' fused softmax cross-entropy, and Softmax,
  // Exp, Log, Max, Min, Sum, Mean above measured sizes (the kernels registered so far below them).
  const softmaxKernels = registerDnnlSoftmaxKernels("native");
  // The lineage / lazy-moments hooks stay outermost over kernels registered since.
  rewrapGraphHooks("native");
  installGradients();
  info = {
    library: blas.library,
    threads: blas.threads,
    kernels: [...Object.keys(OVERRIDES), ...own.map(([name]) => name), ...softmaxKernels],
  };
  return info;
}

function installGradients(): void {
  // The shared gradients first (idempotent), so that ours end up on top of them.
  registerTrainingKernels("native");
  installGradient(BATCH_NORM_GRADIENT);
  for (
    const g of [
      RELU_GRADIENT,
      LEAKY_RELU_GRADIENT,
      MEAN_GRADIENT,
      SUM_GRADIENT,
      SQUARE_GRADIENT,
      SUB_GRADIENT,
    ]
  ) {
    installGradient(g);
  }
}
