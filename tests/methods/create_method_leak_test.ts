/** Issue 13: a rejected option must not leave the nets built before it in memory. */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { createMethod } from "../../methods/mod.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

Deno.test("createMethod frees the weights it built when an option is rejected", () => {
  const base = {
    encoder: "convnet",
    inputShape: [8, 8, 1],
    seed: 0,
    widths: [4],
    projectionDim: 8,
  } as const;
  const cases: [string, Record<string, unknown>][] = [
    ["simclr", { temperature: -1 }],
    ["simclr", { projectionDim: 0 }],
    ["moco-v2", { temperature: 0 }],
    ["swav", { prototypes: 0 }],
  ];
  for (const [name, bad] of cases) {
    const tensors = tf.memory().numTensors;
    const variables = Object.keys(tf.engine().state.registeredVariables).length;
    assert.throws(
      () => createMethod(name, { ...base, ...bad } as never),
      `${name} ${JSON.stringify(bad)}`,
    );
    assert.equal(tf.memory().numTensors, tensors, `${name} ${JSON.stringify(bad)}: tensors`);
    assert.equal(
      Object.keys(tf.engine().state.registeredVariables).length,
      variables,
      `${name} ${JSON.stringify(bad)}: variables`,
    );
  }
});
