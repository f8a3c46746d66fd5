import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import * as tfl from "@tensorflow/tfjs-layers";
import { knnAccuracy, knnClassify } from "../../eval/mod.ts";
import { assertNoLeak, assertTensorClose, pcg32, randomNormal, setupBackend } from "../_utils.ts";

await setupBackend();

/** Float64 loop reference from Wu et al. 2018: cosine sims, top-k, exp(sim/τ) votes. */
function knnReference(
  train: Float64Array,
  labels: Int32Array,
  test: Float64Array,
  d: number,
  k: number,
  tau: number,
  numClasses: number,
): { scores: Float64Array; predictions: Int32Array; gap: number } {
  const nTrain = labels.length, nTest = test.length / d;
  const norm = (x: Float64Array, i: number) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] ** 2;
    return Math.sqrt(s);
  };
  const scores = new Float64Array(nTest * numClasses);
  const predictions = new Int32Array(nTest);
  let gap = Infinity; // smallest margin between the k-th and (k+1)-th similarity
  for (let q = 0; q < nTest; q++) {
    const sims: [number, number][] = [];
    for (let i = 0; i < nTrain; i++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += test[q * d + j] * train[i * d + j];
      sims.push([dot / (norm(test, q) * norm(train, i)), i]);
    }
    sims.sort((a, b) => b[0] - a[0]);
    if (k < nTrain) gap = Math.min(gap, sims[k - 1][0] - sims[k][0]);
    for (let r = 0; r < Math.min(k, nTrain); r++) {
      scores[q * numClasses + labels[sims[r][1]]] += Math.exp(sims[r][0] / tau);
    }
    let best = 0;
    for (let c = 1; c < numClasses; c++) {
      if (scores[q * numClasses + c] > scores[q * numClasses + best]) best = c;
    }
    predictions[q] = best;
  }
  return { scores, predictions, gap };
}

Deno.test("knnClassify matches a float64 loop reference on random features", () => {
  const prng = pcg32(7);
  const [nTrain, nTest, d, numClasses, k, tau] = [60, 23, 8, 4, 10, 0.1];
  const train = randomNormal(nTrain * d, prng);
  const test = randomNormal(nTest * d, prng);
  const labels = Int32Array.from({ length: nTrain }, () => Math.floor(prng() * numClasses));
  const ref = knnReference(train, labels, test, d, k, tau, numClasses);
  assert.ok(ref.gap > 1e-4, `precondition: no near-ties at the k-th neighbour (gap ${ref.gap})`);
  const trainT = tf.tensor2d(Float32Array.from(train), [nTrain, d], "float32");
  const testT = tf.tensor2d(Float32Array.from(test), [nTest, d], "float32");
  // chunkSize 5 does not divide 23: exercises the ragged last chunk
  const got = knnClassify(trainT, labels, testT, { k, temperature: tau, numClasses, chunkSize: 5 });
  assertTensorClose(got.scores, ref.scores, { rtol: 1e-4, atol: 1e-3 }, "scores");
  assert.deepEqual([...got.predictions], [...ref.predictions]);
  tf.dispose([trainT, testT]);
});

Deno.test("knnClassify: k larger than the training set uses every row; scale invariant", () => {
  const prng = pcg32(3);
  const train = randomNormal(5 * 3, prng);
  const test = randomNormal(4 * 3, prng);
  const labels = Int32Array.of(0, 1, 2, 1, 0);
  const ref = knnReference(train, labels, test, 3, 5, 0.5, 3);
  const trainT = tf.tensor2d(Float32Array.from(train), [5, 3], "float32");
  const testT = tf.tensor2d(Float32Array.from(test), [4, 3], "float32");
  const scaled = tf.mul(testT, 7.5);
  const a = knnClassify(trainT, labels, testT, { k: 200, temperature: 0.5 });
  const b = knnClassify(trainT, labels, scaled, { k: 200, temperature: 0.5 });
  assertTensorClose(a.scores, ref.scores, { rtol: 1e-4, atol: 1e-5 }, "scores");
  assertTensorClose(b.scores, a.scores, { rtol: 1e-4, atol: 1e-5 }, "scale invariance");
  tf.dispose([trainT, testT, scaled]);
});

