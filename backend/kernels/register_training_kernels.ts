import { tf } from "../tf.ts";
import { registerMissingGradients } from "./_gradients.ts";
import { trainingKernels } from "./_kernels.ts";
import { batchTransform, isBatchTransform } from "./_transform.ts";
import { resizeNearestNeighborGrad } from "./_resize_nearest_grad.ts";
import { cropAndResize } from "./_crop_and_resize.ts";

const done = new Set<string>();

/**
 * Registers the training kernels a backend lacks, or has only in a slow form, and the gradients
 * tfjs-core lacks (`Greater` and the other comparisons: zero; `StridedSlice`). Idempotent.
 *
 * - `wasm`: `Conv2DBackpropFilter` and a faster `Conv2DBackpropInput` composed of XNNPACK
 *   convolutions, `DepthwiseConv2dNativeBackpropFilter`/`BackpropInput` and
 *   `UnsortedSegmentSum` (the gradient of `gather`).
 * - `cpu`: `Conv2DBackpropFilter` and `Conv2DBackpropInput` as channel-contiguous loops (the
 *   stock weight gradient runs at about 0.01 GFLOP/s).
 *
 * - `cpu` and `native` (which reuses cpu's kernels): a batch-correct `Transform`
 *   (`tf.image.transform`), whose stock cpu kernel transforms only the first image of a batch,
 *   and a correct `ResizeNearestNeighborGrad` (the gradient of `upSampling2d`), whose stock cpu
 *   kernel reads the wrong `dy` pixels for every image after the first (wasm gets it too: its
 *   stock kernel ignores `halfPixelCenters`).
 * - `wasm`: a correct `CropAndResize` (`tf.image.cropAndResize`), whose stock kernel starts some
 *   crops at column 0 instead of the box's left edge (the cpu kernel's sampling, pixel for pixel).
 * - any other backend (`webgpu`, `tensorflow`): the gradients only, which every backend shares.
 *
 * `useBackend` calls it; call it yourself only when selecting a backend with `tf.setBackend`.
 *
 * @param backend the backend to patch
 *
 * @example
 * ```ts
 * import { registerTrainingKernels } from "./mod.ts";
 * import { tf } from "../tf.ts";
 * import assert from "node:assert/strict";
 * registerTrainingKernels("cpu");
 * registerTrainingKernels("cpu"); // a second call changes nothing
 * assert.ok(tf.getKernel("Conv2DBackpropFilter", "cpu"));
 * assert.ok(tf.getGradient("StridedSlice"));
 * ```
 */
export function registerTrainingKernels(backend: string): void {
  if (typeof backend !== "string" || backend === "") {
    throw new TypeError(
      `Cannot register training kernels: expected a backend name, received ${String(backend)}`,
    );
  }
  registerMissingGradients();
  if (backend === "cpu" || backend === "native" || backend === "wasm") fixResizeGrad(backend);
  if (backend === "cpu" || backend === "native") fixTransform(backend);
  if (backend === "wasm") fixCropAndResize(backend);
  if (backend !== "cpu" && backend !== "wasm") return;
  if (done.has(backend)) return;
  done.add(backend);
  for (const [kernelName, kernelFunc] of trainingKernels(backend)) {
    // replace the stock kernel quietly (registerKernel warns on a duplicate)
    if (tf.getKernel(kernelName, backend)) tf.unregisterKernel(kernelName, backend);
    tf.registerKernel({ kernelName, backendName: backend, kernelFunc });
  }
}

const resizeGradFixed = new Set<string>();

function fixResizeGrad(backend: string): void {
  if (resizeGradFixed.has(backend)) return;
  resizeGradFixed.add(backend);
  if (tf.getKernel("ResizeNearestNeighborGrad", backend)) {
    tf.unregisterKernel("ResizeNearestNeighborGrad", backend);
  }
  tf.registerKernel({
    kernelName: "ResizeNearestNeighborGrad",
    backendName: backend,
    kernelFunc: resizeNearestNeighborGrad as unknown as tf.KernelFunc,
  });
}

const cropFixed = new Set<string>();

function fixCropAndResize(backend: string): void {
  if (cropFixed.has(backend)) return;
  cropFixed.add(backend);
  if (tf.getKernel("CropAndResize", backend)) tf.unregisterKernel("CropAndResize", backend);
  tf.registerKernel({
    kernelName: "CropAndResize",
    backendName: backend,
    kernelFunc: cropAndResize as unknown as tf.KernelFunc,
  });
}

function fixTransform(backend: string): void {
  const config = tf.getKernel("Transform", backend);
  if (!config || isBatchTransform(config.kernelFunc)) return;
  tf.unregisterKernel("Transform", backend);
  tf.registerKernel({
    ...config,
    kernelFunc: batchTransform(
      config.kernelFunc as unknown as Parameters<typeof batchTransform>[0],
    ) as unknown as tf.KernelFunc,
  });
}
