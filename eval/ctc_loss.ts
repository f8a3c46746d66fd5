import { tf } from "../backend/tf.ts";
import { type CtcTargets, raggedTargets } from "./_ctc_targets.ts";

export type { CtcTargets } from "./_ctc_targets.ts";

/** Options for {@linkcode ctcLoss}. */
export interface CtcLossOptions {
  /**
   * Index of the blank symbol among the `C + 1` logits. `[0]` Graves et al. 2006.
   * @default C (the last index, as Keras' `ctc_batch_cost`)
   */
  blank?: number;
  /**
   * `"mean"` averages the per-sequence negative log-likelihoods over the batch, `"sum"` adds
   * them, `"none"` returns them, shape `[B]`.
   * @default "mean"
   */
  reduction?: "mean" | "sum" | "none";
  /**
   * Number of valid frames per row, shape `[B]`; frames past it are ignored.
   * @default T for every row
   */
  logitLengths?: ArrayLike<number>;
  /**
   * Replace the infinite loss of an impossible alignment (a label sequence that cannot fit in
   * the frames) by 0. Either way its gradient is 0, so one bad row cannot poison a batch.
   * @default false
   */
  zeroInfinity?: boolean;
}

const NEG_INF = -Infinity;

function logAdd(a: number, b: number): number {
  if (a === NEG_INF) return b;
  if (b === NEG_INF) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/**
 * Negative log-likelihood and its gradient with respect to the logits for one row, computed in
 * float64 by the forward-backward recursion in log space (Graves et al. 2006, eqs. 6-16).
 */
function ctcRow(
  x: ArrayLike<number>,
  offset: number,
  frames: number,
  k: number,
  label: number[],
  blank: number,
  grad: Float32Array,
): number {
  // log-softmax per frame
  const logp = new Float64Array(frames * k);
  for (let t = 0; t < frames; t++) {
    let max = NEG_INF;
    for (let c = 0; c < k; c++) max = Math.max(max, x[offset + t * k + c]);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(x[offset + t * k + c] - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < k; c++) logp[t * k + c] = x[offset + t * k + c] - lse;
  }
  const s = 2 * label.length + 1;
  const ext = new Int32Array(s).fill(blank); // l' = blank, l1, blank, l2, ..., blank
  for (let i = 0; i < label.length; i++) ext[2 * i + 1] = label[i];
  // skip from s-2 to s is allowed onto a non-blank that differs from the one two back
  const canSkip = (j: number) => j >= 2 && ext[j] !== blank && ext[j] !== ext[j - 2];
  const alpha = new Float64Array(frames * s).fill(NEG_INF);
  alpha[0] = logp[blank];
  if (s > 1) alpha[1] = logp[ext[1]];
  for (let t = 1; t < frames; t++) {
    for (let j = 0; j < s; j++) {
      let a = alpha[(t - 1) * s + j];
      if (j >= 1) a = logAdd(a, alpha[(t - 1) * s + j - 1]);
      if (canSkip(j)) a = logAdd(a, alpha[(t - 1) * s + j - 2]);
      alpha[t * s + j] = a === NEG_INF ? NEG_INF : a + logp[t * k + ext[j]];
    }
  }
  const last = (frames - 1) * s;
  const logLik = s > 1 ? logAdd(alpha[last + s - 1], alpha[last + s - 2]) : alpha[last];
  if (logLik === NEG_INF) return Infinity; // gradient rows stay 0
  // beta_t(j): log-probability of emitting frames t+1.. given state j at frame t
  const beta = new Float64Array(frames * s).fill(NEG_INF);
  beta[last + s - 1] = 0;
  if (s > 1) beta[last + s - 2] = 0;
  for (let t = frames - 2; t >= 0; t--) {
    for (let j = 0; j < s; j++) {
      let b = beta[(t + 1) * s + j] + logp[(t + 1) * k + ext[j]];
      if (j + 1 < s) b = logAdd(b, beta[(t + 1) * s + j + 1] + logp[(t + 1) * k + ext[j + 1]]);
      if (j + 2 < s && canSkip(j + 2)) {
        b = logAdd(b, beta[(t + 1) * s + j + 2] + logp[(t + 1) * k + ext[j + 2]]);
      }
      beta[t * s + j] = b;
    }
  }
  // d(-log p)/d logit[t, c] = softmax[t, c] - (1/p) sum_{j: l'_j = c} alpha_t(j) beta_t(j)
  const occupancy = new Float64Array(k);
  for (let t = 0; t < frames; t++) {
    occupancy.fill(NEG_INF);
    for (let j = 0; j < s; j++) {
      occupancy[ext[j]] = logAdd(occupancy[ext[j]], alpha[t * s + j] + beta[t * s + j]);
    }
    for (let c = 0; c < k; c++) {
      grad[offset + t * k + c] = Math.exp(logp[t * k + c]) - Math.exp(occupancy[c] - logLik);
    }
  }
  return -logLik;
}

/**
 * Connectionist temporal classification loss (Graves et al. 2006): the negative log-likelihood
 * of each label sequence summed over all its frame alignments (repeats collapsed, blanks
 * removed), by the forward-backward recursion in log space. TensorFlow.js has none.
 *
 * The recursion runs in float64 in JavaScript on the logits read back from the backend, and the
 * analytic gradient `softmax - posterior occupancy` from the same alpha-beta pass is attached
 * with `tf.customGrad`, so `tf.grad` and optimizers work through it. A label sequence that cannot
 * be aligned in the frames (too long, counting a blank between repeated symbols) gets an
 * infinite loss (0 with `zeroInfinity`) and a zero gradient.
 *
 * @param logits unnormalized scores per frame, shape `[B, T, C + 1]` (C symbols plus the blank)
 * @param targets the label sequences: ragged arrays, or padded `[B, S]` labels with lengths
 * @returns the loss: a scalar, or shape `[B]` with `reduction: "none"`
 *
 * @example
 * ```ts
 * import { ctcLoss } from "./ctc_loss.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * // uniform scores over {a, blank}, 2 frames, label "a": alignments aa, a-, -a -> p = 3/4
 * const loss = ctcLoss(tf.zeros([1, 2, 2]) as tf.Tensor3D, [[0]]);
 * assert.ok(Math.abs(loss.dataSync()[0] - -Math.log(3 / 4)) < 1e-6);
 * ```
 */
export function ctcLoss(
  logits: tf.Tensor3D,
  targets: CtcTargets,
  options: CtcLossOptions = {},
): tf.Tensor {
  if (!(logits instanceof tf.Tensor) || logits.rank !== 3) {
    throw new TypeError(
      `Cannot compute CTC loss: logits must have shape [B, T, C + 1], received ${
        logits instanceof tf.Tensor ? `[${logits.shape}]` : typeof logits
      }`,
    );
  }
  const [batch, frames, k] = logits.shape;
  const { blank = k - 1, reduction = "mean", logitLengths, zeroInfinity = false } = options;
  if (!Number.isInteger(blank) || blank < 0 || blank >= k) {
    throw new RangeError(
      `Cannot compute CTC loss: blank must be an integer in [0, ${k - 1}], received ${blank}`,
    );
  }
  const labels = raggedTargets(targets, batch, "compute CTC loss");
  labels.forEach((row, b) =>
    row.forEach((v) => {
      if (!Number.isInteger(v) || v < 0 || v >= k || v === blank) {
        throw new RangeError(
          `Cannot compute CTC loss: labels must be integers in [0, ${
            k - 1
          }] other than the blank ${blank}, received ${v} in row ${b}`,
        );
      }
    })
  );
  const lengths = logitLengths ? Array.from(logitLengths) : new Array(batch).fill(frames);
  if (lengths.length !== batch) {
    throw new TypeError(
      `Cannot compute CTC loss: expected ${batch} logit lengths, received ${lengths.length}`,
    );
  }
  lengths.forEach((n) => {
    if (!Number.isInteger(n) || n < 1 || n > frames) {
      throw new RangeError(
        `Cannot compute CTC loss: logit lengths must be integers in [1, ${frames}], received ${n}`,
      );
    }
  });
  const op = tf.customGrad(
    ((x: tf.Tensor) => {
      const values = x.dataSync() as ArrayLike<number>;
      const grad = new Float32Array(values.length);
      const losses = new Float32Array(batch);
      for (let b = 0; b < batch; b++) {
        const nll = ctcRow(values, b * frames * k, lengths[b], k, labels[b], blank, grad);
        losses[b] = nll === Infinity && zeroInfinity ? 0 : nll;
      }
      return {
        value: tf.tensor1d(losses),
        gradFunc: (dy: tf.Tensor) =>
          tf.mul(tf.tensor3d(grad, [batch, frames, k]), tf.reshape(dy, [batch, 1, 1])),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return tf.tidy(() => {
    const perRow = op(logits) as tf.Tensor1D; // [B]
    if (reduction === "none") return perRow;
    return reduction === "sum" ? tf.sum(perRow) : tf.mean(perRow);
  });
}
