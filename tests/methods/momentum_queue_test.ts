/**
 * `momentumUpdate`, `cosineMomentum` and `enqueue` on their own (issue 17, fourth mutation pass):
 * the EMA against a float64 reference on every weight (BatchNorm moving statistics included) at
 * several momenta and at the ends of [0, 1], the cosine schedule's formula and clamping, the
 * queue's order and length at every push size, and the exact messages of every check.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { cosineMomentum, enqueue, momentumUpdate } from "../../methods/mod.ts";
import { assertNoLeak, pcg32, setupBackend } from "../_utils.ts";

await setupBackend();

/** A Dense + BatchNorm net (BN's moving mean/variance are non-trainable weights). */
function net(name: string, seed: number): tfl.LayersModel {
  const x = tfl.input({ shape: [3] });
  const d = tfl.layers.dense({ units: 4, name: `${name}_dense` }).apply(x) as tfl.SymbolicTensor;
  const y = tfl.layers.batchNormalization({ name: `${name}_bn` }).apply(d) as tfl.SymbolicTensor;
  const m = tfl.model({ inputs: x, outputs: y, name });
  const prng = pcg32(seed);
  // every weight, the BN statistics too, set to distinct values (the variance kept positive)
  m.setWeights(
    m.getWeights().map((w) =>
      tf.tensor(Array.from({ length: w.size }, () => 0.5 + prng() * 2), w.shape)
    ),
  );
  return m;
}

const values = (m: tfl.LayersModel) => m.weights.map((w) => Array.from(w.read().dataSync()));

Deno.test("momentumUpdate: target <- m * target + (1 - m) * source on every weight, BN statistics included; source unchanged", async () => {
  for (const m of [0, 0.25, 0.9, 1]) {
    const target = net("target", 1), source = net("source", 2);
    assert.equal(target.weights.length, 6); // kernel, bias, gamma, beta, moving mean, variance
    const t0 = values(target), s0 = values(source);
    await assertNoLeak(() => momentumUpdate(target, source, m));
    const t1 = values(target);
    for (let i = 0; i < t0.length; i++) {
      for (let j = 0; j < t0[i].length; j++) {
        const want = m * t0[i][j] + (1 - m) * s0[i][j];
        assert.ok(
          Math.abs(t1[i][j] - want) <= 1e-6,
          `m=${m} weight ${i}[${j}]: ${t1[i][j]} vs ${want}`,
        );
      }
    }
    if (m === 1) assert.deepEqual(t1, t0); // exact at m = 1
    assert.deepEqual(values(source), s0);
    target.dispose();
    source.dispose();
  }
});

Deno.test("momentumUpdate refuses a momentum outside [0, 1] and nets whose weights differ, with messages naming them", () => {
  const target = net("tgt", 1), source = net("src", 2);
  for (const m of [-0.01, 1.01, NaN]) {
    assert.throws(() => momentumUpdate(target, source, m), {
      name: "RangeError",
      message: `Cannot update momentum network: momentum must be in [0, 1], received ${m}`,
    });
  }
  // the same number of tensors but one shape differs
  const x = tfl.input({ shape: [3] });
  const d = tfl.layers.dense({ units: 5 }).apply(x) as tfl.SymbolicTensor;
  const y = tfl.layers.batchNormalization().apply(d) as tfl.SymbolicTensor;
  const wide = tfl.model({ inputs: x, outputs: y, name: "wide" });
  assert.throws(() => momentumUpdate(wide, source, 0.5), {
    name: "TypeError",
    message: "Cannot update momentum network wide from src: weights differ (6 vs 6 tensors)",
  });
  // only the first kernel differs ([2, 4] vs [3, 4]): one mismatched tensor is enough
  const x2 = tfl.input({ shape: [2] });
  const d2 = tfl.layers.dense({ units: 4 }).apply(x2) as tfl.SymbolicTensor;
  const y2 = tfl.layers.batchNormalization().apply(d2) as tfl.SymbolicTensor;
  const narrow = tfl.model({ inputs: x2, outputs: y2, name: "narrow" });
  const before = values(narrow);
  assert.throws(() => momentumUpdate(narrow, source, 0.5), {
    name: "TypeError",
    message: "Cannot update momentum network narrow from src: weights differ (6 vs 6 tensors)",
  });
  assert.deepEqual(values(narrow), before, "nothing written before the check");
  narrow.dispose();
  // a different number of tensors
  const small = tfl.sequential({
    name: "small",
    layers: [tfl.layers.dense({ units: 4, inputShape: [3] })],
  });
  assert.throws(() => momentumUpdate(small, source, 0.5), {
    name: "TypeError",
    message: "Cannot update momentum network small from src: weights differ (2 vs 6 tensors)",
  });
  assert.throws(() => momentumUpdate(source, small, 0.5), {
    name: "TypeError",
    message: "Cannot update momentum network src from small: weights differ (6 vs 2 tensors)",
  });
  for (const m of [target, source, wide, small]) m.dispose();
});

