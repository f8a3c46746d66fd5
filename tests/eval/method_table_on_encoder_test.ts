import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { prePoolEncoder, runMethodTable, type TableDataset } from "../../eval/method_table.ts";
import { extractFeatures } from "../../eval/extract_features.ts";
import { knnAccuracies } from "../../eval/knn_accuracies.ts";
import { setupBackend } from "../_utils.ts";
import { tinyNoiseSet } from "./_tiny_sets.ts";

await setupBackend();

const toImages = (ds: ReturnType<typeof tinyNoiseSet>) =>
  tf.tidy(() =>
    tf.div(tf.tensor4d(ds.images, [ds.length, 28, 28, 1], "int32"), 255)
  ) as tf.Tensor4D;

Deno.test("onEncoder gets every scored encoder, alive and the one the row's kNN read", async () => {
  const [train, test] = [tinyNoiseSet(256, 1), tinyNoiseSet(64, 2)];
  const [xTrain, xTest] = [toImages(train), toImages(test)];
  const seen: { method: string; seed: number; knn: number[] }[] = [];
  const lines: string[] = [];
  const rows = await runMethodTable({
    datasets: ["fashion-mnist"],
    methods: ["simclr"],
    steps: 2,
    batchSize: 16,
    seeds: [0],
    widths: [4, 4, 4],
    probeEpochs: 1,
    log: (l) => lines.push(l),
    loadDataset: (_d: TableDataset, split) => Promise.resolve(split === "train" ? train : test),
    onEncoder: async (encoder, { dataset, method, seed }) => {
      assert.equal(dataset, "fashion-mnist");
      // the table reads Fashion-MNIST on the pre-pool map: the same read-out, the same kNN
      const map = prePoolEncoder(encoder);
      const [a, b] = [
        await extractFeatures(map, xTrain, { batchSize: 500, pool: "flatten" }),
        await extractFeatures(map, xTest, { batchSize: 500, pool: "flatten" }),
      ];
      const knn = knnAccuracies(a, train.labels, b, test.labels, [20, 200], { temperature: 0.1 });
      tf.dispose([a, b]);
      seen.push({ method, seed, knn });
    },
  });
  tf.dispose([xTrain, xTest]);
  for (const r of rows) assert.equal(r.error, undefined, lines.join("\n"));
  assert.deepEqual(seen.map((s) => `${s.method} ${s.seed}`), [
    "random init 0",
    "supervised 0",
    "simclr 0",
  ]);
  for (const s of seen) {
    const row = rows.find((r) => r.method === s.method)!;
    assert.deepEqual(s.knn, [row.knn20[0], row.knn200[0]], s.method);
  }
});
