/**
 * `methods/pretext/classify.ts`, the classification head every discriminative pretext task ends
 * in: the loss and accuracy against a float64 reference (labels as int32 or as floats holding
 * integers, argmax ties to the lowest class), the exact refusal for each mismatched shape, labels
 * packed as a view and back, and `randomLabels`' range, dtype, seed and spread, and its clamp of
 * the rare draw that float32 rounds up to k. Written for
 * `deno task mutate methods/pretext/classify.ts`: before it, only jigsaw's tests reached this file,
 * through one of its four functions.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import {
  classification,
  labelsAsView,
  labelsOfView,
  randomLabels,
} from "../../../methods/pretext/classify.ts";
import { pcg32 } from "../../../data/prng.ts";
import { setupBackend } from "../../_utils.ts";

await setupBackend();

/** Mean softmax cross-entropy and top-1 (ties to the lowest index) in float64. */
function reference(logits: number[][], labels: number[]): { loss: number; accuracy: number } {
  let loss = 0, hits = 0;
  logits.forEach((row, i) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    loss += lse - row[labels[i]];
    if (row.indexOf(m) === labels[i]) hits++;
  });
  return { loss: loss / logits.length, accuracy: hits / logits.length };
}

Deno.test("classification: loss and accuracy equal the float64 reference, labels int32 or float", () => {
  const prng = pcg32(7);
  const logits = Array.from({ length: 6 }, () => Array.from({ length: 5 }, () => 6 * prng() - 3));
  const labels = [0, 4, 2, 2, 1, 3];
  // make two rows right and one a tie between classes 1 and 3, which argmax gives to 1
  logits[0][0] = 9;
  logits[3][2] = 9;
  logits[4] = [0, 2, -1, 2, 0];
  labels[4] = 3;
  const ref = reference(logits, labels);
  const before = tf.memory().numTensors;
  for (const dtype of ["int32", "float32"] as const) {
    const x = tf.tensor2d(logits);
    const y = tf.tensor1d(labels, dtype);
    const { loss, accuracy } = classification(x, y);
    assert.deepEqual([loss.rank, accuracy.rank], [0, 0]);
    assert.ok(Math.abs(loss.dataSync()[0] - ref.loss) < 1e-5 * ref.loss, `${dtype} loss`);
    assert.equal(accuracy.dataSync()[0], ref.accuracy, `${dtype} accuracy`);
    tf.dispose([x, y, loss, accuracy]);
  }
  assert.equal(tf.memory().numTensors, before);
  // the fixture has both hits and misses, the tie among the misses
  assert.ok(ref.accuracy > 0 && ref.accuracy < 1, `${ref.accuracy}`);
});

Deno.test("classification refuses logits not [N, K] or labels not [N], naming both shapes", () => {
  tf.tidy(() => {
    const cases: [tf.Tensor, tf.Tensor, string][] = [
      [tf.zeros([4]), tf.zeros([4], "int32"), "[4] and [4]"],
      [tf.zeros([4, 3, 1]), tf.zeros([4], "int32"), "[4,3,1] and [4]"],
      [tf.zeros([4, 3]), tf.zeros([4, 1], "int32"), "[4,3] and [4,1]"],
      [tf.zeros([4, 3]), tf.zeros([3], "int32"), "[4,3] and [3]"],
      [tf.zeros([4, 3]), tf.zeros([5], "int32"), "[4,3] and [5]"],
    ];
    for (const [x, y, shapes] of cases) {
      assert.throws(
        () => classification(x as tf.Tensor2D, y as tf.Tensor1D),
        (e: Error) => {
          assert.equal(e.constructor, TypeError);
          assert.equal(
            e.message,
            `Cannot classify: expected logits [N, K] and labels [N], received ${shapes}`,
          );
          return true;
        },
        shapes,
      );
    }
    // the smallest accepted: one sample, two tied classes (loss log 2; the tie goes to class 0)
    const { loss, accuracy } = classification(tf.zeros([1, 2]), tf.zeros([1], "int32"));
    assert.ok(Math.abs(loss.dataSync()[0] - Math.log(2)) < 1e-6);
    assert.equal(accuracy.dataSync()[0], 1);
  });
});

Deno.test("labelsAsView packs [B] labels as a float32 [B, 1, 1, 1] view; labelsOfView unpacks them", () => {
  const before = tf.memory().numTensors;
  const y = tf.tensor1d([3, 0, 7, 1], "int32");
  const view = labelsAsView(y);
  assert.deepEqual(view.shape, [4, 1, 1, 1]);
  assert.equal(view.dtype, "float32");
  assert.deepEqual(Array.from(view.dataSync()), [3, 0, 7, 1]);
  const back = labelsOfView(view);
  assert.deepEqual(back.shape, [4]);
  assert.equal(back.dtype, "int32");
  assert.deepEqual(Array.from(back.dataSync()), [3, 0, 7, 1]);
  tf.dispose([y, view, back]);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("randomLabels: int32 [n] in [0, k), every class drawn about n/k times, fixed by the seed", () => {
  const before = tf.memory().numTensors;
  const n = 2000, k = 8;
  const y = randomLabels(n, k, 3);
  assert.deepEqual(y.shape, [n]);
  assert.equal(y.dtype, "int32");
  const values = Array.from(y.dataSync());
  const counts = new Array(k).fill(0);
  for (const v of values) {
    assert.ok(Number.isInteger(v) && v >= 0 && v < k, `${v}`);
    counts[v]++;
  }
  // binomial(2000, 1/8): sd ~14.8 around 250; 5 sd either side
  for (const c of counts) assert.ok(c > 175 && c < 325, `${counts}`);
  const again = randomLabels(n, k, 3);
  const other = randomLabels(n, k, 4);
  assert.deepEqual(Array.from(again.dataSync()), values);
  assert.notDeepEqual(Array.from(other.dataSync()), values);
  tf.dispose([y, again, other]);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("randomLabels clamps the rare draw that float32 rounds up to k into class k - 1", () => {
  // tfjs draws u in [0, 1) in float64 and stores k·u in float32: seed 33109's 883rd draw is
  // u = 1 - 4.8e-8, and 9u rounds to exactly 9 (found by scanning alea's seeds, as tfjs seeds it).
  const n = 1000, k = 9, seed = 33109, at = 882;
  tf.tidy(() => {
    const raw = tf.randomUniform([n], 0, k, "float32", seed).dataSync();
    assert.equal(raw[at], k, "the premise: this draw reaches k in float32");
    const y = randomLabels(n, k, seed).dataSync();
    assert.equal(y[at], k - 1);
    assert.ok(y.every((v) => v >= 0 && v < k));
  });
});
