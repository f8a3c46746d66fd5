import assert from "node:assert/strict";
import { withSeed } from "../../backend/with_seed.ts";
import { tf } from "../../backend/tf.ts";
import * as tfl from "@tensorflow/tfjs-layers";
import {
  ctcHead,
  evaluateModel,
  extractFeatures,
  fineTune,
  linearProbe,
  mlpProbe,
  trainSupervised,
} from "../../eval/mod.ts";
import { pcg32, randomNormal, setupBackend } from "../_utils.ts";

await setupBackend();

/** Points labeled by which of `numClasses` random hyperplane regions (argmax of W x) they fall in. */
function separable(n: number, d: number, numClasses: number, seed: number) {
  const prng = pcg32(seed);
  const w = randomNormal(d * numClasses, pcg32(99));
  const x = randomNormal(n * d, prng);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    for (let c = 0; c < numClasses; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += w[c * d + j] * x[i * d + j];
      if (s > best) [best, y[i]] = [s, c];
    }
  }
  return { features: tf.tensor2d(Float32Array.from(x), [n, d]), labels: y };
}

Deno.test("linearProbe reaches high accuracy on linearly separable data, leaks only its head", async () => {
  const train = separable(400, 8, 3, 1), test = separable(200, 8, 3, 2);
  const before = tf.memory().numTensors;
  const r = await linearProbe(train, test, { lr: 0.05, epochs: 15, batchSize: 32 });
  assert.ok(r.accuracy >= 0.95, `accuracy ${r.accuracy}`);
  assert.equal(r.metrics.count, 200);
  assert.equal(r.losses.length, 15);
  assert.ok(r.losses[14] < r.losses[0] / 2, `losses ${r.losses}`);
  assert.equal(r.head.layers.filter((l) => l.getClassName() === "Dense").length, 1);
  r.head.dispose();
  assert.equal(tf.memory().numTensors, before, "everything but the head is released");
  tf.dispose([train.features, test.features]);
});

Deno.test("linearProbe cannot fit XOR but mlpProbe (two dense layers) can", async () => {
  const prng = pcg32(4);
  const n = 200;
  const x = new Float32Array(n * 2), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = prng() < 0.5 ? 0 : 1, b = prng() < 0.5 ? 0 : 1;
    x[2 * i] = 2 * a - 1 + 0.1 * (prng() - 0.5);
    x[2 * i + 1] = 2 * b - 1 + 0.1 * (prng() - 0.5);
    y[i] = a ^ b;
  }
  const data = { features: tf.tensor2d(x, [n, 2]), labels: y };
  const lin = await linearProbe(data, data, { lr: 0.05, epochs: 10, batchSize: 16 });
  const mlp = await mlpProbe(data, data, { hiddenUnits: 32, lr: 0.02, epochs: 10, batchSize: 16 });
  assert.ok(lin.accuracy <= 0.8, `linear accuracy ${lin.accuracy}`);
  assert.equal(mlp.accuracy, 1);
  assert.equal(mlp.head.layers.filter((l) => l.getClassName() === "Dense").length, 2);
  tf.dispose([data.features]);
  lin.head.dispose();
  mlp.head.dispose();
});

Deno.test("linearProbe on frame features [N, L, D] trains a per-frame CTC head", async () => {
  // each frame carries a noisy one-hot of its symbol (3 symbols) or of "gap" (index 3)
  const prng = pcg32(8);
  const n = 60, frames = 8, d = 4;
  const x = new Float32Array(n * frames * d);
  const labels: number[][] = [];
  for (let i = 0; i < n; i++) {
    const seq = Array.from({ length: 1 + Math.floor(prng() * 3) }, () => Math.floor(prng() * 3));
    labels.push(seq);
    // layout: gap s1 s1 gap s2 s2 gap s3 ... padded with gaps
    const layout: number[] = [3];
    for (const s of seq) layout.push(s, s, 3);
    for (let t = 0; t < frames; t++) {
      const sym = layout[t] ?? 3;
      for (let j = 0; j < d; j++) {
        x[(i * frames + t) * d + j] = (j === sym ? 2 : 0) + 0.2 * (prng() - 0.5);
      }
    }
  }
  const data = { features: tf.tensor3d(x, [n, frames, d]), labels };
  const r = await linearProbe(data, data, { numClasses: 3, lr: 0.05, epochs: 20, batchSize: 10 });
  assert.equal(r.head.outputs[0].shape[1], 4, "C + 1 outputs");
  assert.ok(r.accuracy >= 0.95, `sequence accuracy ${r.accuracy}`);
  assert.ok(r.metrics.cer !== undefined && r.metrics.cer <= 0.05, `CER ${r.metrics.cer}`);
  r.head.dispose();
  data.features.dispose();
});

function tinyEncoder(seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 1] });
  let h = tfl.layers.conv2d({
    filters: 4,
    kernelSize: 3,
    padding: "same",
    kernelInitializer: tfl.initializers.glorotUniform({ seed }),
  }).apply(input) as tfl.SymbolicTensor;
  h = tfl.layers.batchNormalization({ momentum: 0.9 }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.reLU().apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.globalAveragePooling2d({}).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: h });
}

/** 8x8 images: class 0 bright on the left half, class 1 on the right half. */
function halves(n: number, seed: number) {
  const prng = pcg32(seed);
  const x = new Float32Array(n * 64), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let r = 0; r < 8; r++) {
      for (let c = 0; c < 8; c++) {
        x[i * 64 + r * 8 + c] = ((c < 4) === (y[i] === 0) ? 0.8 : 0.1) + 0.1 * prng();
      }
    }
  }
  return { images: tf.tensor4d(x, [n, 8, 8, 1]), labels: y };
}

