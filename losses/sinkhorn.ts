import { tf } from "../backend/tf.ts";
import { noGrad } from "./_grad.ts";
import { sinkhornCodes } from "./_sinkhorn.ts";
import {
  assertFloatTensor,
  assertOptions,
  assertPositive,
  assertPositiveInteger,
} from "./_validate.ts";

/** Options for {@linkcode sinkhorn}. */
export interface SinkhornOptions {
  /**
   * Rounds of Sinkhorn-Knopp normalization.
   * @default {3} as in SwAV, Caron et al. 2020, arXiv:2006.09882
   */
  iterations?: number;
  /**
   * Entropic regularization ε: the codes are exp(scores / ε) before balancing.
   * @default {0.05} as in SwAV, Caron et al. 2020, arXiv:2006.09882
   */
  epsilon?: number;
}

/**
 * SwAV's Sinkhorn-Knopp codes (Caron et al. 2020, arXiv:2006.09882, Algorithm 1 and
 * `distributed_sinkhorn`): Q = exp(scores / ε)ᵀ `[K, B]` normalized to sum 1, then `iterations`
 * rounds of (each prototype's row scaled to sum 1/K; each sample's column scaled to sum 1/B), and
 * finally Q × B transposed, so each sample's row of the result sums to 1 (its soft assignment over
 * the K prototypes) and each prototype receives about B/K of the mass (exactly so as the
 * iterations grow).
 *
 * The global maximum is subtracted before `exp` (the first normalization cancels it), so there is
 * no overflow in float32 at ε = 0.05; row and column sums are floored at 1e-30 so a fully
 * underflowed prototype stays at zero instead of turning into NaN. No gradient flows through the
 * codes (SwAV computes them under `torch.no_grad()`).
 *
 * @param scores similarities of the samples to the prototypes, shape `[B, K]`
 * @param options iterations, epsilon
 * @returns the codes, shape `[B, K]`, each row summing to 1
 * @throws {TypeError} when scores is not a float32 rank-2 tensor
 * @throws {RangeError} for an empty input, epsilon <= 0 or iterations < 1
 *
 * @example
 * ```ts
 * import { sinkhorn, tf } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const q = sinkhorn(tf.tensor2d([[1, -1], [0.9, -1]]), { iterations: 50 });
 * const [a, b, c, d] = q.dataSync();
 * assert.ok(Math.abs(a + b - 1) < 1e-5 && Math.abs(c + d - 1) < 1e-5); // rows sum to 1
 * assert.ok(Math.abs(a + c - 1) < 1e-3); // each prototype gets B/K = 1 of the mass
 * ```
 */
export function sinkhorn(scores: tf.Tensor2D, options: SinkhornOptions = {}): tf.Tensor2D {
  assertOptions("Sinkhorn", options, ["iterations", "epsilon"]);
  const { iterations = 3, epsilon = 0.05 } = options;
  const loss = "Sinkhorn codes";
  assertFloatTensor(loss, "scores", scores, ["B", "K"]);
  assertPositive(loss, "epsilon", epsilon);
  assertPositiveInteger(loss, "iterations", iterations);
  return tf.tidy(() => noGrad(scores, (s) => sinkhornCodes(s as tf.Tensor2D, iterations, epsilon)));
}
