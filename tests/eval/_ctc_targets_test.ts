/**
 * `raggedTargets` and `readScores`, the input readers `ctcLoss` and the CTC decoders share: each
 * accepted form of the targets read to the same rows, the defaults, the bounds accepted, and each
 * refusal with its exact message.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { raggedTargets, readScores } from "../../eval/_ctc_targets.ts";
import { setupBackend, thrown } from "../_utils.ts";

await setupBackend();

function refuses(f: () => unknown, name: string, message: string): void {
  const e = thrown(f, message);
  assert.equal(e.name, name);
  assert.equal(e.message, message);
}

Deno.test("raggedTargets reads ragged rows, padded tensors, nested and flat arrays alike", () => {
  const want = [[1, 2, 3], [4], []];
  const ragged = [[1, 2, 3], [4], []];
  const got = raggedTargets(ragged, 3, "t");
  assert.deepEqual(got, want);
  assert.notEqual(got[0], ragged[0]); // copies: the caller's rows are not handed out
  const padded = [1, 2, 3, 4, 9, 9, 7, 7, 7]; // [3, 3], pads 9 and 7 past each length
  const cases: [string, Parameters<typeof raggedTargets>[0]][] = [
    ["flat array", { labels: padded, lengths: [3, 1, 0] }],
    ["Int32Array, Float32Array lengths", {
      labels: Int32Array.from(padded),
      lengths: Float32Array.from([3, 1, 0]),
    }],
    ["nested rows of unequal width", { labels: [[1, 2, 3], [4], [7]], lengths: [3, 1, 0] }],
    ["[B, S] tensor", { labels: tf.tensor2d(padded, [3, 3], "int32"), lengths: [3, 1, 0] }],
    ["[B * S] tensor, tensor lengths", {
      labels: tf.tensor1d(padded, "int32"),
      lengths: tf.tensor1d([3, 1, 0], "int32"),
    }],
  ];
  for (const [what, targets] of cases) assert.deepEqual(raggedTargets(targets, 3, "t"), want, what);
  // the ends of the length range: 0 and the padded width
  assert.deepEqual(raggedTargets({ labels: [[5, 6]], lengths: [2] }, 1, "t"), [[5, 6]]);
  assert.deepEqual(raggedTargets({ labels: [[5, 6]], lengths: [0] }, 1, "t"), [[]]);
  // nested rows shorter than the widest are padded with zeros, which a length can reach
  assert.deepEqual(raggedTargets({ labels: [[5], [6, 8]], lengths: [2, 2] }, 2, "t"), [
    [5, 0],
    [6, 8],
  ]);
  for (const [, t] of cases) {
    if (!Array.isArray(t)) {
      tf.dispose([t.labels, t.lengths].filter((v) => v instanceof tf.Tensor) as tf.Tensor[]);
    }
  }
});

Deno.test("raggedTargets refuses each malformed input with its message", () => {
  refuses(
    () => raggedTargets([[1], [2]], 3, "do it"),
    "TypeError",
    "Cannot do it: expected 3 label sequences, received 2",
  );
  refuses(
    () => raggedTargets({ labels: [1, 2, 3, 4], lengths: [1] }, 2, "do it"),
    "TypeError",
    "Cannot do it: expected 2 label lengths, received 1",
  );
  const lengths = tf.tensor1d([1, 1, 1]);
  refuses(
    () => raggedTargets({ labels: [1, 2, 3, 4], lengths }, 2, "do it"),
    "TypeError",
    "Cannot do it: expected 2 label lengths, received 3",
  );
  // 5 values cannot be 2 rows; a [3, 2] tensor is not 2 rows of 2 either
  refuses(
    () => raggedTargets({ labels: [1, 2, 3, 4, 5], lengths: [1, 1] }, 2, "do it"),
    "TypeError",
    "Cannot do it: padded labels must hold 2 rows, received 5 values",
  );
  const wide = tf.tensor1d([1, 2, 3, 4, 5]);
  refuses(
    () => raggedTargets({ labels: wide, lengths: [1, 1] }, 2, "do it"),
    "TypeError",
    "Cannot do it: padded labels must hold 2 rows, received 5 values",
  );
  const tall = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
  refuses(
    () => raggedTargets({ labels: tall, lengths: [1, 1] }, 2, "do it"),
    "TypeError",
    "Cannot do it: padded labels must hold 2 rows, received 6 values",
  );
  for (const n of [-1, 1.5, 3, NaN]) {
    refuses(
      () => raggedTargets({ labels: [1, 2, 3, 4], lengths: [2, n] }, 2, "do it"),
      "RangeError",
      `Cannot do it: label length must be an integer in [0, 2], received ${n} for row 1`,
    );
  }
  tf.dispose([lengths, wide, tall]);
});

Deno.test("readScores returns the scores and their shape, blank C and full lengths by default", () => {
  const x = tf.tensor3d(Array.from({ length: 24 }, (_, i) => i / 8), [2, 3, 4]);
  const r = readScores(x, {}, "t");
  assert.deepEqual(Array.from(r.values), Array.from({ length: 24 }, (_, i) => i / 8));
  assert.deepEqual({ ...r, values: undefined }, {
    values: undefined,
    batch: 2,
    frames: 3,
    k: 4,
    blank: 3,
    lengths: [3, 3],
  });
  // the ends of each range: blank 0 and C, lengths 0 and T
  const o = readScores(x, { blank: 0, logitLengths: Int32Array.from([0, 3]) }, "t");
  assert.equal(o.blank, 0);
  assert.deepEqual(o.lengths, [0, 3]);
  assert.equal(readScores(x, { blank: 3 }, "t").blank, 3);
  x.dispose();
});

Deno.test("readScores refuses each malformed input with its message", () => {
  const x = tf.zeros([2, 3, 4]) as tf.Tensor3D;
  const shape = "Cannot do it: logits must have shape [B, T, C + 1], received ";
  refuses(() => readScores([1] as never, {}, "do it"), "TypeError", shape + "object");
  const flat = tf.zeros([2, 3]);
  refuses(() => readScores(flat as never, {}, "do it"), "TypeError", shape + "[2,3]");
  for (const blank of [-1, 0.5, 4]) {
    refuses(
      () => readScores(x, { blank }, "do it"),
      "RangeError",
      `Cannot do it: blank must be an integer in [0, 3], received ${blank}`,
    );
  }
  for (const logitLengths of [[3], [3, 3, 3], [3, -1], [3, 1.5], [4, 3]]) {
    refuses(
      () => readScores(x, { logitLengths }, "do it"),
      "RangeError",
      `Cannot do it: expected 2 logit lengths in [0, 3], received [${logitLengths}]`,
    );
  }
  tf.dispose([x, flat]);
});
