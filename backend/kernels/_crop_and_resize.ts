/**
 * `CropAndResize` (the kernel behind `tf.image.cropAndResize`) for the wasm backend.
 *
 * The stock wasm kernel of tfjs 4.22 samples some boxes at the wrong pixels: a 12x12 box over
 * rows 0-11 and columns 2-13 of a 16x16 image comes back as columns 0-11 (bilinear and nearest),
 * and in "nearest" mode boxes starting at other rows lose their left edge too (measured
 * 2026-12-01; randomResizedCrop's seed 14 hit it, and 10 of 40 textAugment draws). This is TensorFlow's
 * `crop_and_resize_op` sampling rule, as tfjs-backend-cpu implements it: for output row `y`,
 * `y1 * (H - 1) + y * (y2 - y1) * (H - 1) / (cropH - 1)` (the box's middle when `cropH` is 1),
 * bilinear between the four neighbours or the rounded nearest pixel, and `extrapolationValue`
 * outside the image. It reads and writes through the backend's synchronous `readSync`/`write`,
 * so it is pixel-for-pixel the cpu kernel's output.
 *
 * @module
 */
import type { tf } from "../tf.ts";

/** The kernel function: inputs `image` `[B,H,W,C]`, `boxes` `[N,4]`, `boxInd` `[N]`. */
export function cropAndResize(
  args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap },
): tf.TensorInfo {
  const { image, boxes, boxInd } = args.inputs as {
    image: tf.TensorInfo;
    boxes: tf.TensorInfo;
    boxInd: tf.TensorInfo;
  };
  const { cropSize, method = "bilinear", extrapolationValue = 0 } = (args.attrs ?? {}) as {
    cropSize: [number, number];
    method?: "bilinear" | "nearest";
    extrapolationValue?: number;
  };
  const backend = args.backend;
  const [batch, h, w, channels] = image.shape;
  const n = boxes.shape[0];
  const [ch, cw] = cropSize;
  const pixels = backend.readSync(image.dataId) as ArrayLike<number>;
  const box = backend.readSync(boxes.dataId) as ArrayLike<number>;
  const which = backend.readSync(boxInd.dataId) as ArrayLike<number>;
  const out = new Float32Array(n * ch * cw * channels);
  const bilinear = method === "bilinear";
  for (let k = 0; k < n; k++) {
    const [y1, x1, y2, x2] = [box[4 * k], box[4 * k + 1], box[4 * k + 2], box[4 * k + 3]];
    const b = which[k];
    const outBase = k * ch * cw * channels;
    if (!(b >= 0 && b < batch)) {
      // TensorFlow leaves such boxes at zero (tfjs-backend-cpu skips them)
      continue;
    }
    const hs = ch > 1 ? (y2 - y1) * (h - 1) / (ch - 1) : 0;
    const ws = cw > 1 ? (x2 - x1) * (w - 1) / (cw - 1) : 0;
    const imgBase = b * h * w * channels;
    for (let y = 0; y < ch; y++) {
      const yIn = ch > 1 ? y1 * (h - 1) + y * hs : 0.5 * (y1 + y2) * (h - 1);
      for (let x = 0; x < cw; x++) {
        const xIn = cw > 1 ? x1 * (w - 1) + x * ws : 0.5 * (x1 + x2) * (w - 1);
        const o = outBase + (y * cw + x) * channels;
        if (yIn < 0 || yIn > h - 1 || xIn < 0 || xIn > w - 1) {
          out.fill(extrapolationValue, o, o + channels);
          continue;
        }
        if (!bilinear) {
          const at = imgBase + (Math.round(yIn) * w + Math.round(xIn)) * channels;
          for (let c = 0; c < channels; c++) out[o + c] = pixels[at + c];
          continue;
        }
        const top = Math.floor(yIn), bottom = Math.ceil(yIn), yl = yIn - top;
        const left = Math.floor(xIn), right = Math.ceil(xIn), xl = xIn - left;
        const tl = imgBase + (top * w + left) * channels;
        const tr = imgBase + (top * w + right) * channels;
        const bl = imgBase + (bottom * w + left) * channels;
        const br = imgBase + (bottom * w + right) * channels;
        for (let c = 0; c < channels; c++) {
          const upper = pixels[tl + c] + (pixels[tr + c] - pixels[tl + c]) * xl;
          const lower = pixels[bl + c] + (pixels[br + c] - pixels[bl + c]) * xl;
          out[o + c] = upper + (lower - upper) * yl;
        }
      }
    }
  }
  const shape = [n, ch, cw, channels];
  return { dataId: backend.write(out, shape, "float32"), shape, dtype: "float32" };
}
