/**
 * `Conv2D`, `FusedConv2D`, `Conv2DBackpropInput` and `Conv2DBackpropFilter` (NHWC) on
 * `cblas_sgemm`.
 *
 * Two lowerings:
 * - stride 1, dilation 1, at least {@linkcode SHIFT_MIN_CHANNELS} input channels: the input is
 *   zero-padded once and every filter tap `(ky, kx)` is one sgemm over all padded pixels, the
 *   tap's offset `ky * Wp + kx` being a pointer shift (no im2col matrix, 1.1-1.3x extra rows);
 * - anything else: im2col (or col2im) into a reused scratch buffer, then one sgemm per chunk of
 *   images.
 *
 * @module
 */
import type { tf } from "../tf.ts";
import type { Blas } from "./_blas.ts";
import { allocF32 } from "./_buffers.ts";
import { scratch } from "./_util.ts";

/** Input channels from which the shifted-tap lowering beats im2col. */
export const SHIFT_MIN_CHANNELS = 16;

/**
 * Floats of scratch per chunk: 1 MB buffers stay in L2 across the nine per-tap sgemms (measured 15%
 * less CPU time than whole-batch chunks for the reference step's convs).
 */
const CHUNK_FLOATS = 1 << 18;

/** The parts of tfjs's `Conv2DInfo` these kernels read (NHWC only). */
export type ConvInfo = Pick<
  tf.backend_util.Conv2DInfo,
  | "batchSize"
  | "inHeight"
  | "inWidth"
  | "inChannels"
  | "outHeight"
  | "outWidth"
  | "outChannels"
  | "strideHeight"
  | "strideWidth"
  | "dilationHeight"
  | "dilationWidth"
  | "filterHeight"
  | "filterWidth"
  | "padInfo"
>;

function useShift(c: ConvInfo): boolean {
  const { top, bottom, left, right } = c.padInfo;
  return c.strideHeight === 1 && c.strideWidth === 1 && c.dilationHeight === 1 &&
    c.dilationWidth === 1 && c.inChannels >= SHIFT_MIN_CHANNELS && top >= 0 && left >= 0 &&
    bottom >= 0 && right >= 0 &&
    c.outHeight === c.inHeight + top + bottom - c.filterHeight + 1 &&
    c.outWidth === c.inWidth + left + right - c.filterWidth + 1;
}

function imagesPerChunk(perImage: number, batch: number): number {
  return Math.max(1, Math.min(batch, Math.floor(CHUNK_FLOATS / Math.max(1, perImage))));
}

/** Copies images `[b0, b0 + nb)` of `x` into the zero-padded `[nb, Hp, Wp, C]` buffer `xp`. */
function padInto(x: Float32Array, c: ConvInfo, b0: number, nb: number, xp: Float32Array): void {
  const { inHeight: h, inWidth: w, inChannels: ch } = c;
  const { top, left } = c.padInfo;
  const hp = h + top + c.padInfo.bottom;
  const wp = w + left + c.padInfo.right;
  xp.fill(0);
  const rowLen = w * ch;
  for (let b = 0; b < nb; b++) {
    for (let y = 0; y < h; y++) {
      const src = ((b0 + b) * h + y) * rowLen;
      const dst = ((b * hp + y + top) * wp + left) * ch;
      xp.set(x.subarray(src, src + rowLen), dst);
    }
  }
}

/** im2col of images `[b0, b0 + nb)`: `col` is `[nb * OH * OW, KH * KW * C]`. */
function im2col(x: Float32Array, c: ConvInfo, b0: number, nb: number, col: Float32Array): void {
  const { inHeight: h, inWidth: w, inChannels: ch, outHeight: oh, outWidth: ow } = c;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = c;
  const { dilationHeight: dh, dilationWidth: dw } = c;
  const { top, left } = c.padInfo;
  const kkc = kh * kw * ch;
  let row = 0;
  for (let b = 0; b < nb; b++) {
    const xb = (b0 + b) * h * w * ch;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, row++) {
        let dst = row * kkc;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - top + ky * dh;
          for (let kx = 0; kx < kw; kx++, dst += ch) {
            const ix = ox * sw - left + kx * dw;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
              for (let i = 0; i < ch; i++) col[dst + i] = 0;
            } else {
              const src = xb + (iy * w + ix) * ch;
              for (let i = 0; i < ch; i++) col[dst + i] = x[src + i];
            }
          }
        }
      }
    }
  }
}

