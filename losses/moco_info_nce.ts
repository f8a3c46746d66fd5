import { tf } from "../backend/tf.ts";
import { assertOptions } from "./_validate.ts";
import { stopGradient } from "../backend/stop_gradient.ts";
import { noGrad } from "./_grad.ts";
import { cosineCrossEntropy, l2Normalize } from "./_ops.ts";
import { validateMoco } from "./_contrastive.ts";

/** Options for {@linkcode mocoInfoNce} and {@linkcode mocoAccuracy}. */
export interface MocoInfoNceOptions {
  /**
   * Softmax temperature τ.
   * @default {0.2} as in MoCo v2, Chen et al. 2020, arXiv:2003.04297 (MoCo v1 used 0.07)
   */
  temperature?: number;
}

/**
 * MoCo's InfoNCE (He et al. 2019, arXiv:1911.05722, Algorithm 1): queries `q` are compared with
 * their keys `k` (the positive, logit column 0) and with the K keys of the queue (negatives),
 * giving logits `[n, 1 + K]` / τ; the loss is the mean softmax cross-entropy with target 0.
 *
 * All rows are L2-normalized (MoCo normalizes q and k and enqueues normalized keys, so normalizing
 * the queue again changes nothing for a queue built that way). `k` and `queue` receive no gradient
 * (the key encoder is a momentum copy). The queue is not changed: enqueueing is the method's job.
 *
 * @param q queries from the trained encoder, shape `[n, d]`
 * @param k keys of the same images from the momentum encoder, shape `[n, d]`
 * @param queue keys of earlier batches, shape `[K, d]`
 * @param options temperature
 * @returns the scalar loss
 * @throws {TypeError} for wrong ranks, dtypes or mismatched shapes
 * @throws {RangeError} for an empty batch or queue, or a temperature that is not > 0
 *
 * @example
 * ```ts
 * import { mocoInfoNce, tf } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const q = tf.tensor2d([[1, 0]]);
 * const queue = tf.tensor2d([[0, 1], [-1, 0]]);
 * const loss = mocoInfoNce(q, q, queue, { temperature: 1 }).dataSync()[0];
 * const expected = -Math.log(Math.E / (Math.E + 1 + Math.exp(-1)));
 * assert.ok(Math.abs(loss - expected) < 1e-5);
 * ```
 */
export function mocoInfoNce(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  queue: tf.Tensor2D,
  options: MocoInfoNceOptions = {},
): tf.Scalar {
  assertOptions("MoCo InfoNCE", options, ["temperature"]);
  const { temperature = 0.2 } = options;
  validateMoco("MoCo InfoNCE", q, k, queue, temperature);
  return tf.tidy(() => {
    const kn = l2Normalize(stopGradient(k));
    const queueN = noGrad(queue, (u) => l2Normalize(u as tf.Tensor2D)); // [K, d]
    // Cross-entropy with target 0 over the logits [q̂·k̂, q̂·queueᵀ] / τ `[n, 1 + K]` as one op
    // with an analytic gradient; k and the queue get none, and no [K, d] product is computed.
    return cosineCrossEntropy("moco", q, kn, queueN, temperature);
  });
}
