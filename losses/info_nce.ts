import { tf } from "../backend/tf.ts";
import { assertOptions } from "./_validate.ts";
import { cosineCrossEntropy } from "./_ops.ts";
import { validatePair } from "./_contrastive.ts";

/** Options for {@linkcode infoNce} and {@linkcode infoNceAccuracy}. */
export interface InfoNceOptions {
  /**
   * Softmax temperature τ dividing the cosine similarities.
   * @default {0.1} as `info_nce_loss` in our source document (SimCLR-style, Chen et al. 2020,
   * arXiv:2002.05709)
   */
  temperature?: number;
}

/**
 * Symmetric InfoNCE (CPC, van den Oord et al. 2018, arXiv:1807.03748) in the form of our source
 * document's `info_nce_loss`: rows of `z1` and `z2` are L2-normalized, logits = z1·z2ᵀ/τ `[n, n]`,
 * softmax cross-entropy with the diagonal as targets, averaged over both directions (z1 -> z2 and
 * z2 -> z1) and over the n rows. The negatives of row i are the other view's rows j != i.
 *
 * Computed with log-sum-exp, so it stays finite at τ = 0.01; the `[n, n]` part is one op with an
 * analytic gradient (`logSumExpMatMul`), so the matrices never enter tfjs' tape.
 *
 * @param z1 projections of the first view, shape `[n, d]`
 * @param z2 projections of the second view, shape `[n, d]` (row i is the positive of `z1` row i)
 * @param options temperature
 * @returns the scalar loss; log(n) when all rows are identical
 * @throws {TypeError} when the inputs are not float32 rank-2 tensors of the same shape
 * @throws {RangeError} for an empty batch or a temperature that is not > 0
 *
 * @example
 * ```ts
 * import { infoNce, tf } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const z = tf.tensor2d([[1, 0], [0, 1]]);
 * const loss = infoNce(z, z, { temperature: 0.1 }).dataSync()[0];
 * assert.ok(Math.abs(loss - Math.log(1 + Math.exp(-10))) < 1e-5);
 * ```
 */
export function infoNce(
  z1: tf.Tensor2D,
  z2: tf.Tensor2D,
  options: InfoNceOptions = {},
): tf.Scalar {
  assertOptions("InfoNCE", options, ["temperature"]);
  const { temperature = 0.1 } = options;
  validatePair("InfoNCE", z1, z2, temperature);
  return tf.tidy(() => {
    return cosineCrossEntropy("infoNce", z1, z2, undefined, temperature);
  });
}