/** col2im: adds `col` (`[nb * OH * OW, KH * KW * C]`) into images `[b0, b0 + nb)` of `dx`. */
function col2im(col: Float32Array, c: ConvInfo, b0: number, nb: number, dx: Float32Array): void {
  const { inHeight: h, inWidth: w, inChannels: ch, outHeight: oh, outWidth: ow } = c;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = c;
  const { dilationHeight: dh, dilationWidth: dw } = c;
  const { top, left } = c.padInfo;
  const kkc = kh * kw * ch;
  let row = 0;
  for (let b = 0; b < nb; b++) {
    const xb = (b0 + b) * h * w * ch;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, row++) {
        let src = row * kkc;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - top + ky * dh;
          for (let kx = 0; kx < kw; kx++, src += ch) {
            const ix = ox * sw - left + kx * dw;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const dst = xb + (iy * w + ix) * ch;
            for (let i = 0; i < ch; i++) dx[dst + i] += col[src + i];
          }
        }
      }
    }
  }
}

/**
 * Forward convolution: `x` is `[B, H, W, C]`, `filter` `[KH, KW, C, O]`; returns `[B, OH, OW, O]`.
 */
export function conv2dForward(
  blas: Blas,
  x: Float32Array,
  filter: Float32Array,
  c: ConvInfo,
): Float32Array {
  const { batchSize: n, outHeight: oh, outWidth: ow, outChannels: o, inChannels: ch } = c;
  const { filterHeight: kh, filterWidth: kw } = c;
  const out = allocF32(n * oh * ow * o); // every element is written below
  if (out.length === 0) return out;
  if (useShift(c)) {
    const hp = c.inHeight + c.padInfo.top + c.padInfo.bottom;
    const wp = c.inWidth + c.padInfo.left + c.padInfo.right;
    const per = hp * wp * Math.max(ch, o);
    const step = imagesPerChunk(per, n);
    const maxOff = (kh - 1) * wp + (kw - 1);
    for (let b0 = 0; b0 < n; b0 += step) {
      const nb = Math.min(step, n - b0);
      const xp = scratch("conv.xpad", nb * hp * wp * ch);
      const yp = scratch("conv.ypad", nb * hp * wp * o);
      padInto(x, c, b0, nb, xp);
      const rows = nb * hp * wp - maxOff; // [rows, O]: every padded pixel that has a full window
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const off = ky * wp + kx;
          blas.sgemm(
            false,
            false,
            rows,
            o,
            ch,
            1,
            xp.subarray(off * ch),
            ch,
            filter.subarray((ky * kw + kx) * ch * o),
            o,
            ky === 0 && kx === 0 ? 0 : 1,
            yp,
            o,
          );
        }
      }
      const rowLen = ow * o;
      for (let b = 0; b < nb; b++) {
        for (let y = 0; y < oh; y++) {
          const src = (b * hp + y) * wp * o;
          out.set(yp.subarray(src, src + rowLen), (((b0 + b) * oh + y) * ow) * o);
        }
      }
    }
    return out;
  }
  const kkc = kh * kw * ch;
  const step = imagesPerChunk(oh * ow * kkc, n);
  for (let b0 = 0; b0 < n; b0 += step) {
    const nb = Math.min(step, n - b0);
    const rows = nb * oh * ow;
    const col = scratch("conv.col", rows * kkc);
    im2col(x, c, b0, nb, col);
    blas.sgemm(
      false,
      false,
      rows,
      o,
      kkc,
      1,
      col,
      kkc,
      filter,
      o,
      0,
      out.subarray(b0 * oh * ow * o),
      o,
    );
  }
  return out;
}

