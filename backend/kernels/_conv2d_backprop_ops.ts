/**
 * Convolution gradients composed from the backend's own fast ops (`conv2d`, `transpose`,
 * `pad`, `slice`, `stack`): on wasm these run on XNNPACK.
 *
 * Notation (NHWC): x `[n, h, w, ci]`, filter `[kh, kw, ci, co]`, dy `[n, ho, wo, co]`, stride s,
 * padding (top, left). The forward pass is y[n, a, b, o] = sum x[n, a s + i - top,
 * b s + j - left, c] w[i, j, c, o].
 *
 * @module
 */
import { tf } from "../tf.ts";
import { type ConvInfo, padOrCrop } from "./_common.ts";

/**
 * Runs `conv2d(x, f)` stride 1 with padding that may be negative (a crop).
 */
function convPadCrop(
  x: tf.Tensor4D,
  f: tf.Tensor4D,
  pads: [number, number, number, number],
  dilations: [number, number] = [1, 1],
): tf.Tensor4D {
  const [t, b, l, r] = pads;
  if (t >= 0 && b >= 0 && l >= 0 && r >= 0) {
    return tf.conv2d(x, f, 1, [[0, 0], [t, b], [l, r], [0, 0]], "NHWC", dilations);
  }
  return tf.conv2d(padOrCrop(x, t, b, l, r), f, 1, "valid", "NHWC", dilations);
}

/**
 * The filter gradient: dw[i, j, c, o] = sum_{n,a,b} x[n, a s + i - top, b s + j - left, c]
 * dy[n, a, b, o]. With the batch as channels this is itself a convolution: the input is x
 * transposed to `[ci, h, w, n]`, the "filter" is dy transposed to `[ho, wo, n, co]`, applied
 * with dilation s (the forward stride), giving `[ci, kh, kw, co]`.
 *
 * @param x NHWC input, shape `[n, h, w, ci]`
 * @param dy NHWC output gradient, shape `[n, ho, wo, co]`
 * @returns shape `[kh, kw, ci, co]`
 */
export function conv2dBackpropFilterOps(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  info: ConvInfo,
): tf.Tensor4D {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { inHeight: h, inWidth: w, outHeight: ho, outWidth: wo } = info;
  const { top, left } = info.padInfo;
  const xT = tf.transpose(x, [3, 1, 2, 0]); // [ci, h, w, n]
  const dyT = tf.transpose(dy, [1, 2, 0, 3]); // [ho, wo, n, co]
  // The padded input must span exactly kh + (ho - 1) sh rows (and likewise columns).
  const bottom = kh + (ho - 1) * sh - h - top;
  const right = kw + (wo - 1) * sw - w - left;
  const g = convPadCrop(xT, dyT, [top, bottom, left, right], [sh, sw]); // [ci, kh, kw, co]
  return tf.transpose(g, [1, 2, 0, 3]);
}

/** Number of filter taps i in [0, k) with i = r (mod s). */
function tapsInPhase(k: number, s: number, r: number): number {
  return r >= k ? 0 : Math.ceil((k - r) / s);
}

/**
 * The input gradient: dx[n, h, w, c] = sum dy[n, a, b, o] w[i, j, c, o] over h + top = a s + i,
 * w + left = b s + j. Stride 1: a convolution of dy with the flipped, transposed filter.
 * Stride s: split the rows of dx by (h + top) mod s into s phases (likewise columns); each phase
 * is a stride-1 convolution of dy with the taps of that phase, and the phases interleave back.
 * No multiply by an inserted zero, unlike dilating dy.
 *
 * @param dy NHWC output gradient, shape `[n, ho, wo, co]`
 * @param filter shape `[kh, kw, ci, co]`
 * @returns shape `[n, h, w, ci]`
 */
export function conv2dBackpropInputOps(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  info: ConvInfo,
): tf.Tensor4D {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci } = info;
  const { outHeight: ho, outWidth: wo } = info;
  const { top, left } = info.padInfo;
  const wT = tf.transpose(filter, [0, 1, 3, 2]); // [kh, kw, co, ci]
  if (sh === 1 && sw === 1) {
    const flipped = tf.reverse(wT, [0, 1]);
    const t = kh - 1 - top, l = kw - 1 - left;
    return convPadCrop(dy, flipped, [t, h - ho - t + kh - 1, l, w - wo - l + kw - 1]);
  }
  const qh = Math.ceil((h + top) / sh), qw = Math.ceil((w + left) / sw);
  const rows: tf.Tensor[] = [];
  for (let rh = 0; rh < sh; rh++) {
    const cols: tf.Tensor4D[] = [];
    for (let rw = 0; rw < sw; rw++) {
      const th = tapsInPhase(kh, sh, rh), tw = tapsInPhase(kw, sw, rw);
      if (th === 0 || tw === 0) {
        cols.push(tf.zeros([n, qh, qw, ci]));
        continue;
      }
      // taps rh, rh + sh, ... (and likewise columns), flipped: [th, tw, co, ci]
      const taps = tf.reverse(
        tf.stridedSlice(wT, [rh, rw, 0, 0], [kh, kw, wT.shape[2], ci], [sh, sw, 1, 1]),
        [0, 1],
      ) as tf.Tensor4D;
      // out[q] = sum_k dy[q - k] taps[k] for q in [0, qh): dy padded by th - 1 on top.
      cols.push(convPadCrop(dy, taps, [th - 1, qh - ho, tw - 1, qw - wo])); // [n, qh, qw, ci]
    }
    rows.push(tf.stack(cols, 3)); // [n, qh, qw, sw, ci]
  }
  const z = tf.reshape(tf.stack(rows, 2), [n, qh * sh, qw * sw, ci]); // [n, qh, sh, qw, sw, ci]
  return tf.slice(z, [0, top, left, 0], [n, h, w, ci]) as tf.Tensor4D;
}
