import { tf } from "../backend/tf.ts";
import { matMulT, noGrad } from "./_grad.ts";

/**
 * Row-wise L2 normalization, `x / max(||x||, 1e-12)` as TensorFlow's `l2_normalize`: a zero row
 * stays zero instead of becoming NaN. Shape `[n, d]` -> `[n, d]`.
 */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  const sq = tf.sum(tf.square(x), 1, true); // [n, 1]
  return tf.mul(x, tf.rsqrt(tf.maximum(sq, 1e-24)));
}

/**
 * log Σ exp(x) along `axis` (0 or 1) of `[n, m]`, stable: the max is subtracted first. The max is
 * taken without gradient (its contributions cancel exactly), which spares tfjs' `Max` gradient
 * and its full-size `Equal` mask in the backward pass.
 */
export function logSumExp(x: tf.Tensor2D, axis: 0 | 1): tf.Tensor1D {
  const m = noGrad(x, (t) => tf.max(t, axis, true)); // [n, 1] or [1, m]
  return tf.reshape(tf.add(m, tf.log(tf.sum(tf.exp(tf.sub(x, m)), axis, true))), [-1]);
}

/**
 * Mean softmax cross-entropy of `logits` `[n, m]` (rows, or columns with `axis` 0) whose targets
 * are the given `positive` logits `[n]` (already present in each row): mean(logsumexp - positive).
 */
export function meanCrossEntropy(
  logits: tf.Tensor2D,
  positive: tf.Tensor1D,
  axis: 0 | 1 = 1,
): tf.Scalar {
  return tf.mean(tf.sub(logSumExp(logits, axis), positive));
}

/** Row-wise dot products of two `[n, d]` tensors: `[n]`. */
export function rowDot(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.mul(a, b), 1);
}

/**
 * Fraction of rows whose largest logit sits at the column `targets[i]` (argmax, so a tie goes
 * to the lowest column as in google-research/simclr). No gradient.
 */
export function top1(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), targets), "float32"));
}

/**
 * Distance between L2-normalized embeddings used by {@linkcode tripletLoss} and
 * {@linkcode contrastiveLoss}: euclidean ||a - b|| or cosine 1 - cos (pytorch-metric-learning).
 */
export type EmbeddingDistance = "euclidean" | "cosine";

/**
 * Pairwise distances `[n, n]` between the L2-normalized rows of `x` `[n, d]`: euclidean
 * `sqrt(2 - 2 cos)` or cosine `1 - cos`. A squared euclidean distance <= 1e-12 (identical rows)
 * gives exactly 0 with a zero gradient: the clamp keeps sqrt's gradient finite instead of NaN, and
 * the `step` factor makes the value exactly 0, so "non-zero term" counts match
 * pytorch-metric-learning's.
 */
export function pairwiseDistance(x: tf.Tensor2D, distance: EmbeddingDistance): tf.Tensor2D {
  const xn = l2Normalize(x);
  const cos = matMulT(xn, xn); // [n, n]
  if (distance === "cosine") return tf.sub(1, cos);
  const sq = tf.sub(2, tf.mul(2, cos));
  return tf.mul(tf.sqrt(tf.maximum(sq, 1e-12)), tf.step(tf.sub(sq, 1e-12)));
}

/**
 * Label masks `[n, n]` as float32 0/1: `same[i][j]` = same label and i != j, `different[i][j]` =
 * different labels. Built from labels only, so no gradient path crosses the comparisons.
 */
export function labelMasks(labels: tf.Tensor1D): { same: tf.Tensor2D; different: tf.Tensor2D } {
  const n = labels.shape[0];
  const eq = tf.cast(
    tf.equal(tf.reshape(labels, [n, 1]), tf.reshape(labels, [1, n])),
    "float32",
  ) as tf.Tensor2D;
  const same = tf.sub(eq, tf.eye(n)) as tf.Tensor2D;
  const different = tf.sub(1, eq) as tf.Tensor2D;
  return { same, different };
}

/**
 * Mean of `values` over the entries where `mask` is 1 and the value is > 0 (pytorch-metric-learning's
 * AvgNonZeroReducer); 0 when there are none. The count uses `step`, whose gradient is zero, so this
 * stays differentiable on every backend (tfjs has no gradient for `Greater`).
 */
export function meanNonZero(values: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  const masked = tf.mul(values, mask);
  const count = tf.sum(tf.step(masked));
  return tf.div(tf.sum(masked), tf.maximum(count, 1));
}

/**
 * The kernels a backend may register to run {@linkcode logSumExpMatMul} in one piece (the
 * `native` backend does, on oneDNN and its sgemm, in `backend/native/_dnnl_softmax.ts`, which
 * spells the same names). Forward: inputs `{ a, b, target, extra? }` and the options as
 * attributes, outputs `[value, ...state]` (at most 4 tensors the backend keeps for the backward
 * pass); backward: inputs `{ a, b, extra?, dy, state0, state1, ... }`, outputs `[da, db, dExtra?]`.
 */
