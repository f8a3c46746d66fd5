import { tf } from "../backend/tf.ts";
import { assertOptions } from "./_validate.ts";
import { cosineCrossEntropy } from "./_ops.ts";
import { validatePair } from "./_contrastive.ts";

/** Options for {@linkcode ntXent} and {@linkcode ntXentAccuracy}. */
export interface NtXentOptions {
  /**
   * Softmax temperature τ dividing the cosine similarities.
   * @default {0.5} as in SimCLR, Chen et al. 2020, arXiv:2002.05709 (Table 5 / the CIFAR-10
   * setting)
   */
  temperature?: number;
}

/**
 * SimCLR's NT-Xent (normalized temperature-scaled cross-entropy; Chen et al. 2020,
 * arXiv:2002.05709, Algorithm 1): the 2n L2-normalized embeddings of both views are compared by
 * cosine similarity / τ; anchor k's positive is the other view of the same sample and its
 * negatives are the 2n - 2 other embeddings of both views; the loss is the mean softmax
 * cross-entropy over the 2n anchors.
 *
 * The self-similarity is removed by arithmetic masking (no boolean gather), so the same code
 * runs on every backend; log-sum-exp keeps it finite at τ = 0.01. The logits-to-loss part is one
 * op with an analytic gradient (`logSumExpMatMul`): the `[2n, 2n]` matrices never enter the tape,
 * the native backend runs it as sgemm + oneDNN log-softmax, and elsewhere the backward pass
 * recomputes the logits, so n = 4096 fits in the wasm heap.
 *
 * @param z1 projections of the first view, shape `[n, d]`
 * @param z2 projections of the second view, shape `[n, d]`
 * @param options temperature
 * @returns the scalar loss; log(2n - 1) when all 2n embeddings are identical
 * @throws {TypeError} when the inputs are not float32 rank-2 tensors of the same shape
 * @throws {RangeError} for an empty batch or a temperature that is not > 0
 *
 * @example
 * ```ts
 * import { ntXent, tf } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const z = tf.ones([4, 8]) as tf.Tensor2D; // all identical: every logit ties
 * const loss = ntXent(z, z).dataSync()[0];
 * assert.ok(Math.abs(loss - Math.log(2 * 4 - 1)) < 1e-5);
 * ```
 */
export function ntXent(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  options: NtXentOptions = {},
): tf.Scalar {
  assertOptions("NT-Xent", options, ["temperature"]);
  const { temperature = 0.5 } = options;
  validatePair("NT-Xent", z1, z2, temperature);
  return tf.tidy(() => {
    return cosineCrossEntropy("ntXent", z1, z2, undefined, temperature);
  });
}
