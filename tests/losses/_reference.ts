/**
 * Slow, obviously-correct float64 references written from the papers' definitions with plain
 * loops over arrays. Shared by the loss tests; nothing here touches tfjs.
 *
 * @module
 */
import { type Prng, randomNormal } from "../_utils.ts";

export type Matrix = number[][];

/** A `[rows, cols]` matrix of standard normals times `scale`. */
export function randn(rows: number, cols: number, prng: Prng, scale = 1): Matrix {
  const v = randomNormal(rows * cols, prng);
  return Array.from(
    { length: rows },
    (_, i) => Array.from({ length: cols }, (_, j) => v[i * cols + j] * scale),
  );
}

export function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function normalize(x: number[]): number[] {
  const norm = Math.sqrt(dot(x, x));
  return x.map((v) => v / Math.max(norm, 1e-12));
}

/** log Σ exp(v), computed stably. */
export function logSumExp(v: number[]): number {
  const m = Math.max(...v);
  let s = 0;
  for (const x of v) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** Source document's info_nce_loss: symmetric cross-entropy of z1·z2ᵀ/τ, diagonal targets. */
export function refInfoNce(z1: Matrix, z2: Matrix, tau: number): number {
  const a = z1.map(normalize), b = z2.map(normalize);
  const n = a.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = b.map((bj) => dot(a[i], bj) / tau); // z1_i against all z2_j
    const col = a.map((aj) => dot(aj, b[i]) / tau); // z2_i against all z1_j
    total += (logSumExp(row) - row[i]) / 2 + (logSumExp(col) - col[i]) / 2;
  }
  return total / n;
}

/** SimCLR Algorithm 1: ℓ(i, j) = -log exp(s_ij/τ) / Σ_{k≠i} exp(s_ik/τ), mean over the 2n anchors. */
export function refNtXent(z1: Matrix, z2: Matrix, tau: number): number {
  const z = [...z1, ...z2].map(normalize);
  const n = z1.length;
  let total = 0;
  for (let i = 0; i < 2 * n; i++) {
    const j = i < n ? i + n : i - n;
    const others: number[] = [];
    for (let k = 0; k < 2 * n; k++) if (k !== i) others.push(dot(z[i], z[k]) / tau);
    total += logSumExp(others) - dot(z[i], z[j]) / tau;
  }
  return total / (2 * n);
}

/** MoCo Algorithm 1: logits [l_pos, l_neg] / τ, cross-entropy with label 0, all normalized. */
export function refMoco(q: Matrix, k: Matrix, queue: Matrix, tau: number): number {
  const qn = q.map(normalize), kn = k.map(normalize), un = queue.map(normalize);
  let total = 0;
  for (let i = 0; i < qn.length; i++) {
    const logits = [dot(qn[i], kn[i]) / tau, ...un.map((u) => dot(qn[i], u) / tau)];
    total += logSumExp(logits) - logits[0];
  }
  return total / qn.length;
}

/** Top-1 accuracy: argmax (first index on ties) equals the target. */
export function argmax(v: number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

export function refNegativeCosine(p: Matrix, z: Matrix): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += dot(normalize(p[i]), normalize(z[i]));
  return -s / p.length;
}

/** Sohn 2016 multi-class N-pair, plus l2Reg × mean squared norm of the 2n embeddings. */
export function refNPair(a: Matrix, p: Matrix, l2Reg: number): number {
  const n = a.length;
  let ce = 0, sq = 0;
  for (let i = 0; i < n; i++) {
    const logits = p.map((pj) => dot(a[i], pj));
    ce += logSumExp(logits) - logits[i];
    sq += dot(a[i], a[i]) + dot(p[i], p[i]);
  }
  return ce / n + l2Reg * sq / (2 * n);
}

