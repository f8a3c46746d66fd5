/**
 * A batch-correct `Transform` (the kernel behind `tf.image.transform`) for backends that use
 * tfjs-backend-cpu's: in 4.22 it returns from inside its batch loop, so only the first image is
 * transformed and the rest come back filled with `fillValue`. The wrapper runs the stock kernel
 * one image at a time and stitches the results.
 *
 * @module
 */
import type { tf } from "../tf.ts";

interface CpuLikeBackend {
  data: {
    get(dataId: unknown): { values: ArrayLike<number> & { slice(a: number, b: number): unknown } };
  };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: unknown): tf.TensorInfo;
  disposeIntermediateTensorInfo(info: tf.TensorInfo): void;
}

type KernelArgs = {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
};
type Kernel = (args: KernelArgs) => tf.TensorInfo;

const FIXED = Symbol("selfsup.batchTransform");

/** Whether `kernel` is already the batch-correct wrapper. */
export function isBatchTransform(kernel: unknown): boolean {
  return typeof kernel === "function" && FIXED in kernel;
}

/** Wraps the stock cpu `Transform` kernel so that every image of the batch is transformed. */
export function batchTransform(stock: Kernel): Kernel {
  const kernel = (args: KernelArgs): tf.TensorInfo => {
    const { image, transforms } = args.inputs as {
      image: tf.TensorInfo;
      transforms: tf.TensorInfo;
    };
    const batch = image.shape[0];
    if (batch <= 1) return stock(args);
    const backend = args.backend as unknown as CpuLikeBackend;
    const [, h, w, c] = image.shape;
    const per = h * w * c;
    const imageValues = backend.data.get(image.dataId).values;
    const transformValues = backend.data.get(transforms.dataId).values;
    const shared = transforms.shape[0] === 1;
    const parts: tf.TensorInfo[] = [];
    let out: Float32Array | Int32Array | undefined;
    try {
      for (let b = 0; b < batch; b++) {
        const one = backend.makeTensorInfo(
          [1, h, w, c],
          image.dtype,
          imageValues.slice(b * per, (b + 1) * per),
        );
        const t = backend.makeTensorInfo(
          [1, 8],
          transforms.dtype,
          shared ? transformValues.slice(0, 8) : transformValues.slice(b * 8, b * 8 + 8),
        );
        const part = stock({ ...args, inputs: { image: one, transforms: t } });
        backend.disposeIntermediateTensorInfo(one);
        backend.disposeIntermediateTensorInfo(t);
        parts.push(part);
        const values = backend.data.get(part.dataId).values as Float32Array | Int32Array;
        if (!out) out = new (values.constructor as Float32ArrayConstructor)(batch * values.length);
        out.set(values, b * values.length);
      }
      const [, oh, ow, oc] = parts[0].shape;
      return backend.makeTensorInfo([batch, oh, ow, oc], image.dtype, out);
    } finally {
      for (const part of parts) backend.disposeIntermediateTensorInfo(part);
    }
  };
  Object.defineProperty(kernel, FIXED, { value: true });
  return kernel;
}