Deno.test("knnAccuracy is 1 on well-separated clusters and chance-level on shuffled labels", () => {
  const prng = pcg32(11);
  const d = 16, perClass = 20, numClasses = 3;
  const centers = randomNormal(numClasses * d, prng).map((v) => v * 5);
  const make = (n: number) => {
    const x = new Float32Array(n * numClasses * d);
    const y = new Int32Array(n * numClasses);
    const noise = randomNormal(x.length, prng);
    for (let i = 0; i < y.length; i++) {
      y[i] = i % numClasses;
      for (let j = 0; j < d; j++) x[i * d + j] = centers[y[i] * d + j] + 0.3 * noise[i * d + j];
    }
    return { x: tf.tensor2d(x, [y.length, d]), y };
  };
  const tr = make(perClass), te = make(5);
  assert.equal(knnAccuracy(tr.x, tr.y, te.x, te.y, { k: 20 }), 1);
  const rotated = te.y.map((v) => (v + 1) % numClasses);
  assert.equal(knnAccuracy(tr.x, tr.y, te.x, rotated, { k: 20 }), 0);
  tf.dispose([tr.x, te.x]);
});

Deno.test("knnClassify leaks no tensors and rejects bad inputs", async () => {
  const train = tf.randomNormal([30, 4], 0, 1, "float32", 1) as tf.Tensor2D;
  const test = tf.randomNormal([9, 4], 0, 1, "float32", 2) as tf.Tensor2D;
  const labels = Array.from({ length: 30 }, (_, i) => i % 3);
  await assertNoLeak(() => knnClassify(train, labels, test, { k: 5, chunkSize: 4 }));
  await assertNoLeak(() => knnAccuracy(train, labels, test, labels.slice(0, 9), { k: 5 }));
  assert.throws(() => knnClassify(train, labels.slice(1), test), TypeError);
  assert.throws(() => knnClassify(train, labels, tf.zeros([2, 5])), /same width/);
  assert.throws(() => knnClassify(train, labels, test, { k: 0 }), RangeError);
  assert.throws(() => knnClassify(train, labels, test, { numClasses: 2 }), RangeError);
  assert.throws(() => knnClassify(train, [0.5, ...labels.slice(1)], test), RangeError);
  tf.dispose([train, test]);
});

Deno.test("extractFeatures: batched inference equals one pass, BatchNorm frozen, no leaks", async () => {
  const { extractFeatures } = await import("../../eval/mod.ts");
  const enc = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [6, 6, 1], filters: 3, kernelSize: 3, seed: 1 } as never),
      tfl.layers.batchNormalization(),
      tfl.layers.globalAveragePooling2d({}),
    ],
  });
  // make the moving statistics non-trivial so training and inference modes differ
  const bn = enc.layers[1];
  bn.setWeights([
    tf.tensor1d([2, 1, 0.5]),
    tf.tensor1d([0.1, -0.2, 0.3]),
    tf.tensor1d([5, -5, 1]),
    tf.tensor1d([4, 9, 0.25]),
  ]);
  const x = tf.randomUniform([7, 6, 6, 1], 0, 1, "float32", 5) as tf.Tensor4D;
  const before = bn.getWeights().map((w) => Array.from(w.dataSync()));
  const expected = enc.predict(x) as tf.Tensor;
  const before0 = tf.memory().numTensors;
  const feats = await extractFeatures(enc, x, { batchSize: 3 });
  assert.equal(tf.memory().numTensors, before0 + 1, "only the returned tensor stays allocated");
  await assertNoLeak(() => extractFeatures(enc, x, { batchSize: 2, pool: "flatten" }));
  assertTensorClose(feats, expected, { rtol: 1e-5, atol: 1e-6 }, "batched features");
  const after = bn.getWeights().map((w) => Array.from(w.dataSync()));
  assert.deepEqual(after, before, "moving statistics must not change");

  // a dataset of uint8 images goes through preprocess (default /255)
  const bytes = Array.from(
    { length: 7 },
    (_, i) => Uint8Array.from({ length: 36 }, (_, j) => (i * 37 + j * 11) % 256),
  );
  const ds = { length: 7, shape: [6, 6, 1], get: (i: number) => ({ image: bytes[i] }) };
  const xs = tf.div(
    tf.tensor4d(Uint8Array.from(bytes.flatMap((b) => [...b])), [7, 6, 6, 1], "int32"),
    255,
  );
  const fromData = await extractFeatures(enc, ds, { batchSize: 4 });
  const ref = enc.predict(xs) as tf.Tensor;
  assertTensorClose(fromData, ref, { rtol: 1e-5, atol: 1e-6 }, "dataset features");
  await assert.rejects(() => extractFeatures(enc, tf.zeros([2, 6, 6]) as never), TypeError);
  tf.dispose([x, expected, feats, xs, fromData, ref]);
});
