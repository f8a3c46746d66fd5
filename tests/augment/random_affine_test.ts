import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { randomAffine } from "../../augment/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { checkContract, images, values } from "./_helpers.ts";

await setupBackend();

Deno.test("randomAffine keeps the contract", async () => {
  const x = images([6, 12, 24, 1]);
  await checkContract(randomAffine(), x);
  x.dispose();
});

Deno.test("randomAffine without rotation, shear, zoom or shift is the identity", () => {
  const x = images([3, 9, 13, 3], 2);
  const y = randomAffine({ degrees: 0, shear: 0, scale: 1, translate: [0, 0] })(x, 4);
  assertTensorClose(y, x, { rtol: 0, atol: 1e-6 });
  tf.dispose([x, y]);
});

Deno.test("randomAffine rotating a centered dot keeps it near the center", () => {
  const x = tf.tidy(() =>
    tf.pad(tf.ones([1, 3, 3, 1]), [[0, 0], [6, 6], [6, 6], [0, 0]])
  ) as tf.Tensor4D;
  const y = randomAffine({ degrees: 90, shear: 0, scale: 1, translate: [0, 0], fill: "constant" })(
    x,
    2,
  );
  const yv = values(y);
  let mass = 0, cy = 0, cx = 0;
  for (let i = 0; i < 15; i++) {
    for (let j = 0; j < 15; j++) {
      const v = yv[i * 15 + j];
      mass += v, cy += v * i, cx += v * j;
    }
  }
  assert.ok(
    Math.abs(cy / mass - 7) < 0.05 && Math.abs(cx / mass - 7) < 0.05,
    `${cy / mass}, ${cx / mass}`,
  );
  assert.ok(Math.abs(mass - 9) < 1.5, `mass ${mass}`);
  assert.throws(() => randomAffine({ degrees: -1 }), RangeError);
  tf.dispose([x, y]);
});
