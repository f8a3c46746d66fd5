import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";

/** Options for {@linkcode applyHead}. */
export interface ApplyHeadOptions {
  /** Training mode: BatchNorm uses (and updates its moving averages from) batch statistics. @default {true} */
  training?: boolean;
}

/**
 * Applies a head to image features `[B, D]` or per frame to sequence features `[B, L, D]`:
 * frames are flattened to `[B*L, D]` first, so every Dense acts on the last axis and BatchNorm
 * normalizes over all frames of the batch, then reshaped back to `[B, L, P]`.
 *
 * @param head a model `[N, D] -> [N, P]`
 * @param x features, shape `[B, D]` or `[B, L, D]`
 * @param options training mode
 * @returns `[B, P]` or `[B, L, P]`
 *
 * @example
 * ```ts
 * import { applyHead, mlpHead } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const head = mlpHead(6, [{ units: 3 }]);
 * assert.deepEqual(applyHead(head, tf.ones([2, 5, 6]) as tf.Tensor3D).shape, [2, 5, 3]);
 * ```
 */
export function applyHead<T extends tf.Tensor2D | tf.Tensor3D>(
  head: tfl.LayersModel,
  x: T,
  options: ApplyHeadOptions = {},
): T {
  const { training = true } = options;
  if (x.rank !== 2 && x.rank !== 3) {
    throw new TypeError(
      `Cannot apply head ${head.name}: expected features [B, D] or [B, L, D], received [${x.shape}]`,
    );
  }
  return tf.tidy(() => {
    if (x.rank === 2) return head.apply(x, { training }) as T;
    const [b, l, d] = x.shape as [number, number, number];
    const y = head.apply(tf.reshape(x, [b * l, d]), { training }) as tf.Tensor2D;
    return tf.reshape(y, [b, l, y.shape[1]]) as T;
  });
}
