import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { knnAccuracies, knnAccuracy } from "../../eval/mod.ts";
import { assertNoLeak, pcg32, randomNormal, setupBackend } from "../_utils.ts";

await setupBackend();

Deno.test("knnAccuracies equals knnAccuracy (tf.topk) at every k, on clustered random data", async () => {
  const prng = pcg32(17);
  const nTrain = 300, nTest = 120, d = 6, classes = 4;
  const centers = Array.from({ length: classes }, () => Array.from(randomNormal(d, prng)));
  const sample = (n: number) => {
    const labels = Int32Array.from({ length: n }, () => Math.floor(prng() * classes));
    const noise = randomNormal(n * d, prng);
    const x = Float32Array.from(
      { length: n * d },
      (_, i) => centers[labels[Math.floor(i / d)]][i % d] + 1.5 * noise[i],
    );
    return { x: tf.tensor2d(x, [n, d]), labels };
  };
  const train = sample(nTrain), test = sample(nTest);
  const ks = [1, 5, 20, 200, 1000];
  const got = knnAccuracies(train.x, train.labels, test.x, test.labels, ks, { chunkSize: 50 });
  const want = ks.map((k) =>
    knnAccuracy(train.x, train.labels, test.x, test.labels, { k, temperature: 0.1 })
  );
  assert.deepEqual(got, want);
  assert.ok(got[2] > 0.4 && got[2] < 1, `a task that is neither trivial nor hopeless: ${got[2]}`);
  await assertNoLeak(() => knnAccuracies(train.x, train.labels, test.x, test.labels, [3]));
  assert.throws(() => knnAccuracies(train.x, train.labels, test.x, test.labels, [0]), RangeError);
  assert.throws(
    () => knnAccuracies(train.x, train.labels.slice(1), test.x, test.labels, [3]),
    TypeError,
  );
  tf.dispose([train.x, test.x]);
});
