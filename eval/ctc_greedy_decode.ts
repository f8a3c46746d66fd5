import type { tf } from "../backend/tf.ts";
import { type CtcDecodeOptions, readScores } from "./_ctc_targets.ts";

export type { CtcDecodeOptions } from "./_ctc_targets.ts";

/**
 * Best-path CTC decoding (Graves et al. 2006): the most likely symbol per frame, then repeats
 * collapsed and blanks dropped. Scores may be logits or probabilities (argmax is the same).
 *
 * @param logits scores per frame, shape `[B, T, C + 1]`
 * @returns one label sequence per row
 *
 * @example
 * ```ts
 * import { ctcGreedyDecode } from "./ctc_greedy_decode.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * // frames argmax: 0 0 blank 0 1 (blank = 2) -> [0, 0, 1]
 * const scores = tf.oneHot(tf.tensor2d([[0, 0, 2, 0, 1]], [1, 5], "int32"), 3) as tf.Tensor3D;
 * assert.deepEqual(ctcGreedyDecode(scores), [[0, 0, 1]]);
 * ```
 */
export function ctcGreedyDecode(logits: tf.Tensor3D, options: CtcDecodeOptions = {}): number[][] {
  const { values, batch, frames, k, blank, lengths } = readScores(logits, options, "decode CTC");
  const out: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const seq: number[] = [];
    let prev = -1;
    for (let t = 0; t < lengths[b]; t++) {
      const o = (b * frames + t) * k;
      let best = 0;
      for (let c = 1; c < k; c++) if (values[o + c] > values[o + best]) best = c;
      if (best !== blank && best !== prev) seq.push(best);
      prev = best;
    }
    out.push(seq);
  }
  return out;
}
