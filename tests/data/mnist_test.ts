import assert from "node:assert/strict";
import { mnist } from "../../data/mnist.ts";
import { fashionMnist } from "../../data/fashion_mnist.ts";
import { DatasetError } from "../../data/dataset.ts";

// The well-known MNIST label counts (LeCun et al.; e.g. torchvision's MNIST targets.bincount()).
const MNIST_TRAIN = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const MNIST_TEST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

function histogram(labels: Uint8Array): number[] {
  const h = new Array(10).fill(0);
  for (const l of labels) h[l]++;
  return h;
}

Deno.test("mnist train: 60000 images [28,28,1] with the true label histogram", async () => {
  assert.equal(MNIST_TRAIN.reduce((a, b) => a + b), 60000);
  const ds = await mnist("train");
  assert.equal(ds.length, 60000);
  assert.deepEqual(ds.shape, [28, 28, 1]);
  assert.equal(ds.numClasses, 10);
  assert.equal(ds.images.length, 60000 * 784);
  assert.deepEqual(histogram(ds.labels), MNIST_TRAIN);
  // The first training digits are the famous 5, 0, 4, 1, 9.
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => ds.get(i).label), [5, 0, 4, 1, 9]);
  // A digit has ink in the middle and a blank border.
  const img = ds.get(0).image;
  assert.equal(img.length, 784);
  assert.equal(img[0], 0);
  assert.ok(img.reduce((a, b) => a + b, 0) > 10000);
  // Loaded once: the same arrays come back.
  assert.equal((await mnist("train")).images, ds.images);
});

Deno.test("mnist test: 10000 images with the true label histogram", async () => {
  assert.equal(MNIST_TEST.reduce((a, b) => a + b), 10000);
  const ds = await mnist("test");
  assert.equal(ds.length, 10000);
  assert.deepEqual(histogram(ds.labels), MNIST_TEST);
  assert.equal(ds.get(0).label, 7);
});

Deno.test("mnist: bad split and index are RangeErrors, a missing folder a DatasetError", async () => {
  await assert.rejects(() => mnist("val" as "train"), RangeError);
  const ds = await mnist("test");
  assert.throws(() => ds.get(10000), RangeError);
  assert.throws(() => ds.get(-1), RangeError);
  assert.throws(() => ds.get(1.5), RangeError);
  await assert.rejects(() => mnist("test", { dir: "/nonexistent/mnist" }), DatasetError);
});

Deno.test("fashion-mnist: 60000/10000 images, 6000 per class in train, 1000 in test", async () => {
  const train = await fashionMnist("train");
  assert.equal(train.length, 60000);
  assert.deepEqual(train.shape, [28, 28, 1]);
  assert.deepEqual(histogram(train.labels), new Array(10).fill(6000));
  const test = await fashionMnist("test");
  assert.equal(test.length, 10000);
  assert.deepEqual(histogram(test.labels), new Array(10).fill(1000));
  // Known first labels of the Fashion-MNIST train set: ankle boot, T-shirt, T-shirt, dress.
  assert.deepEqual([0, 1, 2, 3].map((i) => train.get(i).label), [9, 0, 0, 3]);
  // Not the same images as MNIST.
  const m = await mnist("train");
  assert.notDeepEqual(train.images.subarray(0, 784), m.images.subarray(0, 784));
});

Deno.test("fashion-mnist: a missing folder names the Debian package", async () => {
  await assert.rejects(
    () => fashionMnist("train", { dir: "/nonexistent/fm" }),
    (e: Error) => e instanceof DatasetError && /nonexistent/.test(e.message),
  );
});
