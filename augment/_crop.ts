/**
 * Private crop-box sampling shared by the crop ops and presets.
 *
 * @module
 */
import { uniform } from "./_common.ts";

/**
 * Crop boxes `[y1, x1, y2, x2]` (normalized, corner-aligned as `tf.image.cropAndResize` reads
 * them) for `b` random crops of an `h x w` image: torchvision's sampling, 10 tries per sample,
 * then a center crop with the ratio clamped.
 */
export function sampleCropBoxes(
  prng: () => number,
  b: number,
  h: number,
  w: number,
  scale: [number, number],
  ratio: [number, number],
): Float32Array {
  const boxes = new Float32Array(b * 4);
  const area = h * w;
  const logLo = Math.log(ratio[0]), logHi = Math.log(ratio[1]);
  for (let s = 0; s < b; s++) {
    let ch = 0, cw = 0, top = 0, left = 0;
    let found = false;
    for (let attempt = 0; attempt < 10 && !found; attempt++) {
      const target = area * uniform(prng, scale[0], scale[1]);
      const aspect = Math.exp(uniform(prng, logLo, logHi));
      cw = Math.round(Math.sqrt(target * aspect));
      ch = Math.round(Math.sqrt(target / aspect));
      if (cw > 0 && ch > 0 && cw <= w && ch <= h) {
        top = Math.floor(prng() * (h - ch + 1));
        left = Math.floor(prng() * (w - cw + 1));
        found = true;
      }
    }
    if (!found) {
      const inRatio = w / h;
      if (inRatio < ratio[0]) {
        cw = w;
        ch = Math.max(1, Math.min(h, Math.round(cw / ratio[0])));
      } else if (inRatio > ratio[1]) {
        ch = h;
        cw = Math.max(1, Math.min(w, Math.round(ch * ratio[1])));
      } else {
        cw = w;
        ch = h;
      }
      top = Math.floor((h - ch) / 2);
      left = Math.floor((w - cw) / 2);
    }
    boxes.set(cornerBox(top, left, ch, cw, h, w), s * 4);
  }
  return boxes;
}

/** The normalized box covering pixel rows `top..top+ch-1` and columns `left..left+cw-1`. */
export function cornerBox(
  top: number,
  left: number,
  ch: number,
  cw: number,
  h: number,
  w: number,
): [number, number, number, number] {
  const ny = Math.max(h - 1, 1), nx = Math.max(w - 1, 1);
  return [top / ny, left / nx, (top + ch - 1) / ny, (left + cw - 1) / nx];
}
