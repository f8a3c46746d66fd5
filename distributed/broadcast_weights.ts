import type { World } from "./world.ts";
import { netsContents } from "./_walk.ts";
import { tf } from "../backend/tf.ts";

/**
 * Makes every rank's weights rank `root`'s: all weights of the models in `nets` (trainable and
 * batch-norm statistics) and its bare variables, packed into one buffer, one broadcast.
 *
 * @param nets a method's nets (models found in fields, arrays and nested objects)
 * @param world the ranks (from `initWorld`)
 * @param root the rank whose weights win
 * @returns the number of floats broadcast
 *
 * @example
 * ```ts
 * import { broadcastWeights, initWorld } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const w = tf.variable(tf.zeros([2, 3]));
 * assert.equal(broadcastWeights({ w }, initWorld({ mpi: "never" })), 6);
 * w.dispose();
 * ```
 */
export function broadcastWeights(nets: unknown, world: World, root = 0): number {
  const { models, variables } = netsContents(nets);
  const all: tf.Variable[] = [...variables];
  for (const m of models) {
    for (const w of m.weights) {
      const v = w.read() as tf.Variable;
      if (!all.includes(v)) all.push(v);
    }
  }
  const floats = all.filter((v) => v.dtype === "float32");
  const total = floats.reduce((s, v) => s + v.size, 0);
  if (world.size === 1) return total;
  const buffer = new Float32Array(total);
  let offset = 0;
  for (const v of floats) {
    buffer.set(v.dataSync() as Float32Array, offset);
    offset += v.size;
  }
  world.broadcastInPlace(buffer, root);
  offset = 0;
  for (const v of floats) {
    const at = offset;
    tf.tidy(() => v.assign(tf.tensor(buffer.subarray(at, at + v.size), v.shape, "float32")));
    offset += v.size;
  }
  return total;
}
