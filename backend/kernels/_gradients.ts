/**
 * Gradients tfjs-core lacks (zero gradients for comparisons and logical ops, StridedSlice), and a
 * leaner FusedBatchNorm gradient.
 *
 * @module
 */
import { tf } from "../tf.ts";

interface StridedSliceAttrs {
  begin: number[];
  end: number[];
  strides: number[];
  beginMask: number;
  endMask: number;
  ellipsisMask: number;
  newAxisMask: number;
  shrinkAxisMask: number;
}

/**
 * The StridedSlice gradient: dy scattered back to the positions begin + k stride of a zero
 * tensor shaped like x, by reversing (negative strides), interleaving zeros (stride > 1) and
 * padding.
 *
 * @param dy the slice's gradient, any shape with the slice's element count
 */
export function stridedSliceGrad(
  dy: tf.Tensor,
  xShape: number[],
  attrs: StridedSliceAttrs,
): tf.Tensor {
  const info = tf.slice_util.sliceInfo(
    xShape,
    attrs.begin,
    attrs.end,
    attrs.strides,
    attrs.beginMask,
    attrs.endMask,
    attrs.ellipsisMask,
    attrs.newAxisMask,
    attrs.shrinkAxisMask,
  );
  // elements taken along each axis of x (shrunk axes take one, new axes are not axes of x)
  const sizes = xShape.map((_, d) =>
    Math.max(0, Math.ceil((info.end[d] - info.begin[d]) / info.strides[d]))
  );
  if (sizes.some((s) => s === 0)) return tf.zeros(xShape, dy.dtype);
  return tf.tidy(() => {
    let g = tf.reshape(dy, sizes);
    const reversed = sizes.map((_, d) => d).filter((d) => info.strides[d] < 0);
    if (reversed.length > 0) g = tf.reverse(g, reversed);
    const step = info.strides.map(Math.abs);
    // first position along each axis once the slice is in ascending order
    const start = sizes.map((n, d) =>
      info.strides[d] < 0 ? info.begin[d] + (n - 1) * info.strides[d] : info.begin[d]
    );
    const span = sizes.map((n, d) => (n - 1) * step[d] + 1);
    if (step.some((s) => s > 1)) {
      // interleave step - 1 zeros after each element: [n0, 1, n1, 1, ...] -> [n0, s0, n1, s1, ...]
      const split = sizes.flatMap((n) => [n, 1]);
      const padded = tf.pad(
        tf.reshape(g, split),
        sizes.flatMap((_, d) => [[0, 0], [0, step[d] - 1]] as [number, number][]),
      );
      g = tf.slice(tf.reshape(padded, sizes.map((n, d) => n * step[d])), 0, span);
    }
    return tf.pad(g, xShape.map((n, d) => [start[d], n - start[d] - span[d]] as [number, number]));
  });
}

/** Ops whose gradient is zero everywhere it exists, and their inputs. */
const PIECEWISE_CONSTANT: Record<string, string[]> = {
  Greater: ["a", "b"],
  Less: ["a", "b"],
  LessEqual: ["a", "b"],
  Equal: ["a", "b"],
  NotEqual: ["a", "b"],
  LogicalAnd: ["a", "b"],
  LogicalOr: ["a", "b"],
  LogicalNot: ["x"],
};

/**
 * The FusedBatchNorm gradient for per-channel statistics (mean, variance and scale of shape
 * `[c]`, x `[..., c]`), with broadcasting instead of tfjs's `Tile` of the inverse deviation to
 * x's full shape, and with the two per-channel sums (of dy and of dy (x - mean)) computed once:
 * dx = dy k s, dmean = -k s sum(dy), dvariance = -k^3 s / 2 sum(dy (x - mean)),
 * dscale = k sum(dy (x - mean)), doffset = sum(dy), with k = 1 / sqrt(variance + eps).
 * Other shapes fall back to the stock gradient.
 */
function batchNormGradConfig(stock: tf.GradConfig): tf.GradConfig {
  return {
    kernelName: "FusedBatchNorm",
    inputsToSave: ["x", "mean", "variance", "scale"],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [x, mean, variance, scale] = saved;
      const c = x.shape[x.rank - 1];
      const perChannel = (t: tf.Tensor | undefined) =>
        t === undefined || t === null || (t.rank === 1 && t.shape[0] === c);
      if (
        x.rank < 2 || mean.rank !== 1 || !perChannel(mean) || !perChannel(variance) ||
        !perChannel(scale)
      ) {
        return stock.gradFunc(dy, saved, attrs);
      }
      const g = dy as tf.Tensor;
      const eps = (attrs as { varianceEpsilon: number }).varianceEpsilon;
      const axes = x.shape.slice(0, -1).map((_, d) => d);
      const k = tf.rsqrt(tf.add(variance, eps)); // [c]
      const ks = scale ? tf.mul(k, scale) : k; // [c]
      // eager: tfjs runs each input's gradient closure in its own tidy, so a sum memoized in one
      // closure would be disposed before the next used it
      const sumDy = tf.sum(g, axes); // [c]
      const sumDyXm = tf.sum(tf.mul(g, tf.sub(x, mean)), axes); // [c]
      return {
        x: () => tf.mul(g, ks),
        mean: () => tf.neg(tf.mul(ks, sumDy)),
        variance: () => tf.mul(tf.mul(tf.mul(ks, tf.square(k)), -0.5), sumDyXm),
        scale: () => tf.mul(k, sumDyXm),
        offset: () => tf.clone(sumDy), // a clone: the sum is shared with mean's gradient
      };
    },
  };
}

let registered = false;

/** Registers the missing gradients once (gradients are shared by all backends). */
export function registerMissingGradients(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, inputs] of Object.entries(PIECEWISE_CONSTANT)) {
    if (tf.getGradient(kernelName)) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: inputs,
      // float32 zeros: tfjs requires float gradients even for bool inputs
      gradFunc: (_dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        Object.fromEntries(
          inputs.map((name, k) => [name, () => tf.zeros(saved[k].shape, "float32")]),
        ),
    });
  }
  const stockBatchNorm = tf.getGradient("FusedBatchNorm");
  if (stockBatchNorm) tf.registerGradient(batchNormGradConfig(stockBatchNorm));
  if (!tf.getGradient("StridedSlice")) {
    tf.registerGradient({
      kernelName: "StridedSlice",
      inputsToSave: ["x"],
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
        const [x] = saved;
        return {
          x: () =>
            stridedSliceGrad(dy as tf.Tensor, x.shape, attrs as unknown as StridedSliceAttrs),
        };
      },
    });
  }
}
