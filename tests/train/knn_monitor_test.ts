import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { knnMonitor } from "../../train/mod.ts";
import { assertNoLeak, setupBackend } from "../_utils.ts";

await setupBackend();

Deno.test("kNN monitor: features that separate classes score 1, mean-pooled [B,L,D] outputs work, no leak", async () => {
  // two classes: bright left half vs bright right half of a 2x4 image; the encoder is a 1x1 conv
  // to 2 channels giving [B, 2, 4, 2] maps, mean-pooled to [B, 2]
  const make = (n: number, offset: number) => {
    const images: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = (i + offset) % 2;
      for (let y = 0; y < 2; y++) {
        for (let x = 0; x < 4; x++) images.push((x < 2) === (c === 0) ? 0.9 : 0.1);
      }
      labels.push(c);
    }
    return { images: tf.tensor4d(images, [n, 2, 4, 1]), labels };
  };
  const bank = make(10, 0), queries = make(6, 1);
  const encoder = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [2, 4, 1], filters: 2, kernelSize: 1, useBias: false }),
    ],
  });
  encoder.setWeights([tf.tensor4d([1, -1], [1, 1, 1, 2])]);
  // left/right information is lost by a 1x1 conv + mean pool: accuracy at chance at best
  const blind = knnMonitor(encoder, {
    trainImages: bank.images,
    trainLabels: bank.labels,
    testImages: queries.images,
    testLabels: queries.labels,
  }, { k: 3 });
  const aware = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [2, 4, 1] })] });
  const good = knnMonitor(aware, {
    trainImages: bank.images,
    trainLabels: bank.labels,
    testImages: queries.images,
    testLabels: queries.labels,
  }, { k: 3, batchSize: 4 });
  assert.equal((await good()).knnTop1, 1);
  assert.ok((await blind()).knnTop1 <= 0.5);
  await assertNoLeak(() => good());
  assert.throws(
    () =>
      knnMonitor(aware, {
        trainImages: bank.images,
        trainLabels: [0],
        testImages: queries.images,
        testLabels: queries.labels,
      }),
    /expected 10 train labels, received 1/,
  );
  assert.throws(() => knnMonitor(aware, {} as never, { kk: 1 } as never), /unknown option "kk"/);
  tf.dispose([bank.images, queries.images]);
});

Deno.test("kNN monitor: k, temperature and batchSize reach the vote and the forward passes", async () => {
  // query (1, 0); bank: (1, 0.05) class 0 (cos 0.9988), (1, +-0.6) class 1 (cos 0.857 each)
  const bank = tf.tensor4d([1, 0.05, 1, 0.6, 1, -0.6], [3, 1, 2, 1]);
  const query = tf.tensor4d([1, 0], [1, 1, 2, 1]);
  const heldOut = { trainImages: bank, trainLabels: [0, 1, 1], testImages: query, testLabels: [0] };
  const encoder = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [1, 2, 1] })] });
  const sizes: number[] = [];
  const apply = encoder.apply.bind(encoder);
  encoder.apply = ((x: tf.Tensor, kwargs: unknown) => {
    sizes.push(x.shape[0]);
    return apply(x, kwargs as never);
  }) as never;
  assert.deepEqual(await knnMonitor(encoder, heldOut, { k: 3, temperature: 0.01 })(), {
    knnTop1: 1, // e^99.9 > 2 e^85.7
  });
  assert.deepEqual(sizes, [3, 1]); // one pass each at the default batch size (256)
  assert.equal((await knnMonitor(encoder, heldOut, { k: 3, temperature: 10 })()).knnTop1, 0); // e^0.0999 < 2 e^0.0857
  assert.equal((await knnMonitor(encoder, heldOut, { k: 1, temperature: 10 })()).knnTop1, 1);
  sizes.length = 0;
  await knnMonitor(encoder, heldOut, { k: 3, batchSize: 2 })();
  assert.deepEqual(sizes, [2, 1, 1]);
  tf.dispose([bank, query]);
});

Deno.test("kNN monitor: each refusal's exact message", () => {
  const x = tf.zeros([2, 1, 2, 1]) as tf.Tensor4D;
  const encoder = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [1, 2, 1] })] });
  const heldOut = { trainImages: x, trainLabels: [0, 1], testImages: x, testLabels: [0, 1] };
  const type = (message: string) => ({ name: "TypeError", message });
  assert.throws(
    () => knnMonitor(encoder, heldOut, { kk: 1 } as never),
    type(
      'Cannot build the kNN monitor: unknown option "kk"; expected some of k, temperature, batchSize',
    ),
  );
  const flat = tf.zeros([2, 2]);
  for (
    const [name, images] of [
      ["trainImages", flat],
      ["testImages", flat],
      ["trainImages", undefined],
      ["testImages", [[[[0]]]]],
    ] as const
  ) {
    assert.throws(
      () => knnMonitor(encoder, { ...heldOut, [name]: images as never }),
      type(`Cannot build the kNN monitor: ${name} must be a rank-4 tensor`),
      `${name} ${images}`,
    );
  }
  assert.throws(
    () => knnMonitor(encoder, { ...heldOut, testLabels: [0, 1, 1] }),
    type("Cannot build the kNN monitor: expected 2 test labels, received 3"),
  );
  assert.throws(
    () => knnMonitor(encoder, { ...heldOut, trainLabels: [] }),
    type("Cannot build the kNN monitor: expected 2 train labels, received 0"),
  );
  tf.dispose([x, flat]);
});
