import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { horizontalFlip } from "../../augment/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { checkContract, images, values } from "./_helpers.ts";

await setupBackend();

Deno.test("horizontalFlip keeps the contract", async () => {
  const x = images([8, 6, 10, 3]);
  await checkContract(horizontalFlip(), x);
  x.dispose();
});

Deno.test("horizontalFlip with p = 1 mirrors the columns of every sample", () => {
  const [b, h, w, c] = [3, 4, 5, 2];
  const x = images([b, h, w, c], 2);
  const y = horizontalFlip({ p: 1 })(x, 0);
  const xv = values(x), yv = values(y);
  const at = (s: number, i: number, j: number, k: number) => ((s * h + i) * w + j) * c + k;
  for (let s = 0; s < b; s++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        for (let k = 0; k < c; k++) assert.equal(yv[at(s, i, j, k)], xv[at(s, i, w - 1 - j, k)]);
      }
    }
  }
  tf.dispose([x, y]);
});

Deno.test("horizontalFlip twice with the same seed is the identity; p = 0 changes nothing", () => {
  const x = images([16, 4, 6, 3], 3);
  const flip = horizontalFlip({ p: 0.5 });
  const once = flip(x, 9);
  const twice = flip(once, 9);
  assertTensorClose(twice, x, { rtol: 0, atol: 0 });
  // p = 0.5 over 16 samples: some flipped, some not
  const changed = tf.tidy(() => tf.sum(tf.abs(tf.sub(once, x)), [1, 2, 3]).arraySync() as number[]);
  assert.ok(changed.some((v) => v > 0) && changed.some((v) => v === 0), `${changed}`);
  const none = horizontalFlip({ p: 0 })(x, 9);
  assertTensorClose(none, x, { rtol: 0, atol: 0 });
  tf.dispose([x, once, twice, none]);
});

Deno.test("horizontalFlip rejects a bad probability and bad images", () => {
  assert.throws(() => horizontalFlip({ p: 1.5 }), RangeError);
  const x = tf.zeros([4, 4, 3]);
  assert.throws(() => horizontalFlip()(x as unknown as tf.Tensor4D, 0), TypeError);
  const i = tf.zeros([1, 4, 4, 3], "int32");
  assert.throws(() => horizontalFlip()(i as tf.Tensor4D, 0), TypeError);
  tf.dispose([x, i]);
});
