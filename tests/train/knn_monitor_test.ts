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
