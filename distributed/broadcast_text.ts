import type { World } from "./world.ts";

/**
 * Rank `root`'s string on every rank (a run name drawn from the clock, a config): its length,
 * then its UTF-8 bytes, each broadcast as floats.
 *
 * @param text the string (only rank `root`'s is used)
 * @param world the ranks (from `initWorld`)
 * @param root the rank whose string wins
 * @returns rank `root`'s string
 *
 * @example
 * ```ts
 * import { broadcastText, initWorld } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(broadcastText("run-1", initWorld({ mpi: "never" })), "run-1");
 * ```
 */
export function broadcastText(text: string, world: World, root = 0): string {
  if (typeof text !== "string") {
    throw new TypeError(`Cannot broadcast text: expected a string, received ${typeof text}`);
  }
  if (world.size === 1) return text;
  const bytes = new TextEncoder().encode(text);
  const length = Float32Array.of(bytes.length);
  world.broadcastInPlace(length, root);
  const values = new Float32Array(length[0]);
  if (world.rank === root) values.set(bytes);
  world.broadcastInPlace(values, root);
  return new TextDecoder().decode(Uint8Array.from(values));
}
