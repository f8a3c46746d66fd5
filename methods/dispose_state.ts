import { tf } from "../backend/tf.ts";

function collect(x: unknown, out: Set<tf.Tensor>): Set<tf.Tensor> {
  if (x instanceof tf.Tensor) out.add(x);
  else if (Array.isArray(x)) { for (const e of x) collect(e, out); }
  else if (x && typeof x === "object") { for (const v of Object.values(x)) collect(v, out); }
  return out;
}

/**
 * Disposes the tensors held by a previous method state that the next state does not hold (the
 * old queue after a push, stashed keys after `afterUpdate`). The loop calls it after `step` and
 * after `afterUpdate`; variables are never disposed.
 *
 * @param previous the state given to `step`/`afterUpdate`
 * @param next the state it returned
 *
 * @example
 * ```ts
 * import { disposeStaleState } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const a = tf.zeros([2]), b = tf.ones([2]);
 * disposeStaleState({ queue: a, keys: b }, { queue: a, keys: null });
 * assert.equal(b.isDisposed, true);
 * assert.equal(a.isDisposed, false);
 * ```
 */
export function disposeStaleState(previous: unknown, next: unknown): void {
  const keep = collect(next, new Set());
  for (const t of collect(previous, new Set())) {
    if (!keep.has(t) && !(t instanceof tf.Variable) && !t.isDisposed) t.dispose();
  }
}
