import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  characterErrorRate,
  ctcBeamSearch,
  ctcGreedyDecode,
  ctcLoss,
  editDistance,
  sequenceAccuracy,
  top1Accuracy,
} from "../../eval/mod.ts";
import {
  assertNoLeak,
  assertTensorClose,
  checkGradient,
  pcg32,
  randomNormal,
  setupBackend,
} from "../_utils.ts";
import { bruteForceNll, collapse, parseLabelling, paths } from "./_ctc_reference.ts";

await setupBackend();

function randomLabel(prng: () => number, maxLen: number, k: number, blank: number): number[] {
  const len = Math.floor(prng() * (maxLen + 1));
  const symbols = Array.from({ length: k }, (_, i) => i).filter((c) => c !== blank);
  return Array.from({ length: len }, () => symbols[Math.floor(prng() * symbols.length)]);
}

Deno.test("ctcLoss equals brute-force enumeration of all alignments (T <= 5, C <= 3)", () => {
  const prng = pcg32(2024);
  let cases = 0;
  for (const [frames, k] of [[1, 2], [3, 2], [4, 3], [5, 3], [5, 4]]) {
    for (const blank of [k - 1, 0]) {
      const batch = 4;
      const x = randomNormal(batch * frames * k, prng).map((v) => 1.5 * v);
      const labels = Array.from(
        { length: batch },
        () => randomLabel(prng, Math.min(3, frames), k, blank),
      );
      labels[0] = [blank === 0 ? 1 : 0, blank === 0 ? 1 : 0].slice(0, Math.min(2, frames)); // a repeat
      const expected = labels.map((l, b) =>
        bruteForceNll(x.subarray(b * frames * k, (b + 1) * frames * k), frames, k, l, blank)
      );
      const logits = tf.tensor3d(Float32Array.from(x), [batch, frames, k]);
      const got = ctcLoss(logits, labels, { blank, reduction: "none" });
      // float32 logits, float64 recursion
      const gv = Array.from(got.dataSync());
      // impossible labellings (too long) are infinite in both; the rest agree closely
      assert.deepEqual(gv.map(Number.isFinite), expected.map(Number.isFinite));
      assertTensorClose(
        gv.filter(Number.isFinite),
        expected.filter(Number.isFinite),
        { rtol: 1e-5, atol: 1e-5 },
        `T=${frames} K=${k} blank=${blank}`,
      );
      const mean = ctcLoss(logits, labels, { blank });
      const finite = expected.filter(Number.isFinite);
      if (finite.length === batch) {
        assertTensorClose(mean, finite.reduce((a, b) => a + b, 0) / batch, {
          rtol: 1e-5,
          atol: 1e-5,
        });
      }
      tf.dispose([logits, got, mean]);
      cases += batch;
    }
  }
  assert.equal(cases, 40);
});

Deno.test("ctcLoss: repeated labels need a blank between them; impossible labels are infinite", () => {
  // label [0, 0] in 2 frames cannot be emitted (needs 0 - 0): probability 0
  const logits = tf.zeros([3, 2, 2]) as tf.Tensor3D;
  const losses = ctcLoss(logits, [[0, 0], [0, 0, 0], [0]], { reduction: "none" });
  const v = losses.dataSync();
  assert.equal(v[0], Infinity);
  assert.equal(v[1], Infinity);
  assert.ok(Math.abs(v[2] - -Math.log(3 / 4)) < 1e-6);
  // in 3 frames [0, 0] has exactly one alignment "0 - 0": p = (1/2)^3
  const three = ctcLoss(tf.zeros([1, 3, 2]) as tf.Tensor3D, [[0, 0]]);
  assertTensorClose(three, 3 * Math.log(2), { rtol: 1e-6, atol: 1e-6 });
  // zeroInfinity: loss 0; the gradient of an impossible row is 0 either way
  const zeroed = ctcLoss(logits, [[0, 0], [0], [0]], { zeroInfinity: true, reduction: "none" });
  assert.equal(zeroed.dataSync()[0], 0);
  const g = tf.grad((x: tf.Tensor) =>
    ctcLoss(x as tf.Tensor3D, [[0, 0], [0], [0]], { reduction: "sum" })
  )(
    tf.randomNormal([3, 2, 2], 0, 1, "float32", 3),
  );
  const gv = g.dataSync();
  assert.deepEqual(Array.from(gv.slice(0, 4)), [0, 0, 0, 0]);
  assert.ok(gv.slice(4).some((e) => e !== 0));
  tf.dispose([logits, losses, three, zeroed, g]);
});

