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

/** Rows `[n, 2n)` then `[0, n)` of `z` `[2n, d]`: each embedding's other view. */
function swapViews(z: tf.Tensor2D, n: number): tf.Tensor2D {
  const d = z.shape[1];
  return tf.concat([tf.slice(z, [n, 0], [n, d]), tf.slice(z, [0, 0], [n, d])], 0) as tf.Tensor2D;
}

/** `[2n, 2n]` masked logits of normalized `z`, built with nested tidies to bound peak memory. */
function maskedLogits(z: tf.Tensor2D, temperature: number): tf.Tensor2D {
  const size = z.shape[0];
  return tf.tidy(() => {
    const sim = tf.matMul(tf.div(z, temperature), tf.transpose(z)); // [2n, 2n]
    const mask = tf.tidy(() => tf.mul(tf.eye(size), 2 / temperature + 1e4));
    return tf.sub(sim, mask) as tf.Tensor2D;
  });
}

/**
 * NT-Xent of the stacked normalized views `z` `[2n, d]` as one op with a hand-written gradient
 * (SimCLR's loss as a function of z): with P the row softmax of the masked logits and Y the
 * positive pairing, dL/dz = ((P + Pᵀ)·z - 2·swap(z)) / (2n·τ). Only z is kept for the backward
 * pass and the `[2n, 2n]` matrices are recomputed there, so peak memory is about three `[2n, 2n]`
 * float32 matrices instead of the dozen a taped graph keeps (n = 4096: 0.8 GB instead of > 3 GB,
 * which the wasm heap cannot hold).
 */
export function ntXentFromNormalized(z: tf.Tensor2D, temperature: number): tf.Scalar {
  const size = z.shape[0];
  const n = size / 2;
  const op = tf.customGrad(
    ((zIn: tf.Tensor2D, save: tf.GradSaveFunc) => {
      save([zIn]);
      const value = tf.tidy(() => {
        const lse = tf.tidy(() => {
          const logits = maskedLogits(zIn, temperature); // [2n, 2n]
          const m = tf.max(logits, 1, true); // [2n, 1]
          return tf.add(tf.reshape(m, [-1]), tf.log(tf.sum(tf.exp(tf.sub(logits, m)), 1)));
        });
        const pos = tf.div(rowDot(zIn, swapViews(zIn, n)), temperature); // [2n]
        return tf.mean(tf.sub(lse, pos));
      });
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            const zs = saved[0] as tf.Tensor2D;
            const p = tf.tidy(() => tf.softmax(maskedLogits(zs, temperature))); // [2n, 2n]
            const pz = tf.matMul(p, zs); // [2n, d]
            const ptz = tf.tidy(() => tf.matMul(tf.transpose(p), zs)); // [2n, d]
            p.dispose();
            const g = tf.sub(tf.add(pz, ptz), tf.mul(swapViews(zs, n), 2));
            return tf.mul(g, tf.div(dy, size * temperature));
          }),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return op(z) as tf.Scalar;
}
