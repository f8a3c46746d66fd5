import { tf } from "../backend/tf.ts";

/**
 * Scales gradients so that their global L2 norm is at most `maxNorm` (Pascanu et al. 2013, as
 * `torch.nn.utils.clip_grad_norm_`). Returns new tensors (the caller disposes both lists) and the
 * norm before clipping.
 *
 * @param grads gradients, any shapes; nulls pass through
 * @param maxNorm the largest global norm allowed; `Infinity` only measures
 * @returns the clipped gradients and the global norm before clipping
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { clipByGlobalNorm } from "./clip.ts";
 * import assert from "node:assert/strict";
 * const a = tf.tensor1d([3]), b = tf.tensor1d([4]); // global norm 5
 * const { grads, norm } = clipByGlobalNorm([a, b], 1);
 * assert.equal(norm, 5);
 * assert.ok(Math.abs(grads[1]!.dataSync()[0] - 0.8) < 1e-6);
 * tf.dispose([a, b, ...grads.filter((g) => g !== null)]);
 * ```
 */
export function clipByGlobalNorm(
  grads: (tf.Tensor | null)[],
  maxNorm: number,
): { grads: (tf.Tensor | null)[]; norm: number } {
  if (!(maxNorm > 0)) {
    throw new RangeError(`Cannot clip gradients: maxNorm must be > 0, received ${maxNorm}`);
  }
  const present = grads.filter((g): g is tf.Tensor => g !== null);
  let norm = 0;
  if (present.length > 0) {
    const t = tf.tidy(() => tf.sqrt(tf.addN(present.map((g) => tf.sum(tf.square(g))))));
    norm = t.dataSync()[0];
    t.dispose();
  }
  const scale = norm > maxNorm ? maxNorm / norm : 1;
  return {
    grads: grads.map((g) =>
      g === null ? null : tf.tidy(() => scale === 1 ? tf.clone(g) : tf.mul(g, scale))
    ),
    norm,
  };
}