export const LSE_MATMUL_KERNEL = "SelfsupLogSumExpMatMul";
/** The backward kernel of {@linkcode LSE_MATMUL_KERNEL}. */
export const LSE_MATMUL_GRAD_KERNEL = "SelfsupLogSumExpMatMulGrad";

/** Options of {@linkcode logSumExpMatMul}. */
export interface LogSumExpMatMulOptions {
  /** Factor of the logits: `S = scale · a·bᵀ`. */
  scale: number;
  /** Weight of the rows' cross-entropies in the value. */
  rowWeight: number;
  /** Weight of the columns' cross-entropies (0: none; needs r = c, no `extra`, no mask). */
  colWeight?: number;
  /** Leave `S[i][i]` out of row i (NT-Xent's self-similarity). Needs `b` with at least 2 rows. */
  maskDiagonal?: boolean;
  /** `b` gets a zero gradient and its `[c, d]` gradient product is never computed (MoCo's queue). */
  constB?: boolean;
}

/**
 * Softmax cross-entropies over the logits `S = scale · a·bᵀ` `[r, c]`:
 * `rowWeight · Σᵢ (logΣⱼ exp(S_ij) - target_i) + colWeight · Σⱼ (logΣᵢ exp(S_ij) - target_j)`,
 * where `extra` `[r]`, when given, is one more logit in each row (MoCo's positive) and
 * `maskDiagonal` leaves out `S[i][i]` (NT-Xent's self-similarity). `target` holds the target
 * logits (already among each row's logits); subtracting them row by row, before any sum, keeps the
 * cancellation of two ~1/τ numbers at float32's precision of one row.
 *
 * One op with an analytic gradient, `dS = rowWeight·softmax_rows(S) + colWeight·softmax_cols(S)`,
 * `da = scale·dS·b`, `db = scale·dSᵀ·a`, `dtarget = -(rowWeight + colWeight)`: the `[r, c]`
 * matrices never enter tfjs' tape. A backend that registers {@linkcode LSE_MATMUL_KERNEL} (native)
 * runs each direction as a few large kernels and keeps `exp(S - rowmax)` for the backward pass.
 * Elsewhere the forward pass keeps the inputs, the `[r]`/`[c]` log-sum-exps and, up to 16M
 * elements, `S`; the backward pass gets the softmax as `exp(S - lse)`, recomputing a larger `S`
 * (one matmul) so that the wasm heap holds about three `[r, c]` matrices at a time.
 *
 * @param a `[r, d]`
 * @param b `[c, d]` (may be the same tensor as `a`)
 * @param target `[r]`
 * @param extra `[r]` or `undefined` (may be the same tensor as `target`)
 */
