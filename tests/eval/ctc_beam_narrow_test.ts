/**
 * CTC prefix beam search with a narrow beam against an independent float64 reference of Hannun
 * et al. 2014 (arXiv:1408.2873, Algorithm 1 without a language model), written in probability
 * space: per frame every kept prefix passes to itself (a blank, or its last symbol repeated) and
 * to each one-symbol extension (a repeat only across a blank), probabilities of the same prefix
 * are summed, and the `beamWidth` most probable prefixes are kept. With a beam too narrow to keep
 * every prefix the answer depends on that pruning, which the brute-force tests in
 * `ctc_decode_reference_test.ts` cannot check (issue 17: beam search's open survivor, the symbol
 * loop run one index past the last class, kept an out-of-range prefix of NaN probability in the
 * beam in place of a real one).
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { ctcBeamSearch } from "../../eval/mod.ts";
import { pcg32, setupBackend } from "../_utils.ts";

await setupBackend();

/** Prefix beam search in probability space; `row` holds logits, one array per frame. */
function referenceBeam(
  row: number[][],
  blank: number,
  width: number,
): { labels: number[]; logProb: number } {
  let beams = new Map<string, { labels: number[]; pb: number; pnb: number }>([
    ["", { labels: [], pb: 1, pnb: 0 }],
  ]);
  for (const scores of row) {
    const z = scores.reduce((s, v) => s + Math.exp(v), 0);
    const p = scores.map((v) => Math.exp(v) / z);
    const next = new Map<string, { labels: number[]; pb: number; pnb: number }>();
    const at = (labels: number[]) => {
      const key = labels.join(" ");
      if (!next.has(key)) next.set(key, { labels, pb: 0, pnb: 0 });
      return next.get(key)!;
    };
    for (const { labels, pb, pnb } of beams.values()) {
      const self = at(labels);
      self.pb += (pb + pnb) * p[blank];
      const last = labels.length > 0 ? labels[labels.length - 1] : null;
      if (last !== null) self.pnb += pnb * p[last];
      for (let c = 0; c < p.length; c++) {
        if (c === blank) continue;
        at([...labels, c]).pnb += (c === last ? pb : pb + pnb) * p[c];
      }
    }
    beams = new Map(
      [...next.entries()].sort((x, y) => (y[1].pb + y[1].pnb) - (x[1].pb + x[1].pnb)).slice(
        0,
        width,
      ),
    );
  }
  let best = { labels: [] as number[], logProb: -Infinity };
  for (const { labels, pb, pnb } of beams.values()) {
    if (Math.log(pb + pnb) > best.logProb) best = { labels, logProb: Math.log(pb + pnb) };
  }
  return best;
}

Deno.test("ctcBeamSearch with beams of 1-3 prefixes equals a float64 prefix beam search (Hannun et al. 2014) on random rows", () => {
  const prng = pcg32(31);
  let checked = 0;
  let pruned = 0;
  for (const [frames, k] of [[4, 2], [5, 3], [6, 3], [5, 4]] as const) {
    for (const blank of [0, k - 1]) {
      const batch = 4;
      // float32, as the tensor holds them
      const values = Array.from({ length: batch * frames * k }, () => Math.fround(4 * prng() - 2));
      const logits = tf.tensor3d(values, [batch, frames, k]);
      for (const beamWidth of [1, 2, 3]) {
        const got = ctcBeamSearch(logits, { blank, beamWidth });
        const wide = ctcBeamSearch(logits, { blank, beamWidth: 1000 });
        for (let b = 0; b < batch; b++) {
          const row = Array.from(
            { length: frames },
            (_, t) => values.slice((b * frames + t) * k, (b * frames + t + 1) * k),
          );
          const want = referenceBeam(row, blank, beamWidth);
          const where = `T ${frames} K ${k} blank ${blank} beam ${beamWidth} row ${b}`;
          assert.deepEqual(got[b].labels, want.labels, where);
          assert.ok(
            Math.abs(got[b].logProb - want.logProb) < 1e-9,
            `${where}: logProb ${got[b].logProb}, reference ${want.logProb}`,
          );
          if (Math.abs(wide[b].logProb - want.logProb) > 1e-9) pruned++;
          checked++;
        }
      }
      logits.dispose();
    }
  }
  assert.equal(checked, 96);
  // the narrow beams must matter on these rows, or the test checks nothing the wide one does not
  assert.ok(pruned >= 10, `only ${pruned} rows where pruning changed the answer`);
});
