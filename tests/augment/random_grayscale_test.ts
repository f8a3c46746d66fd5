import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { randomGrayscale } from "../../augment/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { checkContract, images, values } from "./_helpers.ts";

await setupBackend();

Deno.test("randomGrayscale keeps the contract", async () => {
  const x = images([16, 4, 4, 3]);
  await checkContract(randomGrayscale({ p: 0.5 }), x);
  x.dispose();
});

Deno.test("randomGrayscale with p = 1 gives equal channels with the ITU-R BT.601 luma", () => {
  const x = images([3, 4, 5, 3], 2);
  const y = randomGrayscale({ p: 1 })(x, 0);
  const xv = values(x), yv = values(y);
  for (let i = 0; i < xv.length; i += 3) {
    const luma = 0.299 * xv[i] + 0.587 * xv[i + 1] + 0.114 * xv[i + 2];
    for (let k = 0; k < 3; k++) {
      assert.ok(Math.abs(yv[i + k] - luma) < 1e-6, `${yv[i + k]} vs ${luma}`);
    }
  }
  tf.dispose([x, y]);
});

Deno.test("randomGrayscale with p = 0 and on 1-channel images changes nothing", () => {
  const x = images([3, 4, 4, 3], 3);
  const y = randomGrayscale({ p: 0 })(x, 0);
  assertTensorClose(y, x, { rtol: 0, atol: 0 });
  const g = images([3, 4, 4, 1], 4);
  const h = randomGrayscale({ p: 1 })(g, 0);
  assertTensorClose(h, g, { rtol: 0, atol: 0 });
  const two = tf.zeros([1, 2, 2, 2]) as tf.Tensor4D;
  assert.throws(() => randomGrayscale()(two, 0), TypeError);
  tf.dispose([x, y, g, h, two]);
});
