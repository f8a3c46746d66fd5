import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { mnistAugment, simclrAugment, textAugment } from "../../augment/mod.ts";
import { setupBackend } from "../_utils.ts";
import { checkContract, images, values } from "./_helpers.ts";

await setupBackend();

Deno.test("simclrAugment keeps the contract on RGB and gray, with and without blur", async () => {
  const x = images([8, 16, 16, 3]);
  await checkContract(simclrAugment(), x);
  await checkContract(simclrAugment({ size: 12, blur: true }), x, [8, 12, 12, 3]);
  const g = images([8, 16, 16, 1]);
  await checkContract(simclrAugment({ strength: 0.5 }), g);
  assert.throws(() => simclrAugment({ strength: -1 }), RangeError);
  tf.dispose([x, g]);
});

Deno.test("textAugment keeps the input size, never flips, and keeps the frames aligned", async () => {
  const x = images([6, 16, 64, 1]);
  await checkContract(textAugment(), x);
  // a line whose left half is dark and right half bright: without flips and with >= 96% of the
  // width kept, every view stays dark on the left and bright on the right
  const halves = tf.tidy(() =>
    tf.tile(tf.concat([tf.fill([1, 16, 32, 1], 0.1), tf.fill([1, 16, 32, 1], 0.9)], 2), [
      32,
      1,
      1,
      1,
    ])
  ) as tf.Tensor4D;
  const y = textAugment({ p: 0 })(halves, 4); // crops only
  const yv = values(y);
  for (let s = 0; s < 32; s++) {
    for (let i = 0; i < 16; i++) {
      const row = (s * 16 + i) * 64;
      assert.ok(yv[row + 2] < 0.2 && yv[row + 61] > 0.8, `sample ${s} row ${i}`);
      // the edge moves by at most 4% of the width (2.6 px)
      const edge = Array.from(yv.slice(row, row + 64)).findIndex((v) => v > 0.5);
      assert.ok(Math.abs(edge - 32) <= 3, `edge at ${edge}`);
    }
  }
  tf.dispose([x, halves, y]);
});

Deno.test("mnistAugment keeps the contract on 28x28 digits", async () => {
  const x = images([8, 28, 28, 1]);
  await checkContract(mnistAugment(), x);
  await checkContract(mnistAugment({ size: 24 }), x, [8, 24, 24, 1]);
  x.dispose();
});
