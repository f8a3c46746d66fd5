import { releaseBuffers } from "./native/_buffers.ts";

/**
 * Hands the native backend's idle output buffers back to the system and returns how many bytes
 * that dropped.
 *
 * The native backend recycles the buffers of disposed tensors for its next kernels and never
 * trims them on its own, so after a phase with large tensors (a pretraining stage) the process
 * keeps that phase's buffers resident through later phases that never ask for those sizes again.
 * Call this between such phases. Only idle buffers are dropped: live tensors keep their data, so
 * it is safe at any time; its cost is that the next step of the old sizes allocates (and faults
 * in) fresh buffers. On the other backends the pool is empty and this returns 0.
 *
 * @example
 * ```ts
 * import { releaseIdleBuffers, tf } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * tf.tidy(() => tf.sum(tf.ones([256, 256]))); // its temporaries go idle (native)
 * assert.ok(releaseIdleBuffers() >= 0);
 * assert.equal(releaseIdleBuffers(), 0); // nothing idle is left
 * ```
 */
export function releaseIdleBuffers(): number {
  return releaseBuffers();
}
