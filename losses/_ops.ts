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
  const o = lseOptions(options);
  const inputs = extra ? [a, b, target, extra] : [a, b, target];
  const op = tf.customGrad(
    ((...args: unknown[]) => {
      const save = args[inputs.length] as tf.GradSaveFunc;
      const [x, y, t] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
      const e = extra ? args[3] as tf.Tensor1D : undefined;
      const { value, state } = lseRun(x, y, t, e, o);
      save([x, y, t, ...(e ? [e] : []), ...state]);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sy, st] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
          const se = e ? saved[3] as tf.Tensor1D : undefined;
          const [da, db, de] = lseGrad(sx, sy, se, saved.slice(e ? 4 : 3), dy, o);
          const dt = tf.mul(tf.onesLike(st), tf.mul(dy, -(o.rowWeight + o.colWeight)));
          return se ? [da, db, dt, de] : [da, db, dt];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return op(...inputs) as tf.Scalar;
}

/** The options with defaults, and whether the backend runs the fused kernels. */
type LseRunOptions = Required<LogSumExpMatMulOptions> & { fused: boolean };

function lseOptions(options: LogSumExpMatMulOptions): LseRunOptions {
  const { scale, rowWeight, colWeight = 0, maskDiagonal = false, constB = false } = options;
  const backend = tf.getBackend();
  const fused = tf.getKernel(LSE_MATMUL_KERNEL, backend) !== undefined &&
    tf.getKernel(LSE_MATMUL_GRAD_KERNEL, backend) !== undefined;
  return { scale, rowWeight, colWeight, maskDiagonal, constB, fused };
}

function kernelAttrs(o: LseRunOptions): tf.NamedAttrMap {
  const { scale, rowWeight, colWeight, maskDiagonal, constB } = o;
  return { scale, rowWeight, colWeight, maskDiagonal, constB } as unknown as tf.NamedAttrMap;
}

/**
 * The forward pass of {@linkcode logSumExpMatMul} off the tape: its value and the tensors the
 * backward pass needs besides the inputs (the fused kernel's state, or the generic path's
 * log-sum-exps and, up to {@linkcode KEEP_LOGITS} elements, the logits).
 */
function lseRun(
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  t: tf.Tensor1D,
  e: tf.Tensor1D | undefined,
  o: LseRunOptions,
): { value: tf.Scalar; state: tf.Tensor[] } {
  if (o.fused) {
    const named: tf.NamedTensorMap = { a: x, b: y, target: t };
    if (e) named.extra = e;
    const [value, ...state] = tf.engine().runKernel(
      LSE_MATMUL_KERNEL,
      named,
      kernelAttrs(o),
    ) as tf.Tensor[];
    return { value: value as tf.Scalar, state };
  }
  const keep = x.shape[0] * y.shape[0] <= KEEP_LOGITS;
  const { value, lse, lseCol, logits } = tf.tidy(() => lseForward(x, y, t, e, o, keep));
  return { value, state: [lse, lseCol, ...(logits ? [logits] : [])] };
}

/** `[da, db, dExtra?]` of {@linkcode lseRun}'s value times `dy` (the targets' part excluded). */
function lseGrad(
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  e: tf.Tensor1D | undefined,
  state: tf.Tensor[],
  dy: tf.Tensor,
  o: LseRunOptions,
): tf.Tensor[] {
  if (o.fused) {
    const named: tf.NamedTensorMap = { a: x, b: y, dy };
    if (e) named.extra = e;
    state.forEach((s, i) => (named[`state${i}`] = s));
    return tf.engine().runKernel(LSE_MATMUL_GRAD_KERNEL, named, kernelAttrs(o)) as tf.Tensor[];
  }
  const [lse, lseCol, logits] = state as [tf.Tensor1D, tf.Tensor1D, tf.Tensor2D | undefined];
  return lseBackward(x, y, e, lse, lseCol, logits, dy, o);
}

/**
 * The kernels a backend may register to run all of {@linkcode cosineCrossEntropy} (native does,
 * in `backend/native/_dnnl_softmax.ts`). Forward: inputs `{ x, y, z? }`, attributes
 * `{ loss, temperature }`, outputs `[value, ...state]`; backward: inputs `{ y, z?, dy, state0,
 * ... }`, outputs the gradients of x, y (and z).
 */
export const COSINE_XENT_KERNEL = "SelfsupCosineCrossEntropy";
/** The backward kernel of {@linkcode COSINE_XENT_KERNEL}. */
export const COSINE_XENT_GRAD_KERNEL = "SelfsupCosineCrossEntropyGrad";

/** Which contrastive loss {@linkcode cosineCrossEntropy} computes. */
export type CosineLoss = "ntXent" | "infoNce" | "moco";

/**
 * NT-Xent, InfoNCE or MoCo's InfoNCE as ONE op with an analytic gradient, from the raw embeddings
 * to the loss: L2 normalization (TensorFlow's `l2_normalize`, `x / max(||x||, 1e-12)`), the
 * positive logits and {@linkcode logSumExpMatMul}'s log-partition, so that tfjs records one tape
 * entry instead of the ~90 kernels a composed loss and its gradient cost (the per-op overhead
 * dominated at n = 256 on native). The backward pass chains the log-partition's gradient, the
 * positives' and the normalization's Jacobian `(g - x̂ (x̂·g)) / ||x||` by hand.
 *
 * - `ntXent(x, y)`: the 2n normalized rows of both views, self-similarity masked, positive of
 *   row i the other view of the same sample; mean over the 2n anchors.
 * - `infoNce(x, y)`: logits x̂·ŷᵀ/τ, the diagonal as positives, rows and columns averaged.
 * - `moco(x, y, z)`: queries x against their keys y (already normalized, no gradient) and the
 *   queue z `[K, d]` (already normalized, no gradient); positive first.
 *
 * @returns the scalar loss
 */
export function cosineCrossEntropy(
  loss: CosineLoss,
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  z: tf.Tensor2D | undefined,
  temperature: number,
): tf.Scalar {
  const n = x.shape[0];
  const scale = 1 / temperature;
  const o = lseOptions(
    loss === "ntXent"
      ? { scale, rowWeight: 1 / (2 * n), maskDiagonal: true }
      : loss === "infoNce"
      ? { scale, rowWeight: 1 / (2 * n), colWeight: 1 / (2 * n) }
      : { scale, rowWeight: 1 / n, constB: true },
  );
  const inputs = z ? [x, y, z] : [x, y];
  const backend = tf.getBackend();
  const whole = tf.getKernel(COSINE_XENT_KERNEL, backend) !== undefined &&
    tf.getKernel(COSINE_XENT_GRAD_KERNEL, backend) !== undefined;
  const op = tf.customGrad(
    ((...args: unknown[]) => {
      const save = args[inputs.length] as tf.GradSaveFunc;
      const [xi, yi] = args as [tf.Tensor2D, tf.Tensor2D];
      const zi = z ? args[2] as tf.Tensor2D : undefined; // (else args[2] is `save`)
      if (whole) {
        const attrs = { loss, temperature } as unknown as tf.NamedAttrMap;
        const named: tf.NamedTensorMap = zi ? { x: xi, y: yi, z: zi } : { x: xi, y: yi };
        const [value, ...state] = tf.engine().runKernel(
          COSINE_XENT_KERNEL,
          named,
          attrs,
        ) as tf.Tensor[];
        save([yi, ...(zi ? [zi] : []), ...state]);
        return {
          value,
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const grad: tf.NamedTensorMap = { y: saved[0], dy };
            if (zi) grad.z = saved[1];
            saved.slice(zi ? 2 : 1).forEach((s, i) => (grad[`state${i}`] = s));
            return tf.engine().runKernel(COSINE_XENT_GRAD_KERNEL, grad, attrs) as tf.Tensor[];
          },
        };
      }
      const { value, kept } = tf.tidy(() => {
        const nx = normalizeRows(xi);
        if (loss === "ntXent") {
          const ny = normalizeRows(yi);
          const half = tf.mul(rowDot(nx.unit, ny.unit), scale) as tf.Tensor1D; // [n]
          const all = tf.concat([nx.unit, ny.unit]) as tf.Tensor2D; // [2n, d]
          const run = lseRun(all, all, tf.concat([half, half]) as tf.Tensor1D, undefined, o);
          return {
            value: run.value,
            kept: [nx.unit, nx.inv, ny.unit, ny.inv, all, ...run.state],
          };
        }
        if (loss === "infoNce") {
          const ny = normalizeRows(yi);
          const positive = tf.mul(rowDot(nx.unit, ny.unit), scale) as tf.Tensor1D; // [n]
          const run = lseRun(nx.unit, ny.unit, positive, undefined, o);
          return { value: run.value, kept: [nx.unit, nx.inv, ny.unit, ny.inv, ...run.state] };
        }
        const positive = tf.mul(rowDot(nx.unit, yi), scale) as tf.Tensor1D; // [n]
        const run = lseRun(nx.unit, zi!, positive, positive, o);
        return { value: run.value, kept: [nx.unit, nx.inv, positive, yi, zi!, ...run.state] };
      });
      save(kept);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.tidy(() => {
            // dvalue/dtarget_i, the same for every row: -(rowWeight + colWeight)·dy.
            const ct = tf.mul(dy, -(o.rowWeight + o.colWeight) * scale);
            if (loss === "ntXent") {
              const [ux, ix, uy, iy, all, ...state] = saved as tf.Tensor2D[];
              const [da, db] = lseGrad(all, all, undefined, state, dy, o);
              const g = tf.add(da, db); // [2n, d], both operands are the same rows
              // Each pair's positive appears twice (i -> i + n and back): d/dx̂ = 2·ct·ŷ.
              const gx = tf.add(tf.slice(g, [0, 0], [n, -1]), tf.mul(uy, tf.mul(ct, 2)));
              const gy = tf.add(tf.slice(g, [n, 0], [n, -1]), tf.mul(ux, tf.mul(ct, 2)));
              return [normalizeGrad(ux, ix, gx), normalizeGrad(uy, iy, gy)];
            }
            if (loss === "infoNce") {
              const [ux, ix, uy, iy, ...state] = saved as tf.Tensor2D[];
              const [da, db] = lseGrad(ux, uy, undefined, state, dy, o);
              const gx = tf.add(da, tf.mul(uy, ct));
              const gy = tf.add(db, tf.mul(ux, ct));
              return [normalizeGrad(ux, ix, gx), normalizeGrad(uy, iy, gy)];
            }
            const [ux, ix, positive, keys, queue, ...state] = saved as tf.Tensor2D[];
            const [da, , de] = lseGrad(ux, queue, positive as unknown as tf.Tensor1D, state, dy, o);
            // The positive is both the target and the extra logit: dvalue/dpositive = de + ct/scale.
            const dp = tf.add(tf.mul(de, scale), ct); // [n], per unit of x̂·ŷ
            const gx = tf.add(da, tf.mul(keys, tf.reshape(dp, [-1, 1])));
            return [normalizeGrad(ux, ix, gx), tf.zerosLike(keys), tf.zerosLike(queue)];
          }),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return op(...inputs) as tf.Scalar;
}

/** Rows of `x` over `max(||x||, 1e-12)` and that factor's inverse `[n, 1]` (0 where clamped). */
function normalizeRows(x: tf.Tensor2D): { unit: tf.Tensor2D; inv: tf.Tensor2D } {
  const sq = tf.sum(tf.square(x), 1, true); // [n, 1]
  const inv = tf.rsqrt(tf.maximum(sq, 1e-24)) as tf.Tensor2D;
  // The Jacobian's projection applies only where the norm was not clamped: keep the sign there.
  const live = tf.step(tf.sub(sq, 1e-24));
  return { unit: tf.mul(x, inv), inv: tf.mul(inv, tf.sub(tf.mul(live, 2), 1)) as tf.Tensor2D };
}

/**
 * The gradient through `x̂ = x / max(||x||, 1e-12)`: `(g - x̂ (x̂·g)) / ||x||` where the norm was
 * not clamped, `g / 1e-12` where it was (`inv` carries the clamp as its sign).
 */
function normalizeGrad(unit: tf.Tensor, inv: tf.Tensor, g: tf.Tensor): tf.Tensor {
  const live = tf.step(inv); // [n, 1]: 1 unless clamped
  const along = tf.mul(tf.sum(tf.mul(unit, g), 1, true), live); // [n, 1]
  return tf.mul(tf.sub(g, tf.mul(unit, along)), tf.abs(inv));
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
