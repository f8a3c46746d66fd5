/**
 * The classification loss every discriminative pretext task uses.
 *
 * @module
 */
import { tf } from "../../backend/tf.ts";

/**
 * Softmax cross-entropy of logits against integer labels, and top-1 accuracy.
 *
 * @param logits class scores, shape `[N, K]`
 * @param labels class indices in [0, K), shape `[N]` (int32, or floats holding integers)
 * @returns mean cross-entropy and accuracy, as scalars
 * @throws {TypeError} for mismatched shapes
 *
 * @example
 * ```ts
 * import { classification } from "./classify.ts";
 * import { tf } from "../../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { loss, accuracy } = classification(tf.tensor2d([[5, 0], [0, 5]]), tf.tensor1d([0, 1], "int32"));
 * assert.equal(accuracy.dataSync()[0], 1);
 * assert.ok(loss.dataSync()[0] < 0.01);
 * ```
 */
export function classification(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
): { loss: tf.Scalar; accuracy: tf.Scalar } {
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new TypeError(
      `Cannot classify: expected logits [N, K] and labels [N], received [${logits.shape}] and [${labels.shape}]`,
    );
  }
  return tf.tidy(() => {
    const k = logits.shape[1];
    const y = tf.cast(labels, "int32");
    const loss = tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(y, k), tf.logSoftmax(logits)), 1)));
    const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), y), "float32"));
    return { loss: loss as tf.Scalar, accuracy: accuracy as tf.Scalar };
  });
}

/** Labels `[B]` packed as a view `[B, 1, 1, 1]` (views are images; labels travel with them). */
export function labelsAsView(labels: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => tf.reshape(tf.cast(labels, "float32"), [-1, 1, 1, 1]));
}

/** The labels `[B]` (int32) of a view made by {@linkcode labelsAsView}. */
export function labelsOfView(view: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => tf.cast(tf.reshape(view, [-1]), "int32") as tf.Tensor1D);
}

/**
 * Uniform random class indices in [0, k), made in tensors from a seed.
 *
 * @param n how many
 * @param k number of classes
 * @param seed seed of the draw
 * @returns labels, shape `[n]`, int32
 *
 * @example
 * ```ts
 * import { randomLabels } from "./classify.ts";
 * import assert from "node:assert/strict";
 * const y = randomLabels(100, 8, 1);
 * assert.equal(y.dtype, "int32");
 * assert.ok(y.dataSync().every((v) => v >= 0 && v < 8));
 * ```
 */
export function randomLabels(n: number, k: number, seed: number): tf.Tensor1D {
  return tf.tidy(() =>
    tf.cast(
      tf.minimum(tf.floor(tf.randomUniform([n], 0, k, "float32", seed)), k - 1),
      "int32",
    ) as tf.Tensor1D
  );
}
