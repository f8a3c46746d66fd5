/**
 * Float64 loop references for 2-D convolutions (NHWC), written from the definition, for the
 * kernel tests: no tfjs geometry code is reused.
 *
 * @module
 */

/** Geometry of a reference convolution. */
export interface RefConv {
  n: number;
  h: number;
  w: number;
  ci: number;
  /** Output channels; for depthwise, the channel multiplier. */
  co: number;
  kh: number;
  kw: number;
  stride: [number, number];
  dilation?: [number, number];
  pad: "same" | "valid" | [[number, number], [number, number]];
  depthwise?: boolean;
}

/** Output size and padding, as TensorFlow defines `same` and `valid`. */
export function refGeometry(
  c: RefConv,
): { ho: number; wo: number; top: number; left: number; outC: number } {
  const [sh, sw] = c.stride;
  const [dh, dw] = c.dilation ?? [1, 1];
  const ekh = (c.kh - 1) * dh + 1, ekw = (c.kw - 1) * dw + 1;
  const outC = c.depthwise ? c.ci * c.co : c.co;
  if (c.pad === "same") {
    const ho = Math.ceil(c.h / sh), wo = Math.ceil(c.w / sw);
    const padH = Math.max((ho - 1) * sh + ekh - c.h, 0);
    const padW = Math.max((wo - 1) * sw + ekw - c.w, 0);
    return { ho, wo, top: Math.floor(padH / 2), left: Math.floor(padW / 2), outC };
  }
  if (c.pad === "valid") {
    return {
      ho: Math.ceil((c.h - ekh + 1) / sh),
      wo: Math.ceil((c.w - ekw + 1) / sw),
      top: 0,
      left: 0,
      outC,
    };
  }
  const [[t, b], [l, r]] = c.pad;
  return {
    ho: Math.floor((c.h + t + b - ekh) / sh) + 1,
    wo: Math.floor((c.w + l + r - ekw) / sw) + 1,
    top: t,
    left: l,
    outC,
  };
}

/** Calls `visit(xIndex, filterIndex, yIndex)` for every multiply of the convolution. */
function forEachTap(c: RefConv, visit: (xi: number, fi: number, yi: number) => void): void {
  const { ho, wo, top, left, outC } = refGeometry(c);
  const [sh, sw] = c.stride;
  const [dh, dw] = c.dilation ?? [1, 1];
  for (let b = 0; b < c.n; b++) {
    for (let a = 0; a < ho; a++) {
      for (let q = 0; q < wo; q++) {
        for (let i = 0; i < c.kh; i++) {
          for (let j = 0; j < c.kw; j++) {
            const row = a * sh + i * dh - top, col = q * sw + j * dw - left;
            if (row < 0 || row >= c.h || col < 0 || col >= c.w) continue;
            for (let ch = 0; ch < c.ci; ch++) {
              const xi = ((b * c.h + row) * c.w + col) * c.ci + ch;
              for (let o = 0; o < c.co; o++) {
                // depthwise: output channel ch * m + o, filter [i, j, ch, o]
                const oc = c.depthwise ? ch * c.co + o : o;
                const fi = ((i * c.kw + j) * c.ci + ch) * c.co + o;
                visit(xi, fi, ((b * ho + a) * wo + q) * outC + oc);
              }
            }
          }
        }
      }
    }
  }
}

/** y = conv(x, f), shape `[n, ho, wo, outC]`. */
export function refConv(c: RefConv, x: Float64Array, f: Float64Array): Float64Array {
  const { ho, wo, outC } = refGeometry(c);
  const y = new Float64Array(c.n * ho * wo * outC);
  forEachTap(c, (xi, fi, yi) => y[yi] += x[xi] * f[fi]);
  return y;
}

/** d/dx of sum(conv(x, f) * dy), shape `[n, h, w, ci]`. */
export function refConvInputGrad(c: RefConv, dy: Float64Array, f: Float64Array): Float64Array {
  const dx = new Float64Array(c.n * c.h * c.w * c.ci);
  forEachTap(c, (xi, fi, yi) => dx[xi] += dy[yi] * f[fi]);
  return dx;
}

/** d/df of sum(conv(x, f) * dy), shape `[kh, kw, ci, co]`. */
export function refConvFilterGrad(c: RefConv, x: Float64Array, dy: Float64Array): Float64Array {
  const df = new Float64Array(c.kh * c.kw * c.ci * c.co);
  forEachTap(c, (xi, fi, yi) => df[fi] += x[xi] * dy[yi]);
  return df;
}