Deno.test("ctcLoss gradient matches central finite differences", () => {
  const prng = pcg32(5);
  const x = tf.tensor3d(Float32Array.from(randomNormal(2 * 6 * 4, prng)), [2, 6, 4]);
  const targets = { labels: tf.tensor2d([[1, 1, 2], [0, 2, 0]], [2, 3], "int32"), lengths: [3, 2] };
  checkGradient((z) => ctcLoss(z as tf.Tensor3D, targets, { blank: 3 }) as tf.Scalar, x, {
    eps: 1e-2,
    rtol: 2e-2,
    atol: 2e-3,
  });
  // per-row logit lengths: frames past the length get no gradient
  const g = tf.grad((z: tf.Tensor) =>
    ctcLoss(z as tf.Tensor3D, targets, { logitLengths: [4, 6], reduction: "sum" })
  )(x);
  const gv = g.dataSync();
  assert.ok(gv.slice(4 * 4, 6 * 4).every((e) => e === 0));
  // each valid frame's gradient sums to 0 over classes (softmax minus a distribution)
  for (let t = 0; t < 4; t++) {
    const s = Array.from(gv.slice(t * 4, t * 4 + 4)).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(s) < 1e-5, `frame ${t} sums to ${s}`);
  }
  checkGradient(
    (z) => ctcLoss(z as tf.Tensor3D, targets, { logitLengths: [4, 5] }) as tf.Scalar,
    x,
    { eps: 1e-2, rtol: 2e-2, atol: 2e-3 },
  );
  tf.dispose([x, targets.labels, g]);
});

Deno.test("ctcLoss goes down under gradient descent and leaks nothing", async () => {
  const w = tf.variable(tf.zeros([2, 5, 4]));
  const targets = [[0, 1, 1], [2]];
  const opt = tf.train.adam(0.1);
  const lossOf = () => tf.tidy(() => ctcLoss(w as unknown as tf.Tensor3D, targets).dataSync()[0]);
  const first = lossOf();
  opt.minimize(() => ctcLoss(w as unknown as tf.Tensor3D, targets) as tf.Scalar); // creates Adam's slots
  await assertNoLeak(() => {
    for (let i = 0; i < 29; i++) {
      opt.minimize(() => ctcLoss(w as unknown as tf.Tensor3D, targets) as tf.Scalar);
    }
  });
  const last = lossOf();
  assert.ok(last < first / 4, `loss ${first} -> ${last}`);
  assert.deepEqual(ctcGreedyDecode(w as unknown as tf.Tensor3D), targets);
  opt.dispose();
  w.dispose();
});

Deno.test("ctcLoss rejects bad shapes and labels", () => {
  const x = tf.zeros([2, 3, 3]) as tf.Tensor3D;
  assert.throws(() => ctcLoss(tf.zeros([2, 3]) as never, [[0], [1]]), TypeError);
  assert.throws(() => ctcLoss(x, [[0]]), /expected 2 label sequences/);
  assert.throws(() => ctcLoss(x, [[0], [2]]), RangeError); // the blank
  assert.throws(() => ctcLoss(x, [[0], [3]]), RangeError);
  assert.throws(() => ctcLoss(x, [[0], [1]], { blank: 3 }), RangeError);
  assert.throws(() => ctcLoss(x, { labels: [0, 1, 1, 0], lengths: [3, 1] }), RangeError);
  x.dispose();
});

Deno.test("ctcGreedyDecode collapses repeats and drops blanks", () => {
  const path = tf.tensor2d([[2, 0, 0, 2, 0, 1, 1], [2, 2, 2, 2, 2, 2, 2]], [2, 7], "int32");
  const scores = tf.oneHot(path, 3) as tf.Tensor3D;
  assert.deepEqual(ctcGreedyDecode(scores), [[0, 0, 1], []]);
  assert.deepEqual(ctcGreedyDecode(scores, { logitLengths: [3, 7] }), [[0], []]);
  assert.deepEqual(ctcGreedyDecode(scores, { blank: 0 }), [[2, 2, 1], [2]]);
  tf.dispose([path, scores]);
});