export function refDistance(x: number[], y: number[], distance: "euclidean" | "cosine"): number {
  const a = normalize(x), b = normalize(y);
  if (distance === "cosine") return 1 - dot(a, b);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** Triplet margin loss with pytorch-metric-learning conventions (AvgNonZeroReducer). */
export function refTriplet(
  e: Matrix,
  labels: number[],
  margin: number,
  mining: "all" | "hard" | "semihard",
  distance: "euclidean" | "cosine",
): number {
  const n = e.length;
  const d = (i: number, j: number) => refDistance(e[i], e[j], distance);
  const losses: number[] = [];
  for (let a = 0; a < n; a++) {
    if (mining === "hard") {
      let hp = -Infinity, hn = Infinity;
      for (let j = 0; j < n; j++) {
        if (j === a) continue;
        if (labels[j] === labels[a]) hp = Math.max(hp, d(a, j));
        else hn = Math.min(hn, d(a, j));
      }
      if (hp > -Infinity && hn < Infinity) losses.push(Math.max(hp - hn + margin, 0));
      continue;
    }
    for (let p = 0; p < n; p++) {
      if (p === a || labels[p] !== labels[a]) continue;
      for (let q = 0; q < n; q++) {
        if (labels[q] === labels[a]) continue;
        const dap = d(a, p), dan = d(a, q);
        if (mining === "semihard" && !(dap < dan && dan < dap + margin)) continue;
        losses.push(Math.max(dap - dan + margin, 0));
      }
    }
  }
  const nonzero = losses.filter((l) => l > 0);
  return nonzero.length === 0 ? 0 : nonzero.reduce((s, l) => s + l, 0) / nonzero.length;
}

/** Hadsell et al. 2006 contrastive loss, each part averaged over its non-zero terms, summed. */
export function refContrastive(
  e: Matrix,
  labels: number[],
  posMargin: number,
  negMargin: number,
  distance: "euclidean" | "cosine",
): number {
  const pos: number[] = [], neg: number[] = [];
  for (let i = 0; i < e.length; i++) {
    for (let j = 0; j < e.length; j++) {
      if (i === j) continue;
      const d = refDistance(e[i], e[j], distance);
      if (labels[i] === labels[j]) pos.push(Math.max(d - posMargin, 0));
      else neg.push(Math.max(negMargin - d, 0));
    }
  }
  const avg = (v: number[]) => {
    const nz = v.filter((x) => x > 0);
    return nz.length === 0 ? 0 : nz.reduce((s, x) => s + x, 0) / nz.length;
  };
  return avg(pos) + avg(neg);
}

/** SwAV's distributed_sinkhorn on one worker, verbatim in float64: returns [B][K]. */
export function refSinkhorn(scores: Matrix, iterations: number, epsilon: number): Matrix {
  const B = scores.length, K = scores[0].length;
  // Q = exp(out / eps).t()  -> [K][B]
  const Q = Array.from({ length: K }, (_, k) => scores.map((row) => Math.exp(row[k] / epsilon)));
  let total = 0;
  for (const row of Q) for (const v of row) total += v;
  for (const row of Q) for (let b = 0; b < B; b++) row[b] /= total;
  for (let it = 0; it < iterations; it++) {
    for (const row of Q) {
      const s = row.reduce((x, y) => x + y, 0);
      for (let b = 0; b < B; b++) row[b] /= s * K;
    }
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += Q[k][b];
      for (let k = 0; k < K; k++) Q[k][b] /= s * B;
    }
  }
  return Array.from({ length: B }, (_, b) => Array.from({ length: K }, (_, k) => Q[k][b] * B));
}

