import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { mnist } from "../../data/mod.ts";
import { knnRawPixels } from "../../train/mod.ts";
import { assertNoLeak, pcg32, setupBackend } from "../_utils.ts";
import { knnTop1Reference } from "./_knn_reference.ts";

await setupBackend();

Deno.test("knnRawPixels equals a float64 weighted kNN on the flattened pixels, without leaks", async () => {
  const prng = pcg32(11);
  const make = (n: number) => {
    const rows = Array.from({ length: n }, () => Array.from({ length: 12 }, () => prng()));
    const labels = Array.from({ length: n }, () => Math.floor(prng() * 3));
    return { rows, labels, images: tf.tensor4d(rows.flat(), [n, 2, 3, 2]) };
  };
  const bank = make(50), queries = make(30);
  const heldOut = {
    trainImages: bank.images,
    trainLabels: bank.labels,
    testImages: queries.images,
    testLabels: queries.labels,
  };
  for (const [k, temperature] of [[1, 0.1], [7, 0.1], [20, 0.5]]) {
    const expected = knnTop1Reference(
      bank.rows,
      bank.labels,
      queries.rows,
      queries.labels,
      k,
      temperature,
    );
    assert.equal(knnRawPixels(heldOut, { k, temperature }), expected, `k ${k} tau ${temperature}`);
  }
  await assertNoLeak(() => knnRawPixels(heldOut, { k: 5 }));
  tf.dispose([bank.images, queries.images]);
});

Deno.test("knnRawPixels weights the votes by exp(cos / tau): one close neighbour beats two far ones only at a low tau", () => {
  // query (1, 0); bank: (1, 0.05) class 0 (cos 0.9988), (1, +-0.6) class 1 (cos 0.857 each)
  const bank = tf.tensor4d([1, 0.05, 1, 0.6, 1, -0.6], [3, 1, 2, 1]);
  const query = tf.tensor4d([1, 0], [1, 1, 2, 1]);
  const heldOut = { trainImages: bank, trainLabels: [0, 1, 1], testImages: query, testLabels: [0] };
  assert.equal(knnRawPixels(heldOut, { k: 3, temperature: 0.01 }), 1); // e^99.9 > 2 e^85.7
  assert.equal(knnRawPixels(heldOut, { k: 3, temperature: 10 }), 0); // e^0.0999 < 2 e^0.0857
  assert.equal(knnRawPixels(heldOut, { k: 1, temperature: 10 }), 1);
  tf.dispose([bank, query]);
});

Deno.test("knnRawPixels on the pretrain monitor's MNIST sets matches the reference", async () => {
  // bank = first 300 train images, queries = first 100 test images, k 200, tau 0.1
  const [train, test] = await Promise.all([mnist("train"), mnist("test")]);
  const rows = (ds: typeof train, n: number) =>
    Array.from({ length: n }, (_, i) => Array.from(ds.images.subarray(i * 784, (i + 1) * 784)));
  const bankRows = rows(train, 300), queryRows = rows(test, 100);
  const toImages = (r: number[][]) =>
    tf.tensor4d(r.flat().map((b) => b / 255), [r.length, 28, 28, 1]);
  const heldOut = {
    trainImages: toImages(bankRows),
    trainLabels: train.labels.slice(0, 300),
    testImages: toImages(queryRows),
    testLabels: test.labels.slice(0, 100),
  };
  const expected = knnTop1Reference(
    bankRows,
    heldOut.trainLabels,
    queryRows,
    heldOut.testLabels,
    200,
    0.1,
  );
  assert.equal(knnRawPixels(heldOut, { k: 200 }), expected);
  tf.dispose([heldOut.trainImages, heldOut.testImages]);
});

Deno.test("knnRawPixels rejects unknown options and non-image inputs, with the exact message", () => {
  const x = tf.zeros([2, 2, 2, 1]) as tf.Tensor4D;
  const heldOut = { trainImages: x, trainLabels: [0, 1], testImages: x, testLabels: [0, 1] };
  const type = (message: string) => ({ name: "TypeError", message });
  assert.throws(
    () => knnRawPixels(heldOut, { kk: 3 } as never),
    type('Cannot compute the raw-pixel kNN: unknown option "kk"; expected some of k, temperature'),
  );
  // the monitor's batchSize is not this function's
  assert.throws(
    () => knnRawPixels(heldOut, { k: 1, batchSize: 4 } as never),
    type(
      'Cannot compute the raw-pixel kNN: unknown option "batchSize"; expected some of k, temperature',
    ),
  );
  const flat = tf.zeros([2, 4]);
  const five = tf.zeros([2, 1, 2, 2, 1]);
  for (
    const [images, name, received] of [
      [flat, "testImages", "shape [2,4]"],
      [five, "testImages", "shape [2,1,2,2,1]"],
      [undefined, "testImages", "undefined"],
      [[[[[0]]]], "trainImages", "object"],
      [flat, "trainImages", "shape [2,4]"],
    ] as const
  ) {
    assert.throws(
      () => knnRawPixels({ ...heldOut, [name]: images as never }),
      type(
        `Cannot compute the raw-pixel kNN: ${name} must be a rank-4 tensor, received ${received}`,
      ),
      `${name} ${received}`,
    );
  }
  tf.dispose([x, flat, five]);
});
