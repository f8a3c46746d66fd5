/**
 * `bench/jigsaw_readout.ts`'s encoder input: the images themselves for the pretext rows the table
 * reads out on images, and for colorization what the table feeds its encoder (L / 100 of the
 * orientation-tinted image), across the bench's chunks (4 images here, 2000 in the bench).
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { READOUT_METHODS, readoutInput, readoutSeeds } from "../../bench/jigsaw_readout.ts";
import { orientationTint } from "../../methods/colorization.ts";
import { rgbToLab } from "../../methods/pretext/lab.ts";

/** `n` gray images in [0, 1] with a dark background and brighter strokes, seeded. */
const grayImages = (n: number) =>
  tf.tidy(() => {
    const u = tf.randomUniform([n, 28, 28, 1], 0, 1, "float32", 7);
    return tf.where(tf.greater(u, 0.6), u, tf.zerosLike(u)) as tf.Tensor4D;
  });

Deno.test("jigsaw_readout: every pretext row but colorization is read out on the images", () => {
  const x = grayImages(5);
  for (const method of READOUT_METHODS.filter((m) => m !== "colorization")) {
    const y = readoutInput(method, x);
    assert.notEqual(y, x, "a new tensor, which the bench may dispose");
    assert.deepEqual(y.shape, x.shape);
    assert.equal(tf.max(tf.abs(tf.sub(y, x))).dataSync()[0], 0, method);
    y.dispose();
  }
  x.dispose();
});

Deno.test("jigsaw_readout: colorization is read out on L / 100 of the tinted image, every chunk", () => {
  // 11 images in chunks of 4: the last chunk holds 3
  const x = grayImages(11);
  const y = readoutInput("colorization", x, 4);
  const expected = tf.tidy(() =>
    tf.div(tf.slice(rgbToLab(orientationTint(x)), [0, 0, 0, 0], [-1, -1, -1, 1]), 100)
  );
  assert.deepEqual(y.shape, [11, 28, 28, 1]);
  const err = tf.tidy(() => tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0]);
  assert.ok(err < 1e-5, `max |bench - L / 100| ${err}`);
  // the last chunk too, not only the first
  const lastErr = tf.tidy(() =>
    tf.max(tf.abs(tf.sub(tf.slice(y, [8], [3]), tf.slice(expected, [8], [3])))).dataSync()[0]
  );
  assert.ok(lastErr < 1e-5, `last chunk: max |bench - L / 100| ${lastErr}`);
  // and it is not the images: the background (0) is not L 0 after the tint
  const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(y, x))).dataSync()[0]);
  assert.ok(gap > 0.05, `bench input differs from the images by ${gap}`);
  tf.dispose([x, y, expected]);
});

Deno.test("jigsaw_readout: the probe's seed follows the encoder's unless given apart", () => {
  assert.deepEqual(readoutSeeds({}), { seed: 0, probeSeed: 0 });
  assert.deepEqual(readoutSeeds({ seed: 3 }), { seed: 3, probeSeed: 3 });
  // given apart: the encoder keeps its seed, the probe takes its own (0 too, not dropped as falsy)
  assert.deepEqual(readoutSeeds({ seed: 3, probeSeed: 7 }), { seed: 3, probeSeed: 7 });
  assert.deepEqual(readoutSeeds({ seed: 3, probeSeed: 0 }), { seed: 3, probeSeed: 0 });
  assert.deepEqual(readoutSeeds({ probeSeed: 2 }), { seed: 0, probeSeed: 2 });
  for (const bad of [{ seed: 1.5 }, { seed: -1 }, { seed: 1, probeSeed: 0.5 }, { probeSeed: -2 }]) {
    assert.throws(() => readoutSeeds(bad), RangeError, JSON.stringify(bad));
  }
});
