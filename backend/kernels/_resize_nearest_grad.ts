/**
 * `ResizeNearestNeighborGrad` (the gradient of `upSampling2d`) for the cpu, native and wasm
 * backends.
 *
 * The stock cpu kernel offsets `dy` by the input's batch stride instead of `dy`'s, so every
 * image after the first gets the gradient of the wrong pixels (batch 16, 7x7 -> 14x14, 8
 * channels: max error 3.2 against a float64 reference), and both the cpu and the wasm kernels
 * ignore `halfPixelCenters`. This is the exact adjoint of the forward kernel: each `dy` pixel is
 * added to the input pixel the forward pass read it from. It reads and writes through the
 * backend's synchronous `readSync`/`write`, so one implementation serves every CPU backend.
 *
 * @module
 */
import type { tf } from "../tf.ts";

/** The source index the cpu forward kernel reads for output index `i` along one axis. */
function sourceIndex(
  i: number,
  ratio: number,
  oldSize: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): number {
  const frac = halfPixelCenters ? ratio * (i + 0.5) : ratio * i;
  const nearest = Math.min(oldSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
  return halfPixelCenters ? Math.max(0, nearest) : nearest;
}

/** The kernel function: inputs `images` `[B,H,W,C]` and `dy` `[B,H',W',C]`. */
export function resizeNearestNeighborGrad(
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap },
): tf.TensorInfo {
  const { images, dy } = args.inputs as { images: tf.TensorInfo; dy: tf.TensorInfo };
  const { alignCorners = false, halfPixelCenters = false } = (args.attrs ?? {}) as {
    alignCorners?: boolean;
    halfPixelCenters?: boolean;
  };
  const backend = args.backend;
  const [batch, oldH, oldW, channels] = images.shape;
  const [, newH, newW] = dy.shape;
  const ratioH = ((alignCorners && newH > 1) ? oldH - 1 : oldH) /
    ((alignCorners && newH > 1) ? newH - 1 : newH);
  const ratioW = ((alignCorners && newW > 1) ? oldW - 1 : oldW) /
    ((alignCorners && newW > 1) ? newW - 1 : newW);
  const cols = Int32Array.from(
    { length: newW },
    (_, c) => sourceIndex(c, ratioW, oldW, alignCorners, halfPixelCenters),
  );
  const dyValues = backend.readSync(dy.dataId) as Float32Array;
  const dx = new Float32Array(batch * oldH * oldW * channels);
  let at = 0; // walks dy in memory order
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < newH; r++) {
      const row = sourceIndex(r, ratioH, oldH, alignCorners, halfPixelCenters);
      const rowBase = (b * oldH + row) * oldW;
      for (let c = 0; c < newW; c++) {
        const base = (rowBase + cols[c]) * channels;
        for (let d = 0; d < channels; d++) dx[base + d] += dyValues[at++];
      }
    }
  }
  const shape = images.shape.slice();
  return { dataId: backend.write(dx, shape, "float32"), shape, dtype: "float32" };
}
