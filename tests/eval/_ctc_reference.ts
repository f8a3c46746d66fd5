/**
 * Float64 brute force over every frame path, the reference of the CTC tests (ctc_test.ts, the
 * loss; ctc_decode_reference_test.ts, the decoders): a path collapses to a labelling (repeats
 * merged, then blanks dropped) and a labelling's probability is the sum over its paths of the
 * product of the per-frame softmax.
 *
 * @module
 */

/** Collapses a frame path: merge repeats, then drop blanks. */
export function collapse(path: number[], blank: number): number[] {
  const out: number[] = [];
  path.forEach((c, t) => {
    if (c !== blank && (t === 0 || c !== path[t - 1])) out.push(c);
  });
  return out;
}

/** All k^T frame paths (one, empty, for T = 0). */
export function* paths(frames: number, k: number): Generator<number[]> {
  const p = new Array(frames).fill(0);
  while (true) {
    yield p.slice();
    let t = frames - 1;
    while (t >= 0 && ++p[t] === k) p[t--] = 0;
    if (t < 0) return;
  }
}

/** A labelling's key in {@linkcode labellings}' map back to its symbols. */
export const parseLabelling = (key: string): number[] =>
  key === "" ? [] : key.split(",").map(Number);

/**
 * Every labelling some path of `row` produces, keyed by its symbols joined with commas, with
 * its log-probability (log-softmax per frame, summed over the labelling's paths).
 */
export function labellings(row: number[][], blank: number): Map<string, number> {
  const k = row[0]?.length ?? 0;
  const logp = row.map((scores) => {
    const m = Math.max(...scores);
    const z = Math.log(scores.reduce((s, x) => s + Math.exp(x - m), 0)) + m;
    return scores.map((x) => x - z);
  });
  const prob = new Map<string, number>();
  for (const p of paths(row.length, k)) {
    const key = collapse(p, blank).join(",");
    const lp = p.reduce((s, c, t) => s + logp[t][c], 0);
    prob.set(key, (prob.get(key) ?? 0) + Math.exp(lp));
  }
  return new Map([...prob].map(([key, p]) => [key, Math.log(p)]));
}

/**
 * CTC's negative log-likelihood of `label` by enumeration: `frames` rows of `k` logits, flat;
 * Infinity when no path produces the label.
 */
export function bruteForceNll(
  logits: ArrayLike<number>,
  frames: number,
  k: number,
  label: number[],
  blank: number,
): number {
  const row = Array.from(
    { length: frames },
    (_, t) => Array.from({ length: k }, (_, c) => logits[t * k + c]),
  );
  const logProb = labellings(row, blank).get(label.join(","));
  return logProb === undefined ? Infinity : -logProb;
}