/** SwAV main_swav.py's loss: swapped prediction over multi-crop, optional per-crop queue. */
export function refSwav(
  high: Matrix[],
  low: Matrix[],
  tau: number,
  iterations: number,
  epsilon: number,
  queue?: Matrix[],
): number {
  const crops = [...high, ...low];
  const B = high[0].length;
  let loss = 0;
  for (let s = 0; s < high.length; s++) {
    const out = queue ? [...high[s], ...queue[s]] : high[s];
    const q = refSinkhorn(out, iterations, epsilon).slice(0, B);
    let sub = 0;
    for (let v = 0; v < crops.length; v++) {
      if (v === s) continue;
      let m = 0;
      for (let b = 0; b < B; b++) {
        const x = crops[v][b].map((t) => t / tau);
        const lse = logSumExp(x);
        m += q[b].reduce((acc, qk, k) => acc + qk * (x[k] - lse), 0);
      }
      sub -= m / B;
    }
    loss += sub / (crops.length - 1);
  }
  return loss / high.length;
}

/**
 * TensorFlow's AvgPool with padding "SAME" (tensorflow/core/framework/kernel_shape_util.cc:
 * out = ceil(L / stride), pad = max((out - 1)·stride + window - L, 0), pad_before = pad / 2),
 * dividing by the number of real cells; then reshape [-1, D].
 */
export function refFeatureFlat(x: number[][][], pool: number): Matrix {
  const out: Matrix = [];
  for (const seq of x) {
    const L = seq.length, D = seq[0].length;
    const frames = Math.ceil(L / pool);
    const pad = Math.max((frames - 1) * pool + pool - L, 0);
    const before = Math.floor(pad / 2);
    for (let j = 0; j < frames; j++) {
      const acc = new Array(D).fill(0);
      let count = 0;
      for (let t = j * pool - before; t < j * pool - before + pool; t++) {
        if (t < 0 || t >= L) continue;
        count++;
        for (let c = 0; c < D; c++) acc[c] += seq[t][c];
      }
      out.push(acc.map((v) => v / count));
    }
  }
  return out;
}

function columnStats(z: Matrix, j: number): { mean: number; ss: number } {
  let mean = 0;
  for (const row of z) mean += row[j];
  mean /= z.length;
  let ss = 0;
  for (const row of z) ss += (row[j] - mean) ** 2;
  return { mean, ss };
}

/** Barlow Twins Algorithm 1: BN (biased var, eps 1e-5), C = z1ᵀz2/N, on/off-diagonal terms. */
export function refBarlow(z1: Matrix, z2: Matrix, lambda: number): number {
  const n = z1.length, d = z1[0].length;
  const bn = (z: Matrix) => {
    const stats = Array.from({ length: d }, (_, j) => columnStats(z, j));
    return z.map((row) =>
      row.map((v, j) => (v - stats[j].mean) / Math.sqrt(stats[j].ss / n + 1e-5))
    );
  };
  const a = bn(z1), b = bn(z2);
  let loss = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let c = 0;
      for (let k = 0; k < n; k++) c += a[k][i] * b[k][j];
      c /= n;
      loss += i === j ? (1 - c) ** 2 : lambda * c * c;
    }
  }
  return loss;
}

/** VICReg Algorithm 1. */
export function refVicreg(
  z1: Matrix,
  z2: Matrix,
  inv: number,
  varW: number,
  covW: number,
): number {
  const n = z1.length, d = z1[0].length;
  let repr = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) repr += (z1[i][j] - z2[i][j]) ** 2;
  repr /= n * d;
  const terms = (z: Matrix) => {
    const stats = Array.from({ length: d }, (_, j) => columnStats(z, j));
    let std = 0;
    for (const s of stats) std += Math.max(0, 1 - Math.sqrt(s.ss / (n - 1) + 1e-4));
    let cov = 0;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        if (i === j) continue;
        let c = 0;
        for (const row of z) c += (row[i] - stats[i].mean) * (row[j] - stats[j].mean);
        cov += (c / (n - 1)) ** 2;
      }
    }
    return { std: std / d, cov: cov / d };
  };
  const t1 = terms(z1), t2 = terms(z2);
  return inv * repr + varW * (t1.std + t2.std) / 2 + covW * (t1.cov + t2.cov);
}
