import { tf } from "../backend/tf.ts";
import { noGrad } from "./_grad.ts";
import { sinkhornCodes } from "./_sinkhorn.ts";
import {
  assertFloatTensor,
  assertOptions,
  assertPositive,
  assertPositiveInteger,
  assertSameShape,
} from "./_validate.ts";

/** Options for {@linkcode swavLoss}. */
export interface SwavLossOptions {
  /**
   * Temperature τ of the predicted assignments softmax(scores / τ).
   * @default {0.1} as in SwAV, Caron et al. 2020, arXiv:2006.09882
   */
  temperature?: number;
  /**
   * Sinkhorn-Knopp rounds (see {@linkcode sinkhorn}).
   * @default {3}
   */
  iterations?: number;
  /**
   * Sinkhorn entropic regularization ε.
   * @default {0.05}
   */
  epsilon?: number;
  /**
   * One queue per high-resolution crop, shape `[Q, K]`: prototype scores of earlier batches'
   * embeddings of that crop (SwAV's queue, used for small batches). They are appended to the
   * crop's scores before Sinkhorn and their codes dropped after, so they only shape the balancing.
   * Updating the queue is the method's job.
   * @default {undefined} no queue
   */
  queue?: tf.Tensor2D[];
}

/**
 * SwAV's swapped-prediction loss over multi-crop (Caron et al. 2020, arXiv:2006.09882, Eq. 1-3 and
 * `main_swav.py`): for each high-resolution crop s, the codes q_s = {@linkcode sinkhorn}(scores_s)
 * (computed without gradient, with that crop's queue rows appended before Sinkhorn and dropped
 * after) are predicted by every other crop t (high- and low-resolution) through
 * p_t = softmax(scores_t / τ); crop s's term is Σ_{t≠s} mean_b(-Σ_k q_s log p_t) / (V - 1), where V
 * is the total number of crops, and the loss is the mean of these terms over the high-resolution
 * crops.
 *
 * @param highRes prototype scores of the high-resolution crops (those codes are computed for),
 * each of shape `[B, K]` (normalized embeddings · normalized prototypesᵀ)
 * @param lowRes prototype scores of the low-resolution crops, each `[B, K]` (may be empty)
 * @param options temperature, iterations, epsilon, queue
 * @returns the scalar loss
 * @throws {TypeError} for non-array crops, wrong ranks, dtypes or mismatched shapes, or a queue
 * list whose length differs from highRes
 * @throws {RangeError} for no high-resolution crop, fewer than 2 crops in all, empty tensors or
 * out-of-range options
 *
 * @example
 * ```ts
 * import { swavLoss, tf } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const a = tf.tensor2d([[0.9, -0.2], [-0.3, 0.8]]);
 * const b = tf.tensor2d([[0.7, 0.1], [0.2, 0.6]]);
 * const loss = swavLoss([a, b], []).dataSync()[0];
 * assert.ok(Number.isFinite(loss) && loss > 0);
 * ```
 */
export function swavLoss(
  highRes: tf.Tensor2D[],
  lowRes: tf.Tensor2D[],
  options: SwavLossOptions = {},
): tf.Scalar {
  assertOptions("SwAV loss", options, ["temperature", "iterations", "epsilon", "queue"]);
  const { temperature = 0.1, iterations = 3, epsilon = 0.05, queue } = options;
  const loss = "SwAV loss";
  if (!Array.isArray(highRes) || !Array.isArray(lowRes)) {
    throw new TypeError(
      `Cannot compute ${loss}: highRes and lowRes must be arrays of [B, K] tensors, received ${typeof highRes} and ${typeof lowRes}`,
    );
  }
  if (highRes.length < 1) {
    throw new RangeError(
      `Cannot compute ${loss}: at least one high-resolution crop is needed, received 0`,
    );
  }
  const crops = [...highRes, ...lowRes];
  if (crops.length < 2) {
    throw new RangeError(
      `Cannot compute ${loss}: at least 2 crops are needed for swapped prediction, received ${crops.length}`,
    );
  }
  crops.forEach((c, i) => {
    const name = i < highRes.length ? `highRes[${i}]` : `lowRes[${i - highRes.length}]`;
    assertFloatTensor(loss, name, c, ["B", "K"]);
    assertSameShape(loss, "highRes[0]", crops[0], name, c);
  });
  const [b, k] = crops[0].shape;
  if (queue !== undefined) {
    if (!Array.isArray(queue) || queue.length !== highRes.length) {
      throw new TypeError(
        `Cannot compute ${loss}: queue must be an array with one [Q, ${k}] tensor per high-resolution crop (${highRes.length}), received ${
          Array.isArray(queue) ? `${queue.length} entries` : typeof queue
        }`,
      );
    }
    queue.forEach((q, i) => {
      assertFloatTensor(loss, `queue[${i}]`, q, ["Q", "K"]);
      if (q.shape[1] !== k) {
        throw new TypeError(
          `Cannot compute ${loss}: queue[${i}] must have shape [Q, ${k}], received [${q.shape}]`,
        );
      }
    });
  }
  assertPositive(loss, "temperature", temperature);
  assertPositive(loss, "epsilon", epsilon);
  assertPositiveInteger(loss, "iterations", iterations);
  return tf.tidy(() => {
    // log p_t for every crop, [B, K] each
    const logP = crops.map((c) => tf.logSoftmax(tf.div(c, temperature)));
    let total: tf.Tensor = tf.scalar(0);
    highRes.forEach((scores, s) => {
      // Codes without gradient, computed off the gradient tape (SwAV: torch.no_grad()).
      const codes = noGrad(scores, (sc) => {
        if (!queue) return sinkhornCodes(sc as tf.Tensor2D, iterations, epsilon); // [B, K]
        const all = tf.concat([sc, queue[s]], 0) as tf.Tensor2D; // [B + Q, K]
        return tf.slice(sinkhornCodes(all, iterations, epsilon), [0, 0], [b, k]); // queue dropped
      });
      let sub: tf.Tensor = tf.scalar(0);
      logP.forEach((lp, t) => {
        if (t === s) return;
        sub = tf.sub(sub, tf.mean(tf.sum(tf.mul(codes, lp), 1)));
      });
      total = tf.add(total, tf.div(sub, crops.length - 1));
    });
    return tf.div(total, highRes.length) as tf.Scalar;
  });
}
