/**
 * Convolution gradients as plain loops over float32 arrays, for backends without a fast
 * convolution of their own (`cpu`). The inner loops run over contiguous channels.
 *
 * Notation (NHWC): x `[n, h, w, ci]`, filter `[kh, kw, ci, co]` (depthwise: `[kh, kw, ci, m]`
 * with co = ci m), dy `[n, ho, wo, co]`; input row of output row a and tap i is
 * a sh + i dh - top (likewise columns).
 *
 * @module
 */
import type { ConvInfo } from "./_common.ts";

/**
 * dw[i, j, c, o] = sum_{n,a,b} x[n, a sh + i dh - top, b sw + j dw - left, c] dy[n, a, b, o].
 *
 * @param x NHWC values, shape `[n, h, w, ci]`
 * @param dy NHWC values, shape `[n, ho, wo, co]`
 * @returns values of shape `[kh, kw, ci, co]`
 */
export function conv2dBackpropFilterLoops(
  x: Float32Array,
  dy: Float32Array,
  info: ConvInfo,
): Float32Array {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const out = new Float32Array(kh * kw * ci * co);
  for (let b = 0; b < n; b++) {
    for (let a = 0; a < ho; a++) {
      for (let c0 = 0; c0 < wo; c0++) {
        const dOff = ((b * ho + a) * wo + c0) * co;
        for (let i = 0; i < kh; i++) {
          const row = a * sh + i * dh - top;
          if (row < 0 || row >= h) continue;
          for (let j = 0; j < kw; j++) {
            const col = c0 * sw + j * dw - left;
            if (col < 0 || col >= w) continue;
            const xOff = ((b * h + row) * w + col) * ci;
            let oOff = (i * kw + j) * ci * co;
            for (let c = 0; c < ci; c++, oOff += co) {
              const v = x[xOff + c];
              if (v === 0) continue; // post-ReLU activations are often zero
              for (let o = 0; o < co; o++) out[oOff + o] += v * dy[dOff + o];
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * dx[n, h, w, c] = sum_{i,j,o} dy[n, a, b, o] w[i, j, c, o] over the (a, b) that read (h, w).
 *
 * @param dy NHWC values, shape `[n, ho, wo, co]`
 * @param filter values of shape `[kh, kw, ci, co]`
 * @returns NHWC values, shape `[n, h, w, ci]`
 */
export function conv2dBackpropInputLoops(
  dy: Float32Array,
  filter: Float32Array,
  info: ConvInfo,
): Float32Array {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const dx = new Float32Array(n * h * w * ci);
  for (let b = 0; b < n; b++) {
    for (let a = 0; a < ho; a++) {
      for (let c0 = 0; c0 < wo; c0++) {
        const dOff = ((b * ho + a) * wo + c0) * co;
        for (let i = 0; i < kh; i++) {
          const row = a * sh + i * dh - top;
          if (row < 0 || row >= h) continue;
          for (let j = 0; j < kw; j++) {
            const col = c0 * sw + j * dw - left;
            if (col < 0 || col >= w) continue;
            const xOff = ((b * h + row) * w + col) * ci;
            let fOff = (i * kw + j) * ci * co;
            for (let c = 0; c < ci; c++, fOff += co) {
              let acc = 0;
              for (let o = 0; o < co; o++) acc += dy[dOff + o] * filter[fOff + o];
              dx[xOff + c] += acc;
            }
          }
        }
      }
    }
  }
  return dx;
}

/**
 * Depthwise filter gradient: dw[i, j, c, m] = sum_{n,a,b} x[n, row, col, c] dy[n, a, b, c m + m].
 *
 * @param x NHWC values, shape `[n, h, w, ci]`
 * @param dy NHWC values, shape `[n, ho, wo, ci m]`
 * @returns values of shape `[kh, kw, ci, m]`
 */
export function depthwiseBackpropFilterLoops(
  x: Float32Array,
  dy: Float32Array,
  info: ConvInfo,
): Float32Array {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const m = co / ci;
  const out = new Float32Array(kh * kw * co);
  for (let b = 0; b < n; b++) {
    for (let a = 0; a < ho; a++) {
      for (let c0 = 0; c0 < wo; c0++) {
        const dOff = ((b * ho + a) * wo + c0) * co;
        for (let i = 0; i < kh; i++) {
          const row = a * sh + i * dh - top;
          if (row < 0 || row >= h) continue;
          for (let j = 0; j < kw; j++) {
            const col = c0 * sw + j * dw - left;
            if (col < 0 || col >= w) continue;
            const xOff = ((b * h + row) * w + col) * ci;
            const oOff = (i * kw + j) * co;
            for (let c = 0; c < ci; c++) {
              const v = x[xOff + c];
              for (let q = 0; q < m; q++) out[oOff + c * m + q] += v * dy[dOff + c * m + q];
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * Depthwise input gradient: dx[n, h, w, c] = sum_{i,j,q} dy[n, a, b, c m + q] w[i, j, c, q].
 *
 * @param dy NHWC values, shape `[n, ho, wo, ci m]`
 * @param filter values of shape `[kh, kw, ci, m]`
 * @returns NHWC values, shape `[n, h, w, ci]`
 */
export function depthwiseBackpropInputLoops(
  dy: Float32Array,
  filter: Float32Array,
  info: ConvInfo,
): Float32Array {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const m = co / ci;
  const dx = new Float32Array(n * h * w * ci);
  for (let b = 0; b < n; b++) {
    for (let a = 0; a < ho; a++) {
      for (let c0 = 0; c0 < wo; c0++) {
        const dOff = ((b * ho + a) * wo + c0) * co;
        for (let i = 0; i < kh; i++) {
          const row = a * sh + i * dh - top;
          if (row < 0 || row >= h) continue;
          for (let j = 0; j < kw; j++) {
            const col = c0 * sw + j * dw - left;
            if (col < 0 || col >= w) continue;
            const xOff = ((b * h + row) * w + col) * ci;
            const fOff = (i * kw + j) * co;
            for (let c = 0; c < ci; c++) {
              let acc = 0;
              for (let q = 0; q < m; q++) acc += dy[dOff + c * m + q] * filter[fOff + c * m + q];
              dx[xOff + c] += acc;
            }
          }
        }
      }
    }
  }
  return dx;
}
