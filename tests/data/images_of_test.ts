import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { imagesOf } from "../../data/images_of.ts";
import { inMemoryDataset } from "../../data/in_memory.ts";

// 3 images of [2, 2, 3] (every pixel a different byte) with labels 4, 5, 6
const pixels = Uint8Array.from({ length: 3 * 12 }, (_, i) => (i * 7) % 256);
const ds = () => inMemoryDataset("tiny", pixels, Uint8Array.of(4, 5, 6), [2, 2, 3], 10);

Deno.test("imagesOf: the first n images in [0, 1] in their [n, H, W, C] layout, with their labels", () => {
  const before = tf.memory().numTensors;
  const { images, labels } = imagesOf(ds(), 2);
  assert.deepEqual(images.shape, [2, 2, 2, 3]);
  assert.equal(images.dtype, "float32");
  const got = images.dataSync();
  assert.equal(got.length, 24);
  for (let i = 0; i < 24; i++) assert.ok(Math.abs(got[i] - pixels[i] / 255) < 1e-7, `value ${i}`);
  assert.deepEqual([...labels], [4, 5]);
  images.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("imagesOf: n beyond the set gives every image; the labels are a copy", () => {
  const set = ds();
  const { images, labels } = imagesOf(set, 10);
  assert.deepEqual(images.shape, [3, 2, 2, 3]);
  assert.deepEqual([...labels], [4, 5, 6]);
  labels[0] = 9;
  assert.equal(set.labels[0], 4);
  images.dispose();
});
