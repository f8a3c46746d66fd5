/** Issue 13 item 11: simclrAugment refuses 0-255 pixels instead of saturating every colour op. */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { simclrAugment } from "../../augment/mod.ts";
import { assertNoLeak, setupBackend } from "../_utils.ts";

await setupBackend();

Deno.test("simclrAugment refuses values outside [0, 1] and accepts [0, 1] images", async () => {
  const bytes = tf.randomUniform([2, 8, 8, 3], 0, 255, "float32", 1) as tf.Tensor4D;
  const negative = tf.randomUniform([2, 8, 8, 3], -1, 1, "float32", 2) as tf.Tensor4D;
  const unit = tf.randomUniform([2, 8, 8, 3], 0, 1, "float32", 3) as tf.Tensor4D;
  assert.throws(() => simclrAugment()(bytes, 0), {
    name: "RangeError",
    message:
      /^Cannot apply simclrAugment: images must hold values in \[0, 1\], received values in \[[0-9.e-]+, 2[0-9.]+\]/,
  });
  assert.throws(() => simclrAugment()(negative, 0), { name: "RangeError" });
  const augment = simclrAugment();
  await assertNoLeak(() => augment(unit, 0)); // includes the first call's range read-back
  const out = augment(unit, 1);
  assert.deepEqual(out.shape, [2, 8, 8, 3]);
  tf.dispose([bytes, negative, unit, out]);
});
