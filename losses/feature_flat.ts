import { tf } from "../backend/tf.ts";
import { assertFloatTensor, assertOptions, assertPositiveInteger } from "./_validate.ts";

/** Options for {@linkcode featureFlat}. */
export interface FeatureFlatOptions {
  /**
   * Frames averaged into one instance (also the stride).
   * @default {5} as `feature_flat` in our source document (`AvgPool1D(pool_size=5,
   * padding="same")`)
   */
  poolSize?: number;
}

/**
 * Turns sequence features `[B, L, D]` into frame instances `[B·ceil(L/p), D]`, our source
 * document's `feature_flat`: Keras `AvgPool1D(pool_size=p, strides=p, padding="same")`, then
 * reshape to `[-1, D]`, so a contrastive loss sees every pooled frame as an instance.
 *
 * TensorFlow "same" padding: the output has ceil(L/p) frames, the p·ceil(L/p) - L padded cells
 * are split with the extra one on the right (floor of half on the left), and, as in TensorFlow's
 * average pooling, padded cells are left out of each mean (a window of 4 real frames is divided
 * by 4, not p). Row `b·ceil(L/p) + j` is frame j of sequence b.
 *
 * @param features per-frame features, shape `[B, L, D]`
 * @param options poolSize
 * @returns the pooled frames, shape `[B·ceil(L/poolSize), D]`
 * @throws {TypeError} when features is not a float32 rank-3 tensor
 * @throws {RangeError} for an empty tensor or a poolSize that is not an integer >= 1
 *
 * @example
 * ```ts
 * import { featureFlat, tf } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const x = tf.tensor3d([[[1], [2], [3], [4], [5], [6], [7]]]); // B = 1, L = 7, D = 1
 * const y = featureFlat(x, { poolSize: 5 }); // ceil(7/5) = 2 frames; 3 padded: 1 left, 2 right
 * assert.deepEqual(y.shape, [2, 1]);
 * assert.deepEqual(Array.from(y.dataSync()), [2.5, 6]); // mean(1..4), mean(5..7): pads excluded
 * ```
 */
export function featureFlat(features: tf.Tensor3D, options: FeatureFlatOptions = {}): tf.Tensor2D {
  assertOptions("featureFlat", options, ["poolSize"]);
  const { poolSize = 5 } = options;
  const loss = "featureFlat";
  assertFloatTensor(loss, "features", features, ["B", "L", "D"]);
  assertPositiveInteger(loss, "poolSize", poolSize);
  const [b, l, d] = features.shape;
  const frames = Math.ceil(l / poolSize);
  const pad = frames * poolSize - l;
  const padLeft = Math.floor(pad / 2);
  const counts = new Float32Array(frames);
  for (let j = 0; j < frames; j++) {
    const start = j * poolSize - padLeft;
    counts[j] = Math.min(start + poolSize, l) - Math.max(start, 0);
  }
  const spreadT = new Float32Array(l * frames); // Wᵀ: [L, frames]
  for (let j = 0; j < frames; j++) {
    const start = j * poolSize - padLeft;
    for (let t = Math.max(start, 0); t < Math.min(start + poolSize, l); t++) {
      spreadT[t * frames + j] = 1 / counts[j];
    }
  }
  const op = tf.customGrad(
    ((x: tf.Tensor3D) => ({
      // tfjs' avgPool follows TensorFlow: "same" padding split floor/ceil, padded cells not counted.
      value: tf.reshape(
        tf.avgPool(
          tf.reshape(x, [b, 1, l, d]) as tf.Tensor4D,
          [1, poolSize],
          [1, poolSize],
          "same",
        ),
        [b * frames, d],
      ),
      // Each input frame receives dy of its window / the window's real-cell count: dx = Wᵀ·dy per
      // sequence, with W the [frames, L] averaging matrix. Written as a small batched matMul because
      // tfjs' AvgPoolGrad, broadcasting and Slice kernels are slow on the cpu backend (4 s at
      // [96, 64, 512] against ~0.1 s).
      gradFunc: (dy: tf.Tensor) => {
        const wt = tf.tile(tf.tensor3d(spreadT, [1, l, frames]), [b, 1, 1]); // [B, L, frames]
        return tf.matMul(wt, tf.reshape(dy, [b, frames, d])); // [B, L, D]
      },
    })) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return op(features) as tf.Tensor2D;
}
