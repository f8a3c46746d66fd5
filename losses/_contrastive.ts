import { tf } from "../backend/tf.ts";
import { stopGradient } from "../backend/stop_gradient.ts";
import { matMulT, matMulTConst, noGrad } from "./_grad.ts";
import { l2Normalize, rowDot } from "./_ops.ts";
import { assertFloatTensor, assertPositive, assertSameShape } from "./_validate.ts";

/** Checks two views `[n, d]` of the same shape and a temperature > 0. */
export function validatePair(
  loss: string,
  z1: unknown,
  z2: unknown,
  temperature: unknown,
): asserts z1 is tf.Tensor2D {
  assertFloatTensor(loss, "z1", z1, ["n", "d"]);
  assertFloatTensor(loss, "z2", z2, ["n", "d"]);
  assertSameShape(loss, "z1", z1, "z2", z2);
  assertPositive(loss, "temperature", temperature);
  if (z1.shape[0] < 2) {
    // one pair has no negative: the loss would be log(1) = 0 and teach nothing
    throw new RangeError(
      `Cannot compute ${loss}: it needs at least 2 pairs (n >= 2) so each has a negative, received shape [${z1.shape}]`,
    );
  }
}

/** Checks MoCo's query, key and queue. */
export function validateMoco(
  loss: string,
  q: unknown,
  k: unknown,
  queue: unknown,
  temperature: unknown,
): void {
  assertFloatTensor(loss, "q", q, ["n", "d"]);
  assertFloatTensor(loss, "k", k, ["n", "d"]);
  assertSameShape(loss, "q", q, "k", k);
  assertFloatTensor(loss, "queue", queue, ["K", "d"]);
  if (queue.shape[1] !== q.shape[1]) {
    throw new TypeError(
      `Cannot compute ${loss}: queue must have shape [K, ${
        q.shape[1]
      }] like q's feature size, received [${queue.shape}]`,
    );
  }
  assertPositive(loss, "temperature", temperature);
}

/** InfoNCE's `[n, n]` logits z1·z2ᵀ/τ of normalized rows and their diagonal `[n]`. */
export function infoNceLogits(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  temperature: number,
): { logits: tf.Tensor2D; positive: tf.Tensor1D } {
  const a = l2Normalize(z1);
  const b = l2Normalize(z2);
  const logits = tf.div(matMulT(a, b), temperature) as tf.Tensor2D; // [n, n]
  const positive = tf.div(rowDot(a, b), temperature) as tf.Tensor1D; // [n]
  return { logits, positive };
}

/**
 * NT-Xent's `[2n, 2n]` logits of the stacked normalized views with each anchor's own similarity
 * pushed far below every other logit (masking by arithmetic: -1/τ is the smallest possible cosine
 * logit, so the self logit ends at least 1e4 below it and its softmax weight is exactly 0 in
 * float32), and the `[2n]` positive logits (anchor i pairs with i + n and vice versa).
 */
export function ntXentLogits(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  temperature: number,
): { logits: tf.Tensor2D; positive: tf.Tensor1D } {
  const n = z1.shape[0];
  const a = l2Normalize(z1);
  const b = l2Normalize(z2);
  const z = tf.concat([a, b], 0); // [2n, d]
  const sim = tf.div(matMulT(z, z), temperature); // [2n, 2n]
  const logits = tf.sub(sim, tf.mul(tf.eye(2 * n), 2 / temperature + 1e4)) as tf.Tensor2D;
  const pos = tf.div(rowDot(a, b), temperature); // [n]
  const positive = tf.concat([pos, pos], 0) as tf.Tensor1D; // [2n]
  return { logits, positive };
}

/**
 * MoCo's logits: the positive q·k `[n]` and the negatives q·queueᵀ `[n, K]`, all rows
 * L2-normalized and divided by τ (the full logits are `[positive, negatives]`, `[n, 1 + K]`).
 * Neither k nor the queue receives a gradient; the queue's normalization runs off the tape.
 */
export function mocoLogits(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  queue: tf.Tensor2D,
  temperature: number,
): { positive: tf.Tensor1D; negatives: tf.Tensor2D } {
  const qn = l2Normalize(q);
  const kn = l2Normalize(stopGradient(k));
  const queueN = noGrad(queue, (u) => l2Normalize(u as tf.Tensor2D)); // [K, d]
  const positive = tf.div(rowDot(qn, kn), temperature) as tf.Tensor1D; // [n]
  const negatives = tf.div(matMulTConst(qn, queueN), temperature) as tf.Tensor2D; // [n, K]
  return { positive, negatives };
}
