// Small raster helpers on single-channel float masks (values in [0, 1]), row-major.

/** A single-channel image. */
export interface Mask {
  data: Float32Array;
  width: number;
  height: number;
}

function sample(m: Mask, x: number, y: number): number {
  // Bilinear, zero outside; (x, y) in pixel-center coordinates.
  const x0 = Math.floor(x), y0 = Math.floor(y);
  const fx = x - x0, fy = y - y0;
  const { data, width, height } = m;
  const at = (xx: number, yy: number) =>
    xx < 0 || yy < 0 || xx >= width || yy >= height ? 0 : data[yy * width + xx];
  return (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) +
    (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
}

/**
 * Draws `src` scaled by `(sx, sy)` and rotated by `angle` (radians, about its center) with its
 * center at `(cx, cy)` of `dst`, taking the maximum with what is there (inverse mapping,
 * bilinear). When shrinking by more than 1.5x, `src` is box-filtered first to avoid aliasing.
 */
export function drawAffine(
  dst: Mask,
  src: Mask,
  cx: number,
  cy: number,
  sx: number,
  sy: number,
  angle = 0,
): void {
  let s = src;
  if (sx < 0.67 || sy < 0.67) {
    const w = Math.max(1, Math.round(src.width * sx));
    const h = Math.max(1, Math.round(src.height * sy));
    s = resizeArea(src, w, h);
    // keep the drawn size at sx * src.width despite the rounding of w and h
    sx = (sx * src.width) / w;
    sy = (sy * src.height) / h;
  }
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const hw = (s.width * sx) / 2, hh = (s.height * sy) / 2;
  const rx = Math.abs(hw * cos) + Math.abs(hh * sin), ry = Math.abs(hw * sin) + Math.abs(hh * cos);
  const x0 = Math.max(0, Math.floor(cx - rx - 1)), x1 = Math.min(dst.width, Math.ceil(cx + rx + 1));
  const y0 = Math.max(0, Math.floor(cy - ry - 1)),
    y1 = Math.min(dst.height, Math.ceil(cy + ry + 1));
  const scx = s.width / 2, scy = s.height / 2;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const dx = x + 0.5 - cx, dy = y + 0.5 - cy;
      // inverse rotation, then inverse scale, into source pixel-center coordinates
      const u = (dx * cos + dy * sin) / sx + scx - 0.5;
      const v = (-dx * sin + dy * cos) / sy + scy - 0.5;
      if (u < -1 || v < -1 || u > s.width || v > s.height) continue;
      const val = sample(s, u, v);
      const i = y * dst.width + x;
      if (val > dst.data[i]) dst.data[i] = val;
    }
  }
}

/** Box-filter (area) resize. */
export function resizeArea(src: Mask, width: number, height: number): Mask {
  const out = new Float32Array(width * height);
  const kx = src.width / width, ky = src.height / height;
  for (let y = 0; y < height; y++) {
    const ya = y * ky, yb = ya + ky;
    for (let x = 0; x < width; x++) {
      const xa = x * kx, xb = xa + kx;
      let sum = 0, area = 0;
      for (let yy = Math.floor(ya); yy < Math.min(src.height, Math.ceil(yb)); yy++) {
        const wy = Math.min(yb, yy + 1) - Math.max(ya, yy);
        for (let xx = Math.floor(xa); xx < Math.min(src.width, Math.ceil(xb)); xx++) {
          const w = wy * (Math.min(xb, xx + 1) - Math.max(xa, xx));
          sum += w * src.data[yy * src.width + xx];
          area += w;
        }
      }
      out[y * width + x] = area > 0 ? sum / area : 0;
    }
  }
  return { data: out, width, height };
}
