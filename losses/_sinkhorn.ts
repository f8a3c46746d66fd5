import { tf } from "../backend/tf.ts";

/** The Sinkhorn-Knopp iterations on validated input; no tidy of its own. */
export function sinkhornCodes(
  scores: tf.Tensor2D,
  iterations: number,
  epsilon: number,
): tf.Tensor2D {
  const [b, k] = scores.shape;
  const scaled = tf.div(scores, epsilon);
  let q: tf.Tensor = tf.exp(tf.sub(scaled, tf.max(scaled))); // [B, K], max entry 1
  q = tf.div(q, tf.sum(q));
  for (let i = 0; i < iterations; i++) {
    // Kept [B, K]: a prototype's "row" of SwAV's [K, B] Q is a column here.
    q = tf.div(q, tf.mul(tf.maximum(tf.sum(q, 0, true), 1e-30), k)); // prototypes -> 1/K
    q = tf.div(q, tf.mul(tf.maximum(tf.sum(q, 1, true), 1e-30), b)); // samples -> 1/B
  }
  return tf.mul(q, b) as tf.Tensor2D;
}
