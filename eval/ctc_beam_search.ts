import type { tf } from "../backend/tf.ts";
import { type CtcDecodeOptions, readScores } from "./_ctc_targets.ts";

/** Options for {@linkcode ctcBeamSearch}. */
export interface CtcBeamSearchOptions extends CtcDecodeOptions {
  /**
   * Prefixes kept per frame.
   * @default 8
   */
  beamWidth?: number;
}

function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/**
 * CTC prefix beam search (Hannun et al. 2014, arXiv:1408.2873, without a language model): keeps
 * the `beamWidth` most probable label prefixes, each with the probability of ending in a blank
 * and in its last symbol, so alignments of the same labelling are summed rather than competing.
 * With a beam wide enough it returns the most probable labelling, which best-path decoding
 * can miss.
 *
 * @param logits unnormalized scores per frame, shape `[B, T, C + 1]` (softmax is applied)
 * @returns per row the best label sequence and its log-probability
 *
 * @example
 * ```ts
 * import { ctcBeamSearch } from "./ctc_beam_search.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * // p(blank) = 0.6 per frame, p(a) = 0.4: best path is "" (0.36), but "a" has 0.64
 * const logits = tf.log(tf.tensor3d([[[0.4, 0.6], [0.4, 0.6]]]));
 * assert.deepEqual(ctcBeamSearch(logits as tf.Tensor3D)[0].labels, [0]);
 * ```
 */
export function ctcBeamSearch(
  logits: tf.Tensor3D,
  options: CtcBeamSearchOptions = {},
): { labels: number[]; logProb: number }[] {
  const { beamWidth = 8 } = options;
  if (!Number.isInteger(beamWidth) || beamWidth < 1) {
    throw new RangeError(
      `Cannot run CTC beam search: beamWidth must be a positive integer, received ${beamWidth}`,
    );
  }
  const { values, batch, frames, k, blank, lengths } = readScores(
    logits,
    options,
    "run CTC beam search",
  );
  const results: { labels: number[]; logProb: number }[] = [];
  const logp = new Float64Array(k);
  for (let b = 0; b < batch; b++) {
    // prefix key -> [log p(ending in blank), log p(ending in its last symbol)]
    let beams = new Map<string, { labels: number[]; pb: number; pnb: number }>();
    beams.set("", { labels: [], pb: 0, pnb: -Infinity });
    for (let t = 0; t < lengths[b]; t++) {
      const o = (b * frames + t) * k;
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, values[o + c]);
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(values[o + c] - max);
      for (let c = 0; c < k; c++) logp[c] = values[o + c] - max - Math.log(sum);
      const next = new Map<string, { labels: number[]; pb: number; pnb: number }>();
      const entry = (labels: number[]) => {
        const key = labels.join(",");
        let e = next.get(key);
        if (!e) next.set(key, e = { labels, pb: -Infinity, pnb: -Infinity });
        return e;
      };
      for (const { labels, pb, pnb } of beams.values()) {
        const total = logAdd(pb, pnb);
        const same = entry(labels);
        same.pb = logAdd(same.pb, total + logp[blank]); // blank keeps the prefix
        const last = labels.length ? labels[labels.length - 1] : -1;
        if (last >= 0) same.pnb = logAdd(same.pnb, pnb + logp[last]); // repeat collapses
        for (let c = 0; c < k; c++) {
          if (c === blank) continue;
          const ext = entry([...labels, c]);
          // a repeated symbol extends the prefix only across a blank
          ext.pnb = logAdd(ext.pnb, (c === last ? pb : total) + logp[c]);
        }
      }
      beams = new Map(
        [...next.entries()]
          .sort((x, y) => logAdd(y[1].pb, y[1].pnb) - logAdd(x[1].pb, x[1].pnb))
          .slice(0, beamWidth),
      );
    }
    let best = { labels: [] as number[], logProb: -Infinity };
    for (const e of beams.values()) {
      const p = logAdd(e.pb, e.pnb);
      if (p > best.logProb) best = { labels: e.labels, logProb: p };
    }
    results.push(best);
  }
  return results;
}