export function logSumExpMatMul(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  target: tf.Tensor1D,
  extra: tf.Tensor1D | undefined,
  options: LogSumExpMatMulOptions,
): tf.Scalar {
  const { scale, rowWeight, colWeight = 0, maskDiagonal = false, constB = false } = options;
  const attrs = { scale, rowWeight, colWeight, maskDiagonal, constB };
  const backend = tf.getBackend();
  const fused = tf.getKernel(LSE_MATMUL_KERNEL, backend) !== undefined &&
    tf.getKernel(LSE_MATMUL_GRAD_KERNEL, backend) !== undefined;
  const inputs = extra ? [a, b, target, extra] : [a, b, target];
  const targetGrad = (dy: tf.Tensor, t: tf.Tensor) =>
    tf.mul(tf.onesLike(t), tf.mul(dy, -(rowWeight + colWeight)));
  const op = tf.customGrad(
    ((...args: unknown[]) => {
      const save = args[inputs.length] as tf.GradSaveFunc;
      const [x, y, t] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
      const e = extra ? args[3] as tf.Tensor1D : undefined;
      if (fused) {
        const named: tf.NamedTensorMap = e ? { a: x, b: y, target: t, extra: e } : {
          a: x,
          b: y,
          target: t,
        };
        const [value, ...state] = tf.engine().runKernel(
          LSE_MATMUL_KERNEL,
          named,
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
        save([x, y, t, ...(e ? [e] : []), ...state]);
        return {
          value,
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const [sx, sy, st] = saved;
            const se = e ? saved[3] : undefined;
            const named: tf.NamedTensorMap = { a: sx, b: sy, dy };
            if (se) named.extra = se;
            saved.slice(e ? 4 : 3).forEach((s, i) => (named[`state${i}`] = s));
            const [da, db, de] = tf.engine().runKernel(
              LSE_MATMUL_GRAD_KERNEL,
              named,
              attrs as unknown as tf.NamedAttrMap,
            ) as tf.Tensor[];
            const dt = targetGrad(dy, st);
            return se ? [da, db, dt, de] : [da, db, dt];
          },
        };
      }
      const keep = x.shape[0] * y.shape[0] <= KEEP_LOGITS;
      const { value, lse, lseCol, logits } = tf.tidy(() => lseForward(x, y, t, e, attrs, keep));
      save([x, y, t, lse, lseCol, e ?? lse, ...(logits ? [logits] : [])]);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sy, st, sl, slc, sExtra, sLogits] = saved as [
            tf.Tensor2D,
            tf.Tensor2D,
            tf.Tensor1D,
            tf.Tensor1D,
            tf.Tensor1D,
            tf.Tensor1D,
            tf.Tensor2D | undefined,
          ];
          const se = e ? sExtra : undefined;
          const grads = lseBackward(sx, sy, se, sl, slc, sLogits, dy, attrs);
          const dt = targetGrad(dy, st);
          return se ? [grads[0], grads[1], dt, grads[2]] : [grads[0], grads[1], dt];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return op(...inputs) as tf.Scalar;
}
/** Plain matmul `a·bᵀ` off the tape (wasm: explicit transpose, see `_grad.ts`). */
function productT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (tf.getBackend() === "wasm") return tf.matMul(a, tf.transpose(b));
  return tf.matMul(a, b, false, true);
}

/** `aᵀ·b` off the tape (wasm: explicit transpose). */
function productTA(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (tf.getBackend() === "wasm") return tf.matMul(tf.transpose(a), b);
  return tf.matMul(a, b, true, false);
}

/**
 * `S = scale·a·bᵀ` with the diagonal pushed to -1e30 when masked: off-diagonal logits are exact
 * (minus 0), and the masked one's softmax weight is exactly 0 in float32 whatever the inputs.
 */
function scaledLogits(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  scale: number,
  maskDiagonal: boolean,
): tf.Tensor2D {
  return tf.tidy(() => {
    const s = productT(tf.mul(a, scale), b); // [r, c]
    if (!maskDiagonal) return s;
    const [r, c] = s.shape;
    return tf.sub(s, tf.mul(tf.eye(r, c), 1e30));
  });
}

/**
 * Logit matrices up to this many elements (64 MB) are kept from the forward pass instead of
 * recomputed (measured on wasm: recomputing made MoCo's loss 1.2x slower at n = 256-1024,
 * K = 4096). Above it the backward pass recomputes them, so that NT-Xent at n = 4096 (`[8192,
 * 8192]`, 256 MB a matrix) still fits in the wasm heap.
 */
const KEEP_LOGITS = 1 << 24;

function lseForward(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  target: tf.Tensor1D,
  extra: tf.Tensor1D | undefined,
  o: Required<LogSumExpMatMulOptions>,
  keep: boolean,
): { value: tf.Scalar; lse: tf.Tensor1D; lseCol: tf.Tensor1D; logits?: tf.Tensor2D } {
  const s = scaledLogits(a, b, o.scale, o.maskDiagonal); // [r, c]
  let lse: tf.Tensor1D;
  if (extra) {
    const e = tf.reshape(extra, [-1, 1]); // [r, 1]
    const m = tf.maximum(tf.max(s, 1, true), e); // [r, 1]
    const sum = tf.add(tf.sum(tf.exp(tf.sub(s, m)), 1, true), tf.exp(tf.sub(e, m)));
    lse = tf.reshape(tf.add(m, tf.log(sum)), [-1]);
  } else {
    lse = logSumExp(s, 1);
  }
  let value = tf.mul(tf.sum(tf.sub(lse, target)), o.rowWeight);
  let lseCol = tf.zeros([0]) as tf.Tensor1D;
  if (o.colWeight !== 0) {
    lseCol = logSumExp(s, 0);
    value = tf.add(value, tf.mul(tf.sum(tf.sub(lseCol, target)), o.colWeight));
  }
  return { value: value as tf.Scalar, lse, lseCol, logits: keep ? s : undefined };
}

function lseBackward(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  extra: tf.Tensor1D | undefined,
  lse: tf.Tensor1D,
  lseCol: tf.Tensor1D,
  logits: tf.Tensor2D | undefined,
  dy: tf.Tensor,
  o: Required<LogSumExpMatMulOptions>,
): tf.Tensor[] {
  return tf.tidy(() => {
    // Weights folded into the exponent: w·exp(S - lse) = exp(S - (lse - log w)), one pass fewer.
    const rowShift = tf.reshape(tf.sub(lse, Math.log(o.rowWeight)), [-1, 1]); // [r, 1]
    const g = tf.tidy(() => {
      const s = logits ?? scaledLogits(a, b, o.scale, o.maskDiagonal); // [r, c]
      let g = tf.exp(tf.sub(s, rowShift)) as tf.Tensor2D; // rowWeight · row softmax
      if (o.colWeight !== 0) {
        const colShift = tf.reshape(tf.sub(lseCol, Math.log(o.colWeight)), [1, -1]); // [1, c]
        g = tf.add(g, tf.exp(tf.sub(s, colShift)));
      }
      return g;
    });
    const factor = tf.mul(dy, o.scale);
    const da = tf.mul(tf.matMul(g, b), factor);
    const db = o.constB ? tf.zerosLike(b) : tf.mul(productTA(g, a), factor);
    if (!extra) return [da, db];
    const de = tf.mul(tf.exp(tf.sub(extra, tf.reshape(rowShift, [-1]))), dy);
    return [da, db, de];
  });
}