Deno.test("fineTune updates encoder and BatchNorm statistics; trainEncoder false freezes them", async () => {
  const data = halves(32, 1), test = halves(16, 2);
  const enc = tinyEncoder(1);
  const head = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 2 })] });
  const snapshot = (m: tfl.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
  const enc0 = snapshot(enc), head0 = snapshot(head);
  const frozen = await fineTune(enc, head, data, {
    lr: 0.05,
    epochs: 3,
    batchSize: 8,
    trainEncoder: false,
  });
  assert.deepEqual(snapshot(enc), enc0, "frozen encoder: weights and moving statistics unchanged");
  assert.notDeepEqual(snapshot(head), head0);
  assert.equal(frozen.metrics, undefined);
  const r = await fineTune(enc, head, data, { lr: 0.05, epochs: 30, batchSize: 8, test });
  const enc1 = snapshot(enc);
  assert.notDeepEqual(enc1[0], enc0[0], "conv kernel trained");
  assert.notDeepEqual(enc1[4], enc0[4], "BatchNorm moving variance updated in training mode");
  assert.ok(r.losses[r.losses.length - 1] < r.losses[0], `losses ${r.losses}`);
  assert.equal(r.metrics?.accuracy, 1);
  assert.equal((await evaluateModel({ encoder: enc, head }, test)).accuracy, 1);
  tf.dispose([data.images, test.images]);
  enc.dispose();
  head.dispose();
});

Deno.test("trainSupervised learns a CTC recognizer from a dataset with text and charset", async () => {
  // 4x16 "lines" of 1-2 glyphs in 4-pixel cells after a gap: 'a' lights the top half, 'b' the bottom
  const charset = "ab";
  const prng = pcg32(5);
  const make = (n: number) => {
    const samples = Array.from({ length: n }, () => {
      const text = Array.from(
        { length: 1 + Math.floor(prng() * 2) },
        () => "ab"[Math.floor(prng() * 2)],
      ).join("");
      const image = new Uint8Array(4 * 16);
      [...text].forEach((ch, k) => {
        for (let r = 0; r < 4; r++) {
          for (let c = 0; c < 4; c++) {
            image[r * 16 + (2 * k + 1) * 4 + c] = (r < 2) === (ch === "a") ? 250 : 0;
          }
        }
      });
      return { image, text };
    });
    return { name: "lines", length: n, shape: [4, 16, 1], charset, get: (i: number) => samples[i] };
  };
  const input = tfl.input({ shape: [4, 16, 1] });
  // one frame per 2 columns: [B, 1, 8, 6] -> [B, 8, 6]
  let h = tfl.layers.conv2d({
    filters: 6,
    kernelSize: [4, 2],
    strides: [4, 2],
    activation: "relu",
    kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
  })
    .apply(input) as tfl.SymbolicTensor;
  h = tfl.layers.reshape({ targetShape: [8, 6] }).apply(h) as tfl.SymbolicTensor;
  const encoder = tfl.model({ inputs: input, outputs: h });
  // seeded: an unseeded head made this test pass or fail with the draw
  const head = withSeed(3, () => ctcHead(2, 6, { hiddenUnits: 16 }));
  const train = make(48), test = make(16);
  const feats = await extractFeatures(encoder, train, { batchSize: 16 });
  assert.deepEqual(feats.shape, [48, 8, 6]);
  feats.dispose();
  const r = await trainSupervised(encoder, head, train, {
    lr: 0.02,
    epochs: 25,
    batchSize: 8,
    test,
  });
  assert.ok(
    r.losses[r.losses.length - 1] < r.losses[0] / 3,
    `losses ${r.losses.map((v) => v.toFixed(2))}`,
  );
  assert.ok(r.metrics!.accuracy >= 0.9, `sequence accuracy ${r.metrics!.accuracy}`);
  assert.ok(r.metrics!.cer! <= 0.1, `CER ${r.metrics!.cer}`);
  encoder.dispose();
  head.dispose();
});

Deno.test("probes and fine-tuning reject bad inputs", async () => {
  const f = tf.zeros([4, 3]);
  await assert.rejects(
    () => linearProbe({ features: f, labels: [0, 1] }, { features: f, labels: [0, 1, 0, 1] }),
    TypeError,
  );
  await assert.rejects(
    () =>
      linearProbe({ features: f, labels: [0, 1, 0, 1] }, {
        features: tf.zeros([2, 5]),
        labels: [0, 1],
      }),
    TypeError,
  );
  await assert.rejects(
    () =>
      linearProbe({ features: f, labels: [0, 1, 0, 1] }, { features: f, labels: [0, 1, 0, 1] }, {
        lr: -1,
      }),
    RangeError,
  );
  await assert.rejects(
    () =>
      mlpProbe({ features: f, labels: [0, 1, 0, 1] }, { features: f, labels: [0, 1, 0, 1] }, {
        hiddenUnits: 0,
      }),
    RangeError,
  );
  await assert.rejects(
    () =>
      linearProbe({ features: f, labels: [0, 1, 0, 1] }, { features: f, labels: [0, 1, 0, 1] }, {
        numClasses: 1,
      }),
    RangeError,
  );
  f.dispose();
});