/** Gradient of the input: `dy` is `[B, OH, OW, O]`, `filter` `[KH, KW, C, O]`; returns `[B, H, W, C]`. */
export function conv2dBackpropInput(
  blas: Blas,
  dy: Float32Array,
  filter: Float32Array,
  c: ConvInfo,
): Float32Array {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ch } = c;
  const { outHeight: oh, outWidth: ow, outChannels: o, filterHeight: kh, filterWidth: kw } = c;
  const dx = allocF32(n * h * w * ch, !useShift(c) || dy.length === 0); // col2im accumulates
  if (dx.length === 0 || dy.length === 0) return dx;
  if (useShift(c)) {
    const { top, left } = c.padInfo;
    const hp = h + top + c.padInfo.bottom;
    const wp = w + left + c.padInfo.right;
    const step = imagesPerChunk(hp * wp * Math.max(ch, o), n);
    const maxOff = (kh - 1) * wp + (kw - 1);
    for (let b0 = 0; b0 < n; b0 += step) {
      const nb = Math.min(step, n - b0);
      const dyp = scratch("conv.ypad", nb * hp * wp * o);
      const dxp = scratch("conv.xpad", nb * hp * wp * ch);
      // dy on the padded grid, zero where no output pixel sits.
      dyp.fill(0);
      const rowLen = ow * o;
      for (let b = 0; b < nb; b++) {
        for (let y = 0; y < oh; y++) {
          const src = (((b0 + b) * oh + y) * ow) * o;
          dyp.set(dy.subarray(src, src + rowLen), (b * hp + y) * wp * o);
        }
      }
      const rows = nb * hp * wp - maxOff;
      dxp.fill(0);
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const off = ky * wp + kx;
          // dxp[p + off] += dyp[p] @ W[ky, kx]^T, W[ky, kx] being [C, O].
          blas.sgemm(
            false,
            true,
            rows,
            ch,
            o,
            1,
            dyp,
            o,
            filter.subarray((ky * kw + kx) * ch * o),
            o,
            1,
            dxp.subarray(off * ch),
            ch,
          );
        }
      }
      const xRow = w * ch;
      for (let b = 0; b < nb; b++) {
        for (let y = 0; y < h; y++) {
          const src = ((b * hp + y + top) * wp + left) * ch;
          dx.set(dxp.subarray(src, src + xRow), ((b0 + b) * h + y) * xRow);
        }
      }
    }
    return dx;
  }
  const kkc = kh * kw * ch;
  const step = imagesPerChunk(oh * ow * kkc, n);
  for (let b0 = 0; b0 < n; b0 += step) {
    const nb = Math.min(step, n - b0);
    const rows = nb * oh * ow;
    const col = scratch("conv.col", rows * kkc);
    // col = dy @ W^T with W as [KH * KW * C, O].
    blas.sgemm(
      false,
      true,
      rows,
      kkc,
      o,
      1,
      dy.subarray(b0 * oh * ow * o),
      o,
      filter,
      o,
      0,
      col,
      kkc,
    );
    col2im(col, c, b0, nb, dx);
  }
  return dx;
}

/** Gradient of the filter: `x` is `[B, H, W, C]`, `dy` `[B, OH, OW, O]`; returns `[KH, KW, C, O]`. */
export function conv2dBackpropFilter(
  blas: Blas,
  x: Float32Array,
  dy: Float32Array,
  c: ConvInfo,
): Float32Array {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ch } = c;
  const { outHeight: oh, outWidth: ow, outChannels: o, filterHeight: kh, filterWidth: kw } = c;
  const dw = allocF32(kh * kw * ch * o, dy.length === 0);
  if (dw.length === 0 || dy.length === 0) return dw;
  if (useShift(c)) {
    const { top, left } = c.padInfo;
    const hp = h + top + c.padInfo.bottom;
    const wp = w + left + c.padInfo.right;
    const step = imagesPerChunk(hp * wp * Math.max(ch, o), n);
    const maxOff = (kh - 1) * wp + (kw - 1);
    for (let b0 = 0; b0 < n; b0 += step) {
      const nb = Math.min(step, n - b0);
      const xp = scratch("conv.xpad", nb * hp * wp * ch);
      const dyp = scratch("conv.ypad", nb * hp * wp * o);
      padInto(x, c, b0, nb, xp);
      dyp.fill(0);
      const rowLen = ow * o;
      for (let b = 0; b < nb; b++) {
        for (let y = 0; y < oh; y++) {
          const src = (((b0 + b) * oh + y) * ow) * o;
          dyp.set(dy.subarray(src, src + rowLen), (b * hp + y) * wp * o);
        }
      }
      const rows = nb * hp * wp - maxOff;
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const off = ky * wp + kx;
          // dW[ky, kx] += xp[p + off]^T @ dyp[p]: [C, rows] @ [rows, O].
          blas.sgemm(
            true,
            false,
            ch,
            o,
            rows,
            1,
            xp.subarray(off * ch),
            ch,
            dyp,
            o,
            b0 === 0 ? 0 : 1,
            dw.subarray((ky * kw + kx) * ch * o),
            o,
          );
        }
      }
    }
    return dw;
  }
  const kkc = kh * kw * ch;
  const step = imagesPerChunk(oh * ow * kkc, n);
  for (let b0 = 0; b0 < n; b0 += step) {
    const nb = Math.min(step, n - b0);
    const rows = nb * oh * ow;
    const col = scratch("conv.col", rows * kkc);
    im2col(x, c, b0, nb, col);
    // dW += col^T @ dy: [KH * KW * C, rows] @ [rows, O].
    blas.sgemm(
      true,
      false,
      kkc,
      o,
      rows,
      1,
      col,
      kkc,
      dy.subarray(b0 * oh * ow * o),
      o,
      b0 === 0 ? 0 : 1,
      dw,
      o,
    );
  }
  return dw;
}
