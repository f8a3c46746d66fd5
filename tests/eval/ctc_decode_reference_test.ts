/**
 * CTC decoding against float64 brute force over every frame path (issue 17: survivors of
 * `deno task mutate eval/ctc_beam_search.ts eval/ctc_greedy_decode.ts`). Greedy decoding is the
 * collapsed best path; prefix beam search with a beam wide enough to keep every prefix is exact,
 * so its labelling and log-probability must equal the most probable labelling's, summed over all
 * its alignments. Random logits, the blank at the first, a middle or the last index, rows cut
 * short by `logitLengths`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { ctcBeamSearch, ctcGreedyDecode } from "../../eval/mod.ts";
import { pcg32, setupBackend } from "../_utils.ts";
import { collapse, labellings, parseLabelling as parse } from "./_ctc_reference.ts";

await setupBackend();

Deno.test("ctcBeamSearch with a beam over every prefix returns the most probable labelling and its log-probability (brute force)", () => {
  const prng = pcg32(17);
  let checked = 0;
  for (const [frames, k] of [[3, 3], [4, 3], [4, 4], [5, 3]] as const) {
    for (const blank of [0, 1, k - 1]) {
      const batch = 3;
      const scale = 2.5;
      const values = Array.from({ length: batch * frames * k }, () => scale * (2 * prng() - 1));
      const logits = tf.tensor3d(values, [batch, frames, k]);
      const lengths = [frames, frames - 1, 1 + Math.floor(prng() * frames)];
      const got = ctcBeamSearch(logits, { blank, logitLengths: lengths, beamWidth: 1000 });
      const greedy = ctcGreedyDecode(logits, { blank, logitLengths: lengths });
      for (let b = 0; b < batch; b++) {
        const row = Array.from(
          { length: lengths[b] },
          (_, t) => values.slice((b * frames + t) * k, (b * frames + t + 1) * k),
        );
        const all = [...labellings(row, blank)].sort((x, y) => y[1] - x[1]);
        const [bestKey, bestLogProb] = all[0];
        const where = `T ${frames} K ${k} blank ${blank} row ${b}`;
        if (all.length < 2 || all[0][1] - all[1][1] > 1e-9) {
          assert.deepEqual(got[b].labels, parse(bestKey), where);
        }
        assert.ok(Math.abs(got[b].logProb - bestLogProb) < 1e-5, `${where}: logProb`);
        // greedy: the collapsed best path (argmax per frame, first index on ties)
        const path = row.map((s) => s.indexOf(Math.max(...s)));
        assert.deepEqual(greedy[b], collapse(path, blank), `${where}: greedy`);
        checked++;
      }
      logits.dispose();
    }
  }
  assert.equal(checked, 36);
});

Deno.test("ctcBeamSearch: a narrow beam still scores its answer exactly; blank defaults to the last index; beamWidth is checked", () => {
  const prng = pcg32(23);
  const [frames, k] = [5, 4];
  const values = Array.from({ length: frames * k }, () => 3 * (2 * prng() - 1));
  const logits = tf.tensor3d(values, [1, frames, k]);
  const row = Array.from({ length: frames }, (_, t) => values.slice(t * k, (t + 1) * k));
  const all = labellings(row, k - 1);
  for (const beamWidth of [1, 2, 3]) {
    const [r] = ctcBeamSearch(logits, { beamWidth });
    const exact = all.get(r.labels.join(","));
    assert.ok(exact !== undefined, "a labelling of the blank-last alphabet");
    // a pruned beam may drop some alignments of its answer, never add any
    assert.ok(r.logProb <= exact + 1e-9, `beam ${beamWidth}: ${r.logProb} > ${exact}`);
  }
  const wide = ctcBeamSearch(logits)[0]; // beamWidth 8 by default
  const best = [...all].sort((x, y) => y[1] - x[1])[0];
  assert.deepEqual(wide.labels, parse(best[0]));
  for (const beamWidth of [0, 1.5]) {
    assert.throws(() => ctcBeamSearch(logits, { beamWidth }), {
      name: "RangeError",
      message:
        `Cannot run CTC beam search: beamWidth must be a positive integer, received ${beamWidth}`,
    });
  }
  assert.throws(() => ctcGreedyDecode(logits, { blank: 4 }), {
    name: "RangeError",
    message: "Cannot decode CTC: blank must be an integer in [0, 3], received 4",
  });
  assert.throws(() => ctcBeamSearch(logits, { logitLengths: [6] }), {
    name: "RangeError",
    message: "Cannot run CTC beam search: expected 1 logit lengths in [0, 5], received [6]",
  });
  // zero frames: the empty labelling with probability 1
  assert.deepEqual(ctcBeamSearch(logits, { logitLengths: [0] }), [{ labels: [], logProb: 0 }]);
  assert.deepEqual(ctcGreedyDecode(logits, { logitLengths: [0] }), [[]]);
  logits.dispose();
});

Deno.test("ctcBeamSearch: narrow beams keep the best prefixes (not the first found); confident logits stay finite; symbols >= 10 never merge", () => {
  // peaked frames spelling 0, 1, 1 with a blank between the 1s: any beam finds [0, 1, 1]
  const k = 3, blank = 2;
  const spell = [0, 1, blank, 1];
  const peaked = tf.tensor3d(
    spell.flatMap((c) => Array.from({ length: k }, (_, j) => j === c ? 4 : 0)),
    [1, spell.length, k],
  );
  for (const beamWidth of [1, 2]) {
    assert.deepEqual(ctcBeamSearch(peaked, { beamWidth, blank })[0].labels, [0, 1, 1]);
  }
  // logits 1000 apart: the log-probabilities differ by ~1000 and logAdd must not overflow
  const confident = tf.tensor3d(
    spell.flatMap((c) => Array.from({ length: k }, (_, j) => j === c ? 1000 : 0)),
    [1, spell.length, k],
  );
  const [r] = ctcBeamSearch(confident, { blank });
  assert.deepEqual(r.labels, [0, 1, 1]);
  assert.ok(Math.abs(r.logProb) < 1e-9, `logProb ${r.logProb}`);
  // 14 classes: labellings [1, 2] and [12] are different prefixes (a key without separators
  // would merge them and add their probabilities)
  const k14 = 14;
  const frame = (hot: Record<number, number>) => Array.from({ length: k14 }, (_, j) => hot[j] ?? 0);
  const rows = [frame({ 1: 3, 12: 2.9 }), frame({ 2: 3, 13: 2.9 })];
  const logits = tf.tensor3d(rows.flat(), [1, 2, k14]);
  const all = [...labellings(rows, 13)].sort((x, y) => y[1] - x[1]);
  const [wide] = ctcBeamSearch(logits, { beamWidth: 1000 });
  assert.deepEqual(wide.labels, parse(all[0][0]));
  assert.ok(Math.abs(wide.logProb - all[0][1]) < 1e-5, `${wide.logProb} vs ${all[0][1]}`);
  tf.dispose([peaked, confident, logits]);
});

Deno.test("ctcGreedyDecode breaks exact ties toward the lower index, as tf.argMax does", () => {
  // all-zero scores (an untrained head): every frame ties; argMax picks symbol 0, not the blank
  const zeros = tf.zeros([1, 3, 4]) as tf.Tensor3D;
  const argMax = tf.argMax(zeros, 2);
  assert.deepEqual(Array.from(argMax.dataSync()), [0, 0, 0]);
  assert.deepEqual(ctcGreedyDecode(zeros), [[0]]);
  const tie = tf.tensor3d([[[0, 2, 2, 1], [3, 0, 0, 3]]]); // frames tie 1/2 and 0/blank
  assert.deepEqual(ctcGreedyDecode(tie), [[1, 0]]);
  tf.dispose([zeros, argMax, tie]);
});
