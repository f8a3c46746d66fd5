/**
 * A slow, obviously-correct weighted kNN in float64 (Wu et al. 2018, arXiv:1805.01978): cosine
 * similarity, the k most similar bank rows vote for their label with weight exp(sim / tau), the
 * class with the largest total wins (ties: the smaller label). For checking the library's kNN.
 *
 * @module
 */

/** Top-1 accuracy of the weighted kNN of `queries` against `bank` (rows of plain numbers). */
export function knnTop1Reference(
  bank: ArrayLike<number>[],
  bankLabels: ArrayLike<number>,
  queries: ArrayLike<number>[],
  queryLabels: ArrayLike<number>,
  k: number,
  tau: number,
): number {
  const norm = (v: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i] * v[i];
    return Math.max(Math.sqrt(s), 1e-12);
  };
  const bankNorms = bank.map(norm);
  let correct = 0;
  queries.forEach((q, qi) => {
    const qn = norm(q);
    const sims = bank.map((b, bi) => {
      let dot = 0;
      for (let i = 0; i < q.length; i++) dot += q[i] * b[i];
      return { sim: dot / (qn * bankNorms[bi]), label: bankLabels[bi] };
    });
    sims.sort((x, y) => y.sim - x.sim);
    const votes = new Map<number, number>();
    for (const { sim, label } of sims.slice(0, k)) {
      votes.set(label, (votes.get(label) ?? 0) + Math.exp(sim / tau));
    }
    let best = -1, bestVote = -Infinity;
    for (const [label, vote] of [...votes].sort((x, y) => x[0] - y[0])) {
      if (vote > bestVote) [best, bestVote] = [label, vote];
    }
    if (best === queryLabels[qi]) correct++;
  });
  return correct / queries.length;
}
