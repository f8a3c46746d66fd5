/**
 * `ctcLoss` where `ctc_test.ts` does not look: each refused input with its exact message and the
 * accepted values at each bound, the `"sum"` reduction's value, and logits so far apart that a
 * log-add taken the wrong way round overflows float64 (`log(e^a + e^b)` must factor out the
 * larger of the two).
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { ctcLoss } from "../../eval/mod.ts";
import { assertTensorClose, pcg32, randomNormal, setupBackend } from "../_utils.ts";
import { bruteForceNll, collapse } from "./_ctc_reference.ts";

await setupBackend();

const PREFIX = "Cannot compute CTC loss: ";

Deno.test("ctcLoss refuses each bad input with its message and accepts the bounds", () => {
  const x = tf.zeros([2, 3, 3]) as tf.Tensor3D; // B = 2, T = 3, C + 1 = 3: default blank 2
  const refuses = (f: () => unknown, name: string, message: string) =>
    assert.throws(f, (e: Error) => {
      assert.equal(e.name, name);
      assert.equal(e.message, PREFIX + message);
      return true;
    });
  const shape = "logits must have shape [B, T, C + 1], received ";
  refuses(() => ctcLoss([1, 2] as never, [[0]]), "TypeError", shape + "object");
  refuses(() => ctcLoss(tf.zeros([2, 3]) as never, [[0], [1]]), "TypeError", shape + "[2,3]");
  const blank = "blank must be an integer in [0, 2], received ";
  for (const b of [-1, 0.5, 3]) {
    refuses(() => ctcLoss(x, [[0], [1]], { blank: b }), "RangeError", blank + b);
  }
  const label = "labels must be integers in [0, 2] other than the blank 2, received ";
  for (const v of [-1, 1.5, 3, 2]) {
    refuses(() => ctcLoss(x, [[0], [v]]), "RangeError", `${label}${v} in row 1`);
  }
  refuses(
    () => ctcLoss(x, [[0], [1]], { logitLengths: [3] }),
    "TypeError",
    "expected 2 logit lengths, received 1",
  );
  const lengths = "logit lengths must be integers in [1, 3], received ";
  for (const n of [0, 2.5, 4]) {
    refuses(() => ctcLoss(x, [[0], [1]], { logitLengths: [3, n] }), "RangeError", lengths + n);
  }
  // the bounds themselves are accepted: blank 0 and C, label 0 and C - 1 (blank C), lengths 1
  // and T; a one-frame row then holds a one-symbol label
  const ok = (f: () => tf.Tensor) => {
    const v = f();
    assert.ok(Number.isFinite(v.dataSync()[0]));
    v.dispose();
  };
  ok(() => ctcLoss(x, [[1], [2]], { blank: 0 }));
  ok(() => ctcLoss(x, [[0], [1]], { blank: 2 }));
  ok(() => ctcLoss(x, [[0], [1]], { logitLengths: [1, 3] }));
  x.dispose();
});

Deno.test("ctcLoss reductions: 'sum' adds the rows, 'mean' (the default) averages them", () => {
  const prng = pcg32(17);
  const x = tf.tensor3d(Float32Array.from(randomNormal(3 * 4 * 3, prng)), [3, 4, 3]);
  const targets = [[0, 1], [1], [0, 0]];
  const rows = Array.from(ctcLoss(x, targets, { reduction: "none" }).dataSync());
  assert.equal(rows.length, 3);
  const sum = rows.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - rows[0]) > 0.5, "rows differ enough to tell sum from mean");
  const close = { rtol: 1e-6, atol: 1e-6 };
  assertTensorClose(ctcLoss(x, targets, { reduction: "sum" }), sum, close);
  assertTensorClose(ctcLoss(x, targets, { reduction: "mean" }), sum / 3, close);
  assertTensorClose(ctcLoss(x, targets), sum / 3, close);
  // the gradient of "sum" is that of "mean" times B
  const g = (reduction: "sum" | "mean") =>
    tf.grad((z: tf.Tensor) => ctcLoss(z as tf.Tensor3D, targets, { reduction }))(x);
  const gs = g("sum"), gm = g("mean");
  assertTensorClose(gs, tf.mul(gm, 3), { rtol: 1e-5, atol: 1e-7 });
  tf.dispose([x, gs, gm]);
});

Deno.test("ctcLoss is exact with logits hundreds apart (log-adds in either order)", () => {
  // scores ~ N(0, 400²): per-frame log-probabilities and partial path sums differ by far more
  // than 709, where exp overflows float64. The label is the best path's collapse, so its
  // probability is not negligible and the float64 brute force is exact.
  const prng = pcg32(99);
  for (let trial = 0; trial < 6; trial++) {
    const frames = 5, k = 3, blank = trial % 2 === 0 ? k - 1 : 0;
    const x = Float32Array.from(randomNormal(frames * k, prng), (v) => 400 * v);
    const best = Array.from({ length: frames }, (_, t) => {
      const row = Array.from(x.subarray(t * k, (t + 1) * k));
      return row.indexOf(Math.max(...row));
    });
    const label = collapse(best, blank);
    const want = bruteForceNll(x, frames, k, label, blank);
    assert.ok(Number.isFinite(want));
    const logits = tf.tensor3d(x, [1, frames, k]);
    const got = ctcLoss(logits, [label], { blank });
    assertTensorClose(got, want, { rtol: 1e-6, atol: 1e-6 }, `trial ${trial}`);
    const g = tf.grad((z: tf.Tensor) => ctcLoss(z as tf.Tensor3D, [label], { blank }))(logits);
    const gv = g.dataSync();
    assert.ok(gv.every(Number.isFinite), `trial ${trial}: finite gradient`);
    for (let t = 0; t < frames; t++) {
      const s = gv[t * k] + gv[t * k + 1] + gv[t * k + 2];
      assert.ok(Math.abs(s) < 1e-5, `trial ${trial} frame ${t} sums to ${s}`);
    }
    tf.dispose([logits, got, g]);
  }
});
