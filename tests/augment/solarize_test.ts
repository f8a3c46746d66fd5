import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { solarize } from "../../augment/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { checkContract, images, values } from "./_helpers.ts";

await setupBackend();

Deno.test("solarize with a random threshold keeps the contract", async () => {
  const x = images([8, 6, 6, 3]);
  await checkContract(solarize({ threshold: [0.3, 0.7] }), x);
  x.dispose();
});

Deno.test("solarize inverts exactly the values at or above the threshold", () => {
  const x = images([4, 5, 5, 3], 4);
  const y = solarize({ threshold: 0.6 })(x, 0);
  const expected = values(x).map((v) => (v >= 0.6 ? 1 - v : v));
  assertTensorClose(y, expected, { rtol: 0, atol: 1e-7 });
  tf.dispose([x, y]);
});

Deno.test("solarize rejects a threshold outside [0, 1]", () => {
  assert.throws(() => solarize({ threshold: 1.5 }), RangeError);
  assert.throws(() => solarize({ threshold: [0.8, 0.2] }), RangeError);
});
