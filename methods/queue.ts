import { tf } from "../backend/tf.ts";

/**
 * Pushes a batch into a fixed-length FIFO queue of embeddings: the newest rows come first and
 * the oldest `n` rows fall off, so the queue always holds the last `K` rows pushed (MoCo's
 * dictionary, SwAV's feature queue). Returns a new tensor; the inputs are not changed.
 *
 * @param queue the queue, shape `[K, d]`
 * @param rows the new rows, shape `[n, d]` with n <= K
 * @returns the next queue, shape `[K, d]`
 *
 * @example
 * ```ts
 * import { enqueue } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const q = enqueue(tf.tensor2d([[1], [2], [3], [4]]), tf.tensor2d([[8], [9]]));
 * assert.deepEqual(Array.from(q.dataSync()), [8, 9, 1, 2]);
 * ```
 */
export function enqueue(queue: tf.Tensor2D, rows: tf.Tensor2D): tf.Tensor2D {
  if (queue.rank !== 2 || rows.rank !== 2 || queue.shape[1] !== rows.shape[1]) {
    throw new TypeError(
      `Cannot enqueue: expected queue [K, d] and rows [n, d], received [${queue.shape}] and [${rows.shape}]`,
    );
  }
  const [k] = queue.shape, [n] = rows.shape;
  if (n > k) {
    throw new RangeError(
      `Cannot enqueue: expected at most ${k} rows (the queue length), received ${n}`,
    );
  }
  return tf.tidy(() => tf.concat([rows, tf.slice(queue, [0, 0], [k - n, -1])], 0));
}
