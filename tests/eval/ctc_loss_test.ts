/**
 * `ctcLoss`'s gradient against a float64 brute force over every frame path (the posterior of
 * each symbol at each frame among the paths that collapse to the label), per row, with blank
 * first or last, repeats, an empty label, short rows (`logitLengths`) and an impossible row; and
 * the loss of the same rows. `ctc_test.ts` checks the loss by the same enumeration and the
 * gradient by finite differences, to 2%; this one holds the gradient to 1e-5.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { ctcLoss } from "../../eval/mod.ts";
import { assertTensorClose, pcg32, randomNormal, setupBackend, thrown } from "../_utils.ts";
import { collapse, paths } from "./_ctc_reference.ts";

await setupBackend();

/**
 * The NLL of `label` in the first `n` of `frames` rows of `k` logits and its gradient, by
 * enumeration: softmax[t, c] minus the share of the label's probability on paths through c at t;
 * rows past `n` and an impossible label get a zero gradient.
 */
function bruteForce(
  x: ArrayLike<number>,
  frames: number,
  n: number,
  k: number,
  label: number[],
  blank: number,
): { nll: number; grad: Float64Array } {
  const soft = Array.from({ length: n }, (_, t) => {
    const row = Array.from({ length: k }, (_, c) => x[t * k + c]);
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / z);
  });
  const post = Array.from({ length: n }, () => new Float64Array(k));
  let total = 0;
  const key = label.join(",");
  for (const p of paths(n, k)) {
    if (collapse(p, blank).join(",") !== key) continue;
    const w = p.reduce((a, c, t) => a * soft[t][c], 1);
    total += w;
    p.forEach((c, t) => post[t][c] += w);
  }
  const grad = new Float64Array(frames * k);
  if (total === 0) return { nll: Infinity, grad };
  for (let t = 0; t < n; t++) {
    for (let c = 0; c < k; c++) grad[t * k + c] = soft[t][c] - post[t][c] / total;
  }
  return { nll: -Math.log(total), grad };
}

Deno.test("ctcLoss's gradient is the brute-force posterior's, row by row, to 1e-5", () => {
  const prng = pcg32(31);
  // [frames, k, blank, labels, logit lengths]
  const cases: [number, number, number, number[][], number[]][] = [
    [5, 3, 2, [[0, 1], [1, 1], [], [0]], [5, 5, 5, 5]],
    [5, 3, 0, [[1, 2, 1], [2], [2, 2], [1, 2]], [5, 4, 3, 2]],
    [4, 4, 3, [[0, 1, 2], [2, 0], [1, 1, 1], [0]], [4, 4, 4, 1]], // [1, 1, 1] needs 5 frames
    [6, 2, 1, [[0, 0], [0], [0, 0, 0], []], [6, 6, 6, 6]],
  ];
  for (const [frames, k, blank, labels, lengths] of cases) {
    const batch = labels.length;
    const x = Float32Array.from(randomNormal(batch * frames * k, prng), (v) => 2 * v);
    const want = labels.map((l, b) =>
      bruteForce(x.subarray(b * frames * k), frames, lengths[b], k, l, blank)
    );
    const logits = tf.tensor3d(x, [batch, frames, k]);
    const options = { blank, logitLengths: lengths };
    const perRow = ctcLoss(logits, labels, { ...options, reduction: "none" });
    const nll = Array.from(perRow.dataSync());
    const what = `T ${frames}, K ${k}, blank ${blank}`;
    assert.deepEqual(nll.map(Number.isFinite), want.map((w) => Number.isFinite(w.nll)), what);
    assertTensorClose(
      nll.filter(Number.isFinite),
      want.map((w) => w.nll).filter(Number.isFinite),
      { rtol: 1e-5, atol: 1e-5 },
      `${what}, loss:`,
    );
    const g = tf.grad((z: tf.Tensor) =>
      ctcLoss(z as tf.Tensor3D, labels, { ...options, reduction: "sum" })
    )(logits);
    const expected = new Float64Array(batch * frames * k);
    want.forEach((w, b) => expected.set(w.grad, b * frames * k));
    assertTensorClose(Array.from(g.dataSync()), expected, { rtol: 1e-5, atol: 1e-5 }, `${what}:`);
    tf.dispose([logits, perRow, g]);
  }
});

Deno.test("ctcLoss: zeroInfinity zeroes the impossible rows only; the targets' reader names ctcLoss", () => {
  const prng = pcg32(32);
  const [frames, k] = [3, 3];
  const x = Float32Array.from(randomNormal(3 * frames * k, prng));
  const labels = [[0, 1], [1, 1, 0], [0, 0]]; // [1, 1, 0] needs 4 frames
  const want = labels.map((l, b) =>
    bruteForce(x.subarray(b * frames * k), frames, frames, k, l, k - 1).nll
  );
  assert.equal(want[1], Infinity);
  const logits = tf.tensor3d(x, [3, frames, k]);
  const got = ctcLoss(logits, labels, { zeroInfinity: true, reduction: "none" });
  assertTensorClose(got, [want[0], 0, want[2]], { rtol: 1e-5, atol: 1e-5 }, "zeroInfinity:");
  const e = thrown(() => ctcLoss(logits, [[0], [1]]));
  assert.equal(e.name, "TypeError");
  assert.equal(e.message, "Cannot compute CTC loss: expected 3 label sequences, received 2");
  tf.dispose([logits, got]);
});