Deno.test("cosineMomentum: 1 - (1 - base)(cos(pi p) + 1) / 2, with progress clamped to [0, 1]", () => {
  for (const base of [0.9, 0.99, 0.996]) {
    for (const p of [0, 0.1, 0.25, 0.5, 0.8, 1]) {
      const want = 1 - (1 - base) * (Math.cos(Math.PI * p) + 1) / 2;
      assert.ok(Math.abs(cosineMomentum(base, p) - want) < 1e-15, `base ${base} p ${p}`);
    }
    assert.equal(cosineMomentum(base, -0.5), cosineMomentum(base, 0));
    assert.equal(cosineMomentum(base, 1.5), 1);
    assert.ok(Math.abs(cosineMomentum(base, 0.5) - (1 + base) / 2) < 1e-15);
  }
});

Deno.test("enqueue: the new rows first, then the queue's oldest K - n rows dropped from its end, at every push size", () => {
  const k = 5, d = 2;
  const queue = tf.tensor2d(Array.from({ length: k }, (_, i) => [i, 10 + i]));
  for (let n = 0; n <= k; n++) {
    const rows = tf.tensor2d(
      Array.from({ length: n }, (_, i) => [100 + i, 200 + i]),
      [n, d],
    );
    const before = tf.memory().numTensors;
    const next = enqueue(queue, rows);
    assert.equal(tf.memory().numTensors, before + 1); // the result only
    const want = [
      ...Array.from({ length: n }, (_, i) => [100 + i, 200 + i]),
      ...Array.from({ length: k - n }, (_, i) => [i, 10 + i]),
    ];
    assert.deepEqual(next.shape, [k, d]);
    assert.deepEqual(next.arraySync(), want, `n = ${n}`);
    next.dispose();
    rows.dispose();
  }
  assert.deepEqual(queue.arraySync(), Array.from({ length: k }, (_, i) => [i, 10 + i]));
  queue.dispose();
});

Deno.test("enqueue refuses mismatched ranks or widths and more rows than the queue holds, with messages", () => {
  const q = tf.zeros([3, 2]) as tf.Tensor2D;
  const cases: [tf.Tensor, tf.Tensor, string][] = [
    [tf.zeros([3]), tf.zeros([1, 2]), "[3] and [1,2]"],
    [q, tf.zeros([2]), "[3,2] and [2]"],
    [q, tf.zeros([1, 3]), "[3,2] and [1,3]"],
    // rank 3 with the matching width in position 1: only the rank checks catch these
    [tf.zeros([3, 2, 1]), tf.zeros([1, 2]), "[3,2,1] and [1,2]"],
    [q, tf.zeros([1, 2, 1]), "[3,2] and [1,2,1]"],
  ];
  for (const [a, b, shapes] of cases) {
    assert.throws(() => enqueue(a as tf.Tensor2D, b as tf.Tensor2D), {
      name: "TypeError",
      message: `Cannot enqueue: expected queue [K, d] and rows [n, d], received ${shapes}`,
    });
  }
  const many = tf.zeros([4, 2]) as tf.Tensor2D;
  assert.throws(() => enqueue(q, many), {
    name: "RangeError",
    message: "Cannot enqueue: expected at most 3 rows (the queue length), received 4",
  });
  tf.dispose([q, many, ...cases.flatMap(([a, b]) => [a, b])]);
});