Deno.test("ctcBeamSearch finds the most probable labelling that best-path misses", () => {
  const prng = pcg32(9);
  const frames = 4, k = 3, blank = 2;
  for (let trial = 0; trial < 5; trial++) {
    const x = randomNormal(frames * k, prng);
    const logits = tf.tensor3d(Float32Array.from(x), [1, frames, k]);
    // brute force: every labelling some path produces, scored by enumeration
    const keys = new Set<string>();
    for (const p of paths(frames, k)) keys.add(collapse(p, blank).join(","));
    let bestKey = "", bestP = -Infinity;
    for (const key of keys) {
      const label = parseLabelling(key);
      const p = -bruteForceNll(x, frames, k, label, blank);
      if (p > bestP) [bestKey, bestP] = [key, p];
    }
    const [got] = ctcBeamSearch(logits, { beamWidth: 64 });
    assert.equal(got.labels.join(","), bestKey);
    assert.ok(Math.abs(got.logProb - bestP) < 1e-4, `${got.logProb} vs ${bestP}`);
    logits.dispose();
  }
  // p(blank) = 0.6, p(a) = 0.4 over 2 frames: best path is "" (0.36) but "a" has 0.64
  const tricky = tf.log(tf.tensor3d([[[0.4, 0.6], [0.4, 0.6]]])) as tf.Tensor3D;
  assert.deepEqual(ctcGreedyDecode(tricky), [[]]);
  assert.deepEqual(ctcBeamSearch(tricky)[0].labels, [0]);
  tricky.dispose();
});

Deno.test("editDistance, characterErrorRate, sequenceAccuracy, top1Accuracy: closed cases", () => {
  assert.equal(editDistance("", ""), 0);
  assert.equal(editDistance("abc", ""), 3);
  assert.equal(editDistance("", "ab"), 2);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("flaw", "lawn"), 2);
  assert.equal(editDistance("abc", "abc"), 0);
  assert.equal(editDistance("ab", "ba"), 2); // no transpositions in Levenshtein
  assert.equal(editDistance("汉字", "汉子"), 1); // by code point
  assert.equal(editDistance([1, 2, 3, 4], [1, 3, 4, 5]), 2);
  // symmetric and a metric on random strings
  const prng = pcg32(1);
  const rand = () =>
    Array.from({ length: Math.floor(prng() * 6) }, () => "ab"[Math.floor(prng() * 2)]).join("");
  for (let i = 0; i < 50; i++) {
    const [a, b, c] = [rand(), rand(), rand()];
    assert.equal(editDistance(a, b), editDistance(b, a));
    assert.ok(editDistance(a, c) <= editDistance(a, b) + editDistance(b, c));
    assert.ok(editDistance(a, b) >= Math.abs(a.length - b.length));
  }
  assert.equal(characterErrorRate(["abc", "de"], ["abc", "de"]), 0);
  assert.equal(characterErrorRate(["", ""], ["abc", "de"]), 1);
  assert.equal(characterErrorRate(["abcd"], ["ab"]), 1);
  assert.equal(characterErrorRate(["axc", "d"], ["abc", "de"]), 2 / 5);
  assert.throws(() => characterErrorRate(["a"], []), TypeError);
  assert.equal(sequenceAccuracy(["abc", "de", ""], ["abc", "df", ""]), 2 / 3);
  assert.equal(sequenceAccuracy([[1, 2]], [[1, 2, 3]]), 0);
  const logits = tf.tensor2d([[0, 1, 0], [3, 1, 0], [0, 0, 2], [1, 5, 0]]);
  assert.equal(top1Accuracy(logits, [1, 0, 2, 0]), 0.75);
  assert.equal(top1Accuracy(tf.tensor1d([1, 0], "int32"), tf.tensor1d([1, 1], "int32")), 0.5);
  assert.throws(() => top1Accuracy(logits, [1, 0]), TypeError);
  logits.dispose();
});

Deno.test("ctcLoss leaks no tensors", async () => {
  const x = tf.randomNormal([2, 5, 3], 0, 1, "float32", 1) as tf.Tensor3D;
  await assertNoLeak(() => ctcLoss(x, [[0, 1], [1]]));
  await assertNoLeak(() =>
    tf.grad((z: tf.Tensor) => ctcLoss(z as tf.Tensor3D, [[0, 1], [1]]) as tf.Scalar)(x)
  );
  await assertNoLeak(() => ctcGreedyDecode(x));
  x.dispose();
});
