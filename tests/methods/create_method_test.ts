import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { createMethod } from "../../methods/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";

await setupBackend();

function weights(seed: number): Float32Array[] {
  const setup = createMethod("simsiam", {
    encoder: "convnet",
    inputShape: [12, 12, 1],
    seed,
    widths: [4, 4, 8],
  });
  const values = setup.method.trainable(setup.nets).map((v) =>
    Float32Array.from(v.dataSync() as Float32Array)
  );
  tf.dispose(setup.method.trainable(setup.nets));
  return values;
}

Deno.test("createMethod builds the same initial networks for the same seed", () => {
  const a = weights(11);
  const b = weights(11);
  const c = weights(12);
  assert.equal(a.length, b.length);
  a.forEach((w, i) => assertTensorClose(b[i], w, { rtol: 0, atol: 0 }, `variable ${i}`));
  // a different seed changes at least every randomly initialized kernel
  const changed = a.filter((w, i) => w.some((x, j) => x !== c[i][j])).length;
  assert.ok(changed >= 3, `only ${changed} variables differ between seeds 11 and 12`);
});
