/**
 * Plain float64 references for the augmentation tests, written from the sources the ops cite
 * (torchvision's RandomResizedCrop sampling, TensorFlow's crop_and_resize sampling rule), sharing
 * no code with augment/.
 *
 * @module
 */

/** A crop window in pixels: rows `top..top+height-1`, columns `left..left+width-1`. */
export interface Window {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * torchvision `RandomResizedCrop.get_params` on an `h x w` image, drawing from `prng` in its
 * order: area fraction, log-uniform aspect ratio, then top and left; 10 tries, then a center
 * crop with the ratio clamped.
 */
export function torchvisionWindow(
  prng: () => number,
  h: number,
  w: number,
  scale: [number, number],
  ratio: [number, number],
): Window {
  for (let attempt = 0; attempt < 10; attempt++) {
    const area = h * w * (scale[0] + (scale[1] - scale[0]) * prng());
    const logR = Math.log(ratio[0]) + (Math.log(ratio[1]) - Math.log(ratio[0])) * prng();
    const aspect = Math.exp(logR);
    const width = Math.round(Math.sqrt(area * aspect));
    const height = Math.round(Math.sqrt(area / aspect));
    if (width > 0 && width <= w && height > 0 && height <= h) {
      const top = Math.floor(prng() * (h - height + 1));
      const left = Math.floor(prng() * (w - width + 1));
      return { top, left, height, width };
    }
  }
  let width = w, height = h;
  if (w / h < ratio[0]) height = Math.round(w / ratio[0]);
  else if (w / h > ratio[1]) width = Math.round(h * ratio[1]);
  return { top: Math.floor((h - height) / 2), left: Math.floor((w - width) / 2), height, width };
}

/**
 * Resizes the window of sample `s` of `x` (`[B, H, W, C]` values) to `oh x ow`, corner-aligned
 * (first and last output pixels on the window's first and last pixels), bilinear or nearest.
 */
export function resizeWindow(
  x: ArrayLike<number>,
  [, h, w, c]: number[],
  s: number,
  win: Window,
  [oh, ow]: [number, number],
  method: "bilinear" | "nearest" = "bilinear",
): Float64Array {
  const out = new Float64Array(oh * ow * c);
  const at = (y: number, xx: number, k: number) => x[((s * h + y) * w + xx) * c + k];
  for (let i = 0; i < oh; i++) {
    const y = win.top + (oh > 1 ? i * (win.height - 1) / (oh - 1) : (win.height - 1) / 2);
    for (let j = 0; j < ow; j++) {
      const xx = win.left + (ow > 1 ? j * (win.width - 1) / (ow - 1) : (win.width - 1) / 2);
      for (let k = 0; k < c; k++) {
        let v: number;
        if (method === "nearest") v = at(Math.round(y), Math.round(xx), k);
        else {
          const [y0, x0] = [Math.floor(y), Math.floor(xx)];
          const [y1, x1] = [Math.min(y0 + 1, h - 1), Math.min(x0 + 1, w - 1)];
          const [fy, fx] = [y - y0, xx - x0];
          v = (1 - fy) * ((1 - fx) * at(y0, x0, k) + fx * at(y0, x1, k)) +
            fy * ((1 - fx) * at(y1, x0, k) + fx * at(y1, x1, k));
        }
        out[(i * ow + j) * c + k] = v;
      }
    }
  }
  return out;
}
