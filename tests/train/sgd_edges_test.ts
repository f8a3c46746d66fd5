/**
 * SGD's own label in the optimizer base's message (issue 17: train/sgd.ts 27, `"sgd"` -> `""`,
 * survived the second mutation pass; AdamW's and LARS's are in `adamw_lars_edges_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { sgd } from "../../train/mod.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

Deno.test("sgd refuses what is not an array of tf.Variable, naming itself", () => {
  const t = tf.zeros([1]);
  const v = tf.variable(tf.zeros([1]));
  for (const bad of [[t], "w", [v, 1]]) {
    for (const momentum of [0, 0.9]) {
      assert.throws(() => sgd(bad as tf.Variable[], { momentum }), {
        name: "TypeError",
        message: "Cannot create sgd: expected an array of tf.Variable",
      });
    }
  }
  tf.dispose([t, v]);
});
