/**
 * Softmax-family kernels of the native backend on oneDNN primitives (multithreaded, vectorized)
 * and its sgemm, in place of the cpu backend's single-threaded JavaScript passes:
 *
 * - `SelfsupLogSumExpMatMul` / `SelfsupLogSumExpMatMulGrad`: the softmax cross-entropy over a
 *   similarity matrix that `losses/_ops.ts`'s `logSumExpMatMul` dispatches to (NT-Xent, InfoNCE,
 *   MoCo). Forward: one sgemm for `S = scale·a·bᵀ` (the extra logit and the masked diagonal
 *   written in by index), then in place `E = exp(S - rowmax)` and the row sums s (a max
 *   reduction, a broadcast subtract with an exp post-op, a sum reduction); E and 1/s are kept.
 *   Backward: the softmax `diag(1/s)·E` is never formed: `da = w·diag(1/s)·(E·b)` and
 *   `db = w·Eᵀ·(diag(1/s)·a)` are two sgemms (the transpose is the sgemm's flag) and two `[n, d]`
 *   row scalings. No `[r, c]` JavaScript pass remains. The column direction (InfoNCE's z2 -> z1)
 *   runs on `scale·b·aᵀ`, one more sgemm, so every reduction stays along contiguous rows.
 * - `Softmax` along the last axis; `Exp`, and `Max`, `Min`, `Sum`, `Mean` over trailing axes, above
 *   measured sizes ({@linkcode DNNL_MIN_SIZES}); `Log` as a plain float32 loop.
 *
 * @module
 */
import { tf } from "../tf.ts";
import { allocF32, freeF32 } from "./_buffers.ts";
import { type Blas, loadBlas } from "./_blas.ts";
import { ALG, ARG, type Dnnl, dnnlOrUndefined, type Primitive, PROP, TAG } from "./_dnnl.ts";
import { type CpuLikeBackend, f32, type KernelFn, scratch } from "./_util.ts";

/** Kernel names shared with `losses/_ops.ts` (`LSE_MATMUL_KERNEL`, `LSE_MATMUL_GRAD_KERNEL`). */
export const LSE_MATMUL = "SelfsupLogSumExpMatMul";
/** The backward kernel of {@linkcode LSE_MATMUL}. */
export const LSE_MATMUL_GRAD = "SelfsupLogSumExpMatMulGrad";

/** Attributes of the two kernels (see `logSumExpMatMul`). */
interface LseAttrs {
  scale: number;
  rowWeight: number;
  colWeight: number;
  maskDiagonal: boolean;
  constB: boolean;
}

/** Cached primitives for rows x cols: max and sum along rows, and `exp(x - m)` in place. */
function rowPrimitives(d: Dnnl, rows: number, cols: number): {
  max: Primitive;
  sum: Primitive;
  subExp: Primitive;
} {
  const key = `${rows}x${cols}`;
  const mdX = () => d.memoryDesc([rows, cols], TAG.ab);
  const mdM = () => d.memoryDesc([rows, 1], TAG.ab);
  const reduction = (alg: number, name: string) =>
    d.cached(`selfsup reduce ${name} ${key}`, () => {
      const op = d.opDesc();
      d.check(
        d.symbols.dnnl_reduction_desc_init(op, alg, mdX(), mdM(), 0, 0) as number,
        "dnnl_reduction_desc_init",
        `${name} [${rows}, ${cols}]`,
      );
      return d.primitive(op, { what: `reduction ${name} [${rows}, ${cols}]` });
    });
  const subExp = d.cached(`selfsup sub-exp ${key}`, () => {
    const op = d.opDesc();
    d.check(
      d.symbols.dnnl_binary_desc_init(op, ALG.binarySub, mdX(), mdM(), mdX()) as number,
      "dnnl_binary_desc_init",
      `sub [${rows}, ${cols}] - [${rows}, 1]`,
    );
    const attr = d.postOpsAttr([[ALG.eltwiseExp, 1, 0]]);
    try {
      return d.primitive(op, { attr, what: `sub + exp [${rows}, ${cols}]` });
    } finally {
      d.symbols.dnnl_primitive_attr_destroy(attr);
    }
  });
  return {
    max: reduction(ALG.reductionMax, "max"),
    sum: reduction(ALG.reductionSum, "sum"),
    subExp,
  };
}

/**
 * The logits `scale·x·yᵀ` `[r, c]` (with `extra[i]` in front of row i, and the product's diagonal
 * at -Infinity when masked) turned in place into `E = exp(S - m)` with m the row maxima, and the
 * row sums s of E: `lse_i = m_i + log(s_i)` and the softmax is `E_ij / s_i`. oneDNN's own
 * log-softmax was not used: its log is off by up to ~3e-6 absolute (measured: log-softmax of
 * [-inf, 2] gave 1.4e-6 instead of 0), too coarse for the closed-form tests; its exp and the
 * reductions measure within 2e-7. Returns E, 1/s and Σᵢ (lse_i - target_i) in float64.
 */
function expOfProduct(
  d: Dnnl,
  blas: Blas,
  x: Float32Array,
  y: Float32Array,
  r: number,
  c: number,
  dim: number,
  scale: number,
  extra: Float32Array | undefined,
  mask: boolean,
  target: Float32Array,
): { e: Float32Array; inv: Float32Array; total: number } {
  const off = extra ? 1 : 0;
  const w = c + off;
  const e = allocF32(r * w);
  blas.sgemm(false, true, r, c, dim, scale, x, dim, y, dim, 0, off ? e.subarray(1) : e, w);
  if (extra) { for (let i = 0; i < r; i++) e[i * w] = extra[i]; }
  if (mask) { for (let i = 0; i < Math.min(r, c); i++) e[i * w + off + i] = -Infinity; }
  const m = new Float32Array(r);
  const s = new Float32Array(r);
  if (w === 1) {
    // A reduction over one column is no reduction to oneDNN (invalid arguments): a plain loop.
    for (let i = 0, o = 0; i < r; i++) {
      let max = -Infinity;
      for (let j = 0; j < w; j++) max = Math.max(max, e[o + j]);
      let sum = 0;
      for (let j = 0; j < w; j++, o++) sum += e[o] = Math.exp(e[o] - max);
      m[i] = max;
      s[i] = sum;
    }
  } else {
    const p = rowPrimitives(d, r, w);
    p.max.execute({ [ARG.src]: e, [ARG.dst]: m });
    p.subExp.execute({ [ARG.src]: e, [ARG.src1]: m, [ARG.dst]: e });
    p.sum.execute({ [ARG.src]: e, [ARG.dst]: s });
  }
  let total = 0;
  const inv = new Float32Array(r);
  for (let i = 0; i < r; i++) {
    total += m[i] + Math.log(s[i]) - target[i];
    inv[i] = 1 / s[i];
  }
  return { e, inv, total };
}

/** Multiplies row i of `x` `[rows, cols]` by `f[i]` (and `g`) into `out` (may be `x`). */
function scaleRows(
  x: Float32Array,
  f: Float32Array,
  g: number,
  out: Float32Array,
  cols: number,
): Float32Array {
  for (let i = 0, o = 0; i < f.length; i++) {
    const k = f[i] * g;
    for (let j = 0; j < cols; j++, o++) out[o] = x[o] * k;
  }
  return out;
}

/** The forward pass of {@linkcode LSE_MATMUL} on arrays: value, E and 1/s by rows (and columns). */
function lseArrays(
  d: Dnnl,
  blas: Blas,
  av: Float32Array,
  bv: Float32Array,
  r: number,
  c: number,
  dim: number,
  o: LseAttrs,
  tv: Float32Array,
  ev: Float32Array | undefined,
): { value: number; e: Float32Array; inv: Float32Array; eT: Float32Array; invT: Float32Array } {
  if (o.maskDiagonal && c < 2 && !ev) {
    throw new RangeError(
      `Cannot run ${LSE_MATMUL}: a masked diagonal needs at least 2 columns, received ${c}`,
    );
  }
  const rows = expOfProduct(d, blas, av, bv, r, c, dim, o.scale, ev, o.maskDiagonal, tv);
  let value = o.rowWeight * rows.total;
  let eT: Float32Array = new Float32Array(0);
  let invT: Float32Array = new Float32Array(0);
  if (o.colWeight !== 0) {
    if (ev || o.maskDiagonal || r !== c) {
      throw new TypeError(
        `Cannot run ${LSE_MATMUL}: column weights need a square product without extra logits ` +
          `or mask, received [${r}, ${c}]`,
      );
    }
    const cols = expOfProduct(d, blas, bv, av, c, r, dim, o.scale, undefined, false, tv);
    value += o.colWeight * cols.total;
    eT = cols.e;
    invT = cols.inv;
  }
  return { value, e: rows.e, inv: rows.inv, eT, invT };
}

/**
 * The backward pass of {@linkcode LSE_MATMUL} on arrays, `g` being the value's gradient: `da`,
 * `db` (zeros when `constB`) and, with an extra logit, its gradient. `out` (scratch) receives `da`
 * and `db` instead of new pooled arrays, for callers that do not return them as tensors.
 */
function lseGradArrays(
  blas: Blas,
  av: Float32Array,
  bv: Float32Array,
  r: number,
  c: number,
  dim: number,
  o: LseAttrs,
  g: number,
  e: Float32Array,
  inv: Float32Array,
  eT: Float32Array,
  invT: Float32Array,
  hasExtra: boolean,
  out?: { da: Float32Array; db: Float32Array },
): { da: Float32Array; db: Float32Array; de?: Float32Array } {
  const off = hasExtra ? 1 : 0;
  const w = c + off;
  const ec = off ? e.subarray(1) : e; // the product's columns
  const alpha = o.rowWeight * o.scale * g;
  const da = out?.da ?? allocF32(r * dim);
  const db = out?.db ?? allocF32(c * dim, o.constB); // (`out.db` is left alone when constB)
  // Row direction, P = diag(1/s)·E: da = α·diag(1/s)·E·b, db = α·Eᵀ·(diag(1/s)·a).
  blas.sgemm(false, false, r, dim, c, 1, ec, w, bv, dim, 0, da, dim);
  scaleRows(da, inv, alpha, da, dim);
  if (o.colWeight !== 0) {
    // Column direction on the transposed logits: Q = diag(1/sᵀ)·Eᵀ [c, r], dS += β·Qᵀ.
    const beta = o.colWeight * o.scale * g;
    const bScaled = scaleRows(bv, invT, beta, scratch("selfsup lse b", c * dim), dim);
    blas.sgemm(true, false, r, dim, c, 1, eT, r, bScaled, dim, 1, da, dim);
    if (!o.constB) {
      blas.sgemm(false, false, c, dim, r, 1, eT, r, av, dim, 0, db, dim);
      scaleRows(db, invT, beta, db, dim);
    }
  }
  if (!o.constB) {
    const aScaled = scaleRows(av, inv, alpha, scratch("selfsup lse a", r * dim), dim);
    const accumulate = o.colWeight !== 0 ? 1 : 0;
    blas.sgemm(true, false, c, dim, r, 1, ec, w, aScaled, dim, accumulate, db, dim);
  }
  if (!hasExtra) return { da, db };
  const de = new Float32Array(r);
  for (let i = 0; i < r; i++) de[i] = o.rowWeight * g * e[i * w] * inv[i];
  return { da, db, de };
}

function lseForward(d: Dnnl, blas: Blas): KernelFn {
  return ({ inputs, backend: b, attrs }) => {
    const backend = b as CpuLikeBackend;
    const { a, b: bt, target, extra } = inputs;
    const o = attrs as unknown as LseAttrs;
    const av = f32(backend, a);
    const bv = f32(backend, bt);
    const tv = f32(backend, target);
    const ev = extra ? f32(backend, extra) : undefined;
    if (!av || !bv || !tv || (extra && !ev)) {
      throw new TypeError(`Cannot run ${LSE_MATMUL}: expected float32 tensors`);
    }
    const [r, dim] = a!.shape;
    const c = bt!.shape[0];
    const out = lseArrays(d, blas, av, bv, r, c, dim, o, tv, ev);
    return [
      backend.makeTensorInfo([], "float32", new Float32Array([out.value])),
      backend.makeTensorInfo([r, c + (ev ? 1 : 0)], "float32", out.e),
      backend.makeTensorInfo([r], "float32", out.inv),
      backend.makeTensorInfo([out.eT.length], "float32", out.eT),
      backend.makeTensorInfo([out.invT.length], "float32", out.invT),
    ];
  };
}

function lseBackward(blas: Blas): KernelFn {
  return ({ inputs, backend: b, attrs }) => {
    const backend = b as CpuLikeBackend;
    const { a, b: bt, extra, dy, state0, state1, state2, state3 } = inputs;
    const o = attrs as unknown as LseAttrs;
    const [r, dim] = a!.shape;
    const c = bt!.shape[0];
    const { da, db, de } = lseGradArrays(
      blas,
      f32(backend, a)!,
      f32(backend, bt)!,
      r,
      c,
      dim,
      o,
      f32(backend, dy)![0],
      f32(backend, state0)!,
      f32(backend, state1)!,
      f32(backend, state2)!,
      f32(backend, state3)!,
      extra !== undefined,
    );
    const out = [
      backend.makeTensorInfo([r, dim], "float32", da),
      backend.makeTensorInfo([c, dim], "float32", db),
    ];
    if (de) out.push(backend.makeTensorInfo([r], "float32", de));
    return out;
  };
}

/** Kernel names shared with `losses/_ops.ts` (`COSINE_XENT_KERNEL`, `COSINE_XENT_GRAD_KERNEL`). */
export const COSINE_XENT = "SelfsupCosineCrossEntropy";
/** The backward kernel of {@linkcode COSINE_XENT}. */
export const COSINE_XENT_GRAD = "SelfsupCosineCrossEntropyGrad";

/**
 * Rows of `x` `[rows, dim]` over `max(||x||, 1e-12)` into `out` from row `at`, and `inv[at + i]` =
 * that factor's inverse, negative where the norm was clamped (no projection in the Jacobian).
 */
function normalizeInto(
  x: Float32Array,
  rows: number,
  dim: number,
  out: Float32Array,
  inv: Float32Array,
  at: number,
): void {
  for (let i = 0; i < rows; i++) {
    let sq = 0;
    const o = i * dim;
    for (let k = 0; k < dim; k++) sq += x[o + k] * x[o + k];
    const f = 1 / Math.sqrt(Math.max(sq, 1e-24));
    const p = (at + i) * dim;
    for (let k = 0; k < dim; k++) out[p + k] = x[o + k] * f;
    inv[at + i] = sq > 1e-24 ? f : -f;
  }
}

/** `g` (rows from `at`) through the normalization: `|inv|·(g - u (u·g))`, no projection if clamped. */
function normalizeGradInto(
  u: Float32Array,
  inv: Float32Array,
  g: Float32Array,
  at: number,
  rows: number,
  dim: number,
  out: Float32Array = allocF32(rows * dim),
): Float32Array {
  for (let i = 0; i < rows; i++) {
    const p = (at + i) * dim;
    let dot = 0;
    for (let k = 0; k < dim; k++) dot += u[p + k] * g[p + k];
    const f = inv[at + i];
    if (f < 0) dot = 0;
    const a = Math.abs(f);
    const o = i * dim;
    for (let k = 0; k < dim; k++) out[o + k] = a * (g[p + k] - u[p + k] * dot);
  }
  return out;
}

/** Attributes of the cosine kernels (see `cosineCrossEntropy` in `losses/_ops.ts`). */
interface CosineAttrs {
  loss: "ntXent" | "infoNce" | "moco";
  temperature: number;
}

function cosineOptions(loss: CosineAttrs["loss"], n: number, scale: number): LseAttrs {
  const base = { scale, colWeight: 0, maskDiagonal: false, constB: false };
  if (loss === "ntXent") return { ...base, rowWeight: 1 / (2 * n), maskDiagonal: true };
  if (loss === "infoNce") return { ...base, rowWeight: 1 / (2 * n), colWeight: 1 / (2 * n) };
  return { ...base, rowWeight: 1 / n, constB: true };
}

/**
 * Largest `1/τ` for which InfoNCE takes {@linkcode infoNceSoftmax}'s path. Every logit of unit rows
 * lies in `[-1/τ, 1/τ]`, so a softmax entry is at least `exp(-2/τ) / n`: at 1/τ <= 30 that is
 * above 1e-26 / n, far from float32's underflow, and `-log P_ii` is exact to float32 rounding.
 * Smaller temperatures keep the log-sum-exp path (max, exp, sum), which never takes a log of a
 * probability.
 */
export const INFONCE_SOFTMAX_MAX_SCALE = 30;

let infoNceSoftmaxOn = true;

/**
 * Turns {@linkcode infoNceSoftmax}'s path on or off (benchmarks and tests compare it with the
 * log-sum-exp path); returns the previous setting. The backward kernel follows whichever path its
 * forward pass took.
 */
export function setInfoNceSoftmax(on: boolean): boolean {
  const was = infoNceSoftmaxOn;
  infoNceSoftmaxOn = on;
  return was;
}

/**
 * Cached primitives for InfoNCE's `[n, n]` logits: row softmax in place, transpose, and the
 * transpose added into its destination (a reorder with a sum post-op).
 */
function infoNcePrimitives(d: Dnnl, n: number): {
  softmax: Primitive;
  transpose: Primitive;
  addTransposed: Primitive;
} {
  const md = () => d.memoryDesc([n, n], TAG.ab);
  return {
    softmax: d.cached(`selfsup softmax fwd ${n}x${n}`, () => {
      const op = d.opDesc();
      d.check(
        d.symbols.dnnl_softmax_forward_desc_init(op, PROP.forwardInference, md(), 1) as number,
        "dnnl_softmax_forward_desc_init",
        `[${n}, ${n}]`,
      );
      return d.primitive(op, { what: `softmax [${n}, ${n}]` });
    }),
    // Element (i, j) of a dense [n, n] written at j·n + i.
    transpose: d.cached(
      `selfsup transpose ${n}x${n}`,
      () => d.reorder(md(), d.memoryDescStrides([n, n], [1, n])),
    ),
    // dst(i, j) += src(j, i): the source read as its own transpose.
    addTransposed: d.cached(`selfsup add transposed ${n}x${n}`, () => {
      const attr = d.postOpsAttr([], 1);
      try {
        return d.reorder(d.memoryDescStrides([n, n], [1, n]), md(), attr);
      } finally {
        d.symbols.dnnl_primitive_attr_destroy(attr);
      }
    }),
  };
}

/**
 * InfoNCE's log-partitions on unit rows `ux`, `uy` `[n, d]` through oneDNN's softmax, when
 * `scale` <= {@linkcode INFONCE_SOFTMAX_MAX_SCALE}: `S = scale·ux·uyᵀ` (one sgemm), the row
 * softmax P of S and the row softmax of Sᵀ (a transposing reorder), i.e. the column softmax Q of S.
 * The targets are the diagonal, so the value is `Σᵢ (-log P_ii - log Q_ii) / (2n)` and the
 * gradient with respect to S is `(P + Q - 2I) / (2n)`: returned as G `[n, n]` for the backward
 * pass, which is then two sgemms (`da ∝ G·uy`, `db ∝ Gᵀ·ux`). Two fused primitives per direction
 * in place of a max, an exp and a sum, and the positives, their gradient and the four row
 * scalings of the general path fall away.
 */
function infoNceSoftmax(
  d: Dnnl,
  blas: Blas,
  ux: Float32Array,
  uy: Float32Array,
  n: number,
  dim: number,
  scale: number,
): { value: number; g: Float32Array } {
  const g = allocF32(n * n); // S, then P, then G
  if (n === 1) { // a single logit: P = Q = 1, zero loss and gradient
    g[0] = 0;
    return { value: 0, g };
  }
  blas.sgemm(false, true, n, n, dim, scale, ux, dim, uy, dim, 0, g, n);
  const p = infoNcePrimitives(d, n);
  const t = scratch("selfsup infonce t", n * n); // Sᵀ, then Qᵀ
  p.transpose.execute({ [ARG.src]: g, [ARG.dst]: t });
  p.softmax.execute({ [ARG.src]: g, [ARG.dst]: g });
  p.softmax.execute({ [ARG.src]: t, [ARG.dst]: t });
  let total = 0;
  for (let i = 0; i < n; i++) total -= Math.log(g[i * n + i]) + Math.log(t[i * n + i]);
  p.addTransposed.execute({ [ARG.src]: t, [ARG.dst]: g }); // G = P + Q
  for (let i = 0; i < n; i++) g[i * n + i] -= 2;
  return { value: total / (2 * n), g };
}

let ntXentSoftmaxOn = true;

/**
 * Turns {@linkcode ntXentSoftmax}'s path on or off (benchmarks and tests compare it with the
 * log-sum-exp path); returns the previous setting. The backward kernel follows whichever path its
 * forward pass took.
 */
export function setNtXentSoftmax(on: boolean): boolean {
  const was = ntXentSoftmaxOn;
  ntXentSoftmaxOn = on;
  return was;
}

/**
 * Largest batch n (rows per view) for which NT-Xent takes {@linkcode ntXentSoftmax}'s path, which
 * holds two `[2n, 2n]` matrices at once where the log-sum-exp path holds one (at n = 4096 that
 * would be 268 MB more).
 */
export const NTXENT_SOFTMAX_MAX_N = 2048;

/**
 * Cached primitives for NT-Xent's `[m, m]` logits: `exp` in place, the row sums, `E·diag(r)` by
 * rows (`E_ij·r_i`) into a destination, and `E_ij·r_j` added into it (a binary multiply with a sum
 * post-op).
 */
function ntXentPrimitives(d: Dnnl, m: number): {
  exp: Primitive;
  sum: Primitive;
  byRows: Primitive;
  addByColumns: Primitive;
} {
  const md = () => d.memoryDesc([m, m], TAG.ab);
  const column = () => d.memoryDesc([m, 1], TAG.ab);
  const binary = (vector: () => Uint8Array<ArrayBuffer>, accumulate: boolean, what: string) =>
    d.cached(`selfsup ntxent ${what} ${m}x${m}`, () => {
      const op = d.opDesc();
      d.check(
        d.symbols.dnnl_binary_desc_init(op, ALG.binaryMul, md(), vector(), md()) as number,
        "dnnl_binary_desc_init",
        `${what} [${m}, ${m}]`,
      );
      const attr = accumulate ? d.postOpsAttr([], 1) : undefined;
      try {
        return d.primitive(op, { attr, what: `${what} [${m}, ${m}]` });
      } finally {
        if (attr) d.symbols.dnnl_primitive_attr_destroy(attr);
      }
    });
  return {
    exp: d.cached(`selfsup ntxent exp ${m}x${m}`, () => {
      const op = d.opDesc();
      d.check(
        d.symbols.dnnl_eltwise_forward_desc_init(
          op,
          PROP.forwardInference,
          ALG.eltwiseExp,
          md(),
          0,
          0,
        ) as number,
        "dnnl_eltwise_forward_desc_init",
        `exp [${m}, ${m}]`,
      );
      return d.primitive(op, { what: `exp [${m}, ${m}]` });
    }),
    sum: rowPrimitives(d, m, m).sum,
    byRows: binary(column, false, "times rows"),
    addByColumns: binary(() => d.memoryDesc([1, m], TAG.ab), true, "plus times columns"),
  };
}

/**
 * NT-Xent's log-partitions on the 2n unit rows `u` `[2n, d]` (both views), when `scale` <=
 * {@linkcode INFONCE_SOFTMAX_MAX_SCALE}: `S = scale·u·uᵀ` (one sgemm, m = 2n rows), `E = exp(S)`
 * in place with its diagonal zeroed (the self-similarities masked), and the row sums z of E. Every
 * logit of unit rows lies in `[-scale, scale]`, so at scale <= 30 every entry of E lies in
 * `[1e-13, 1.1e13]`: no max needs subtracting (no overflow, no underflow), and the value is
 * `Σᵢ (log zᵢ - S_i,p(i)) / (2n)`, row i's positive being column `p(i) = (i + n) mod 2n`. The
 * gradient with respect to S is `(P - T) / (2n)`, P = `diag(1/z)·E` the softmax and T the
 * positives' indicator (symmetric). S is symmetric, so the gradient with respect to u is
 * `scale·(P + Pᵀ - 2T)·u / (2n)`, and since E is symmetric too, `P + Pᵀ` is `E_ij·(1/zᵢ + 1/zⱼ)`:
 * two broadcast multiplies make H = `P + Pᵀ - 2T`, returned for the backward pass, which is then
 * one sgemm `[2n, 2n]·[2n, d]` where the log-sum-exp path runs two sgemms, two row scalings and
 * the positives' passes. (A row softmax and a transposing reorder for `Pᵀ` measured 423 us at
 * n = 256 against 149 us for these four primitives, one thread, load 8.)
 */
function ntXentSoftmax(
  d: Dnnl,
  blas: Blas,
  u: Float32Array,
  n: number,
  dim: number,
  scale: number,
): { value: number; h: Float32Array } {
  const m = 2 * n;
  const e = allocF32(m * m); // S, then E
  blas.sgemm(false, true, m, m, dim, scale, u, dim, u, dim, 0, e, m);
  let total = 0;
  for (let i = 0; i < m; i++) total -= e[i * m + ((i + n) % m)];
  const p = ntXentPrimitives(d, m);
  p.exp.execute({ [ARG.src]: e, [ARG.dst]: e });
  for (let i = 0; i < m; i++) e[i * m + i] = 0;
  const z = new Float32Array(m);
  p.sum.execute({ [ARG.src]: e, [ARG.dst]: z });
  const r = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    total += Math.log(z[i]);
    r[i] = 1 / z[i];
  }
  const h = allocF32(m * m);
  p.byRows.execute({ [ARG.src]: e, [ARG.src1]: r, [ARG.dst]: h }); // P
  p.addByColumns.execute({ [ARG.src]: e, [ARG.src1]: r, [ARG.dst]: h }); // P + Pᵀ
  for (let i = 0; i < m; i++) h[i * m + ((i + n) % m)] -= 2;
  freeF32(e);
  return { value: total / m, h };
}

/**
 * The whole of NT-Xent, InfoNCE or MoCo's InfoNCE from the raw embeddings: normalization and
 * positives in one JavaScript pass over `[n, d]`, then {@linkcode lseArrays}. State:
 * `[units [m, d], inv [m], E, 1/s, Eᵀ, 1/sᵀ]` (m = 2n, or n for MoCo); InfoNCE through
 * {@linkcode infoNceSoftmax}: `[units, inv, G]`; NT-Xent through {@linkcode ntXentSoftmax}:
 * `[units, inv, H]`.
 */
function cosineForward(d: Dnnl, blas: Blas): KernelFn {
  return ({ inputs, backend: b, attrs }) => {
    const backend = b as CpuLikeBackend;
    const { x, y, z } = inputs;
    const { loss, temperature } = attrs as unknown as CosineAttrs;
    const xv = f32(backend, x);
    const yv = f32(backend, y);
    const zv = z ? f32(backend, z) : undefined;
    if (!xv || !yv || (loss === "moco" && !zv)) {
      throw new TypeError(`Cannot run ${COSINE_XENT}: expected float32 tensors`);
    }
    const [n, dim] = x!.shape;
    const scale = 1 / temperature;
    const o = cosineOptions(loss, n, scale);
    const m = loss === "moco" ? n : 2 * n;
    const units = allocF32(m * dim);
    const inv = new Float32Array(m);
    normalizeInto(xv, n, dim, units, inv, 0);
    if (loss !== "moco") normalizeInto(yv, n, dim, units, inv, n);
    if (loss === "infoNce" && infoNceSoftmaxOn && scale <= INFONCE_SOFTMAX_MAX_SCALE) {
      const { value, g } = infoNceSoftmax(
        d,
        blas,
        units.subarray(0, n * dim),
        units.subarray(n * dim),
        n,
        dim,
        scale,
      );
      return [
        backend.makeTensorInfo([], "float32", new Float32Array([value])),
        backend.makeTensorInfo([m, dim], "float32", units),
        backend.makeTensorInfo([m], "float32", inv),
        backend.makeTensorInfo([n, n], "float32", g),
      ];
    }
    if (
      loss === "ntXent" && ntXentSoftmaxOn && scale <= INFONCE_SOFTMAX_MAX_SCALE &&
      n <= NTXENT_SOFTMAX_MAX_N
    ) {
      const { value, h } = ntXentSoftmax(d, blas, units, n, dim, scale);
      return [
        backend.makeTensorInfo([], "float32", new Float32Array([value])),
        backend.makeTensorInfo([m, dim], "float32", units),
        backend.makeTensorInfo([m], "float32", inv),
        backend.makeTensorInfo([m, m], "float32", h),
      ];
    }
    // Positives: x̂_i·ŷ_i / τ (MoCo: the keys y arrive normalized).
    const other = loss === "moco" ? yv : units.subarray(n * dim);
    const positive = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += units[i * dim + k] * other[i * dim + k];
      positive[i] = dot * scale;
    }
    let out;
    if (loss === "ntXent") {
      const target = new Float32Array(2 * n);
      target.set(positive);
      target.set(positive, n);
      out = lseArrays(d, blas, units, units, 2 * n, 2 * n, dim, o, target, undefined);
    } else if (loss === "infoNce") {
      const ux = units.subarray(0, n * dim);
      const uy = units.subarray(n * dim);
      out = lseArrays(d, blas, ux, uy, n, n, dim, o, positive, undefined);
    } else {
      out = lseArrays(d, blas, units, zv!, n, z!.shape[0], dim, o, positive, positive);
    }
    return [
      backend.makeTensorInfo([], "float32", new Float32Array([out.value])),
      backend.makeTensorInfo([m, dim], "float32", units),
      backend.makeTensorInfo([m], "float32", inv),
      backend.makeTensorInfo([out.e.length], "float32", out.e),
      backend.makeTensorInfo([out.inv.length], "float32", out.inv),
      backend.makeTensorInfo([out.eT.length], "float32", out.eT),
      backend.makeTensorInfo([out.invT.length], "float32", out.invT),
    ];
  };
}

function cosineBackward(blas: Blas): KernelFn {
  return ({ inputs, backend: b, attrs }) => {
    const backend = b as CpuLikeBackend;
    const { y, z, dy } = inputs;
    const { loss, temperature } = attrs as unknown as CosineAttrs;
    const [units, inv, e, invS, eT, invT] = [0, 1, 2, 3, 4, 5].map((i) =>
      f32(backend, inputs[`state${i}`])!
    );
    const g = f32(backend, dy)![0];
    const [n, dim] = y!.shape;
    const scale = 1 / temperature;
    if (loss === "ntXent" && inputs.state3 === undefined) {
      // ntXentSoftmax's state: du = scale·g·H·u/(2n), one sgemm.
      const m = 2 * n;
      const grad = scratch("selfsup cosine grad", m * dim);
      blas.sgemm(false, false, m, dim, m, (scale * g) / m, e, m, units, dim, 0, grad, dim);
      return normalizedGradients(backend, units, inv, grad, n, dim);
    }
    if (loss === "infoNce" && inputs.state3 === undefined) {
      // infoNceSoftmax's state: dvalue/dS = g·G/(2n), da = scale·g·G·ŷ/(2n), db likewise Gᵀ·x̂.
      const half = n * dim;
      const grad = scratch("selfsup cosine grad", 2 * half);
      const k = (scale * g) / (2 * n);
      blas.sgemm(false, false, n, dim, n, k, e, n, units.subarray(half), dim, 0, grad, dim);
      blas.sgemm(true, false, n, dim, n, k, e, n, units, dim, 0, grad.subarray(half), dim);
      return normalizedGradients(backend, units, inv, grad, n, dim);
    }
    const o = cosineOptions(loss, n, scale);
    // dvalue/dpositive_i for the target part, per unit of x̂·ŷ: -(rowWeight + colWeight)·g/τ.
    const ct = -(o.rowWeight + o.colWeight) * g * scale;
    if (loss === "moco") {
      const yv = f32(backend, y)!;
      const K = z!.shape[0];
      const { da, de } = lseGradArrays(
        blas,
        units,
        f32(backend, z)!,
        n,
        K,
        dim,
        o,
        g,
        e,
        invS,
        eT,
        invT,
        true,
        { da: scratch("selfsup cosine da", n * dim), db: new Float32Array(0) },
      );
      // The positive is the target and the extra logit: dp_i = (de_i·τ⁻¹ + ct) per unit x̂·k̂.
      for (let i = 0; i < n; i++) {
        const dp = de![i] * scale + ct;
        for (let k = 0; k < dim; k++) da[i * dim + k] += dp * yv[i * dim + k];
      }
      return [
        backend.makeTensorInfo([n, dim], "float32", normalizeGradInto(units, inv, da, 0, n, dim)),
        backend.makeTensorInfo([n, dim], "float32", allocF32(n * dim, true)),
        backend.makeTensorInfo([K, dim], "float32", allocF32(K * dim, true)),
      ];
    }
    let grad: Float32Array; // [2n, d] gradient with respect to the units
    if (loss === "ntXent") {
      const { da, db } = lseGradArrays(
        blas,
        units,
        units,
        2 * n,
        2 * n,
        dim,
        o,
        g,
        e,
        invS,
        eT,
        invT,
        false,
        {
          da: scratch("selfsup cosine da", 2 * n * dim),
          db: scratch("selfsup cosine db", 2 * n * dim),
        },
      );
      for (let i = 0; i < da.length; i++) da[i] += db[i];
      grad = da;
      // Each pair's positive appears twice (i -> i + n and back): 2·ct·(other view's unit).
      const half = n * dim;
      for (let i = 0; i < half; i++) {
        grad[i] += 2 * ct * units[half + i];
        grad[half + i] += 2 * ct * units[i];
      }
    } else {
      const ux = units.subarray(0, n * dim);
      const uy = units.subarray(n * dim);
      const { da, db } = lseGradArrays(blas, ux, uy, n, n, dim, o, g, e, invS, eT, invT, false, {
        da: scratch("selfsup cosine da", n * dim),
        db: scratch("selfsup cosine db", n * dim),
      });
      grad = scratch("selfsup cosine grad", 2 * n * dim);
      const half = n * dim;
      for (let i = 0; i < half; i++) {
        grad[i] = da[i] + ct * uy[i];
        grad[half + i] = db[i] + ct * ux[i];
      }
    }
    return normalizedGradients(backend, units, inv, grad, n, dim);
  };
}

/**
 * The gradients of x and y `[n, d]` from the units' gradient `grad` `[2n, d]`, through the
 * normalization. Both in one buffer (two views): one allocation, and when the caller reads them
 * out (they then never return to the pool) one fresh buffer per step instead of two.
 */
function normalizedGradients(
  backend: CpuLikeBackend,
  units: Float32Array,
  inv: Float32Array,
  grad: Float32Array,
  n: number,
  dim: number,
): tf.TensorInfo[] {
  const both = normalizeGradInto(units, inv, grad, 0, 2 * n, dim);
  return [
    backend.makeTensorInfo([n, dim], "float32", both.subarray(0, n * dim)),
    backend.makeTensorInfo([n, dim], "float32", both.subarray(n * dim)),
  ];
}

/** Row softmax of `x` `[rows, cols]` into `y`. */
function softmaxRows(
  d: Dnnl,
  x: Float32Array,
  y: Float32Array,
  rows: number,
  cols: number,
): void {
  d.cached(`selfsup softmax fwd ${rows}x${cols}`, () => {
    const md = d.memoryDesc([rows, cols], TAG.ab);
    const op = d.opDesc();
    d.check(
      d.symbols.dnnl_softmax_forward_desc_init(op, PROP.forwardInference, md, 1) as number,
      "dnnl_softmax_forward_desc_init",
      `[${rows}, ${cols}]`,
    );
    return d.primitive(op, { what: `softmax [${rows}, ${cols}]` });
  }).execute({ [ARG.src]: x, [ARG.dst]: y });
}

/** `Softmax` along the last axis on oneDNN; other dtypes go to `fallback`. */
function softmaxKernel(d: Dnnl, minSize: number, fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const logits = args.inputs.logits;
    const x = f32(backend, logits);
    const shape = logits?.shape ?? [];
    const cols = shape[shape.length - 1] ?? 0;
    if (!x || shape.length === 0 || x.length === 0 || x.length < minSize) return fallback(args);
    const y = allocF32(x.length);
    softmaxRows(d, x, y, x.length / cols, cols);
    return backend.makeTensorInfo(shape.slice(), "float32", y);
  };
}

/**
 * Elementwise `alg` on oneDNN for float32 tensors of at least `minSize` elements; smaller ones and
 * other dtypes go to `fallback` (the kernel registered before, cheaper than a primitive call on
 * small tensors).
 */
function eltwiseKernel(d: Dnnl, alg: number, name: string, minSize: number, fallback: KernelFn) {
  return ((args) => {
    const backend = args.backend as CpuLikeBackend;
    const x = args.inputs.x;
    const v = f32(backend, x);
    if (!v || v.length < minSize || v.length === 0) return fallback(args);
    const n = v.length;
    const out = allocF32(n);
    d.cached(`selfsup eltwise ${name} ${n}`, () => {
      const md = d.memoryDesc([n], TAG.a);
      const op = d.opDesc();
      d.check(
        d.symbols.dnnl_eltwise_forward_desc_init(
          op,
          PROP.forwardInference,
          alg,
          md,
          0,
          0,
        ) as number,
        "dnnl_eltwise_forward_desc_init",
        `${name} [${n}]`,
      );
      return d.primitive(op, { what: `${name} [${n}]` });
    }).execute({ [ARG.src]: v, [ARG.dst]: out });
    return backend.makeTensorInfo(x!.shape.slice(), "float32", out);
  }) as KernelFn;
}

/**
 * `Log` as one monomorphic JavaScript loop over float32 data (other dtypes: `fallback`). Not
 * oneDNN's eltwise log: it measured up to 3.4e-6 off in absolute terms near 1 (log(1.0316)), about
 * 100 times float32's rounding there; this loop is exact to float32 rounding and 5-20x faster
 * than the cpu backend's per-element callback.
 */
function logKernel(fallback: KernelFn): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const x = args.inputs.x;
    const v = f32(backend, x);
    if (!v) return fallback(args);
    const out = allocF32(v.length);
    for (let i = 0; i < v.length; i++) out[i] = Math.log(v[i]);
    return backend.makeTensorInfo(x!.shape.slice(), "float32", out);
  };
}

/**
 * A tfjs reduction (`Max`, `Min`, `Sum`, `Mean`) over the trailing axes of a float32 tensor of at
 * least `minSize` elements on oneDNN's reduction primitive, as `[outer, inner] -> [outer, 1]`.
 * Anything else goes to `fallback`: other dtypes, small tensors, and reductions over leading or
 * interleaved axes (oneDNN's reduction along a strided axis measured 3-60x slower than the native
 * JavaScript `Sum` and, at [512, 512], than the cpu `Max`).
 */
function reductionKernel(
  d: Dnnl,
  alg: number,
  name: string,
  axisAttr: "axis" | "reductionIndices",
  minSize: number,
  fallback: KernelFn,
): KernelFn {
  return (args) => {
    const backend = args.backend as CpuLikeBackend;
    const x = args.inputs.x;
    const v = f32(backend, x);
    const shape = x?.shape ?? [];
    if (!v || v.length < minSize || v.length === 0) return fallback(args);
    const attrs = (args.attrs ?? {}) as Record<string, unknown>;
    const axes = tf.util.parseAxisParam(attrs[axisAttr] as number | number[], shape);
    const rank = shape.length;
    const trailing = axes.length > 0 &&
      axes.slice().sort((p, q) => p - q).every((a, i) => a === rank - axes.length + i);
    const inner = shape.slice(rank - axes.length).reduce((p, n) => p * n, 1);
    if (!trailing || inner < 2) return fallback(args);
    const outer = v.length / inner;
    const out = allocF32(outer);
    d.cached(`selfsup reduction ${name} ${outer}x${inner}`, () => {
      const op = d.opDesc();
      d.check(
        d.symbols.dnnl_reduction_desc_init(
          op,
          alg,
          d.memoryDesc([outer, inner], TAG.ab),
          d.memoryDesc([outer, 1], TAG.ab),
          0,
          0,
        ) as number,
        "dnnl_reduction_desc_init",
        `${name} [${outer}, ${inner}]`,
      );
      return d.primitive(op, { what: `reduction ${name} [${outer}, ${inner}]` });
    }).execute({ [ARG.src]: v, [ARG.dst]: out });
    const outShape = attrs.keepDims
      ? shape.map((n, i) => (axes.includes(i) ? 1 : n))
      : shape.filter((_, i) => !axes.includes(i));
    return backend.makeTensorInfo(outShape, "float32", out);
  };
}

/**
 * Smallest tensors (elements) each kernel takes to oneDNN; below, the kernel registered before
 * runs. From bench/native_softmax_bench.ts (bench/RESULTS.md, "Loss kernels on oneDNN"): oneDNN's
 * Softmax was faster at every size measured (32x32 up), Exp from 64x64
 * (4,096; equal at 1,024); Max and Min along the last axis from 256x256 (65,536; 5-10x slower at
 * 4,096, equal at 16,384); Sum and Mean along the last axis from 256x3000 (768,000; about equal
 * at 65,536-262,144).
 */
export const DNNL_MIN_SIZES: Record<string, number> = {
  Softmax: 0,
  Exp: 4096,
  Max: 65536,
  Min: 65536,
  Sum: 768000,
  Mean: 768000,
};

/** The kernels registered for `backendName` now under the names this file may replace. */
function registeredKernels(backendName: string): Record<string, KernelFn | undefined> {
  return Object.fromEntries(
    ["Softmax", "Log", ...Object.keys(ELTWISE), ...Object.keys(REDUCTIONS)].map((name) => [
      name,
      tf.getKernel(name, backendName)?.kernelFunc as unknown as KernelFn | undefined,
    ]),
  );
}

/** `dnnl_reduction_min` (2.6: `dnnl_reduction_max` + 1; `_dnnl.ts`'s `ALG` has no entry for it). */
const REDUCTION_MIN = ALG.reductionMax + 1;

/** Elementwise and reduction kernels this file can put on oneDNN, with their algorithms. */
const ELTWISE: Record<string, number> = { Exp: ALG.eltwiseExp };
const REDUCTIONS: Record<string, [number, "axis" | "reductionIndices"]> = {
  Max: [ALG.reductionMax, "reductionIndices"],
  Min: [REDUCTION_MIN, "axis"],
  Sum: [ALG.reductionSum, "axis"],
  Mean: [ALG.reductionMean, "axis"],
};

/**
 * Registers the kernels of this file for `backendName` when oneDNN 2.x loads (else nothing: the
 * losses then compose tfjs ops): the fused loss kernels always, and each of `Softmax`, `Exp`,
 * `Log`, `Max`, `Min`, `Sum`, `Mean` that has a fallback (by default the kernel registered for
 * `backendName` now, which then runs for other dtypes, for tensors under `minSizes[name]`
 * elements and for reductions over leading axes).
 * @returns the kernel names registered
 */
export function registerDnnlSoftmaxKernels(
  backendName: string,
  fallbacks: Record<string, KernelFn | undefined> = registeredKernels(backendName),
  minSizes: Record<string, number> = DNNL_MIN_SIZES,
): string[] {
  const d = dnnlOrUndefined();
  if (!d) return [];
  const blas = loadBlas();
  const kernels: [string, KernelFn][] = [
    [LSE_MATMUL, lseForward(d, blas)],
    [LSE_MATMUL_GRAD, lseBackward(blas)],
    [COSINE_XENT, cosineForward(d, blas)],
    [COSINE_XENT_GRAD, cosineBackward(blas)],
  ];
  if (fallbacks.Softmax) {
    kernels.push(["Softmax", softmaxKernel(d, minSizes.Softmax ?? 0, fallbacks.Softmax)]);
  }
  for (const [name, alg] of Object.entries(ELTWISE)) {
    const fallback = fallbacks[name];
    if (fallback) {
      kernels.push([name, eltwiseKernel(d, alg, name, minSizes[name] ?? 0, fallback)]);
    }
  }
  if (fallbacks.Log) kernels.push(["Log", logKernel(fallbacks.Log)]);
  for (const [name, [alg, axisAttr]] of Object.entries(REDUCTIONS)) {
    const fallback = fallbacks[name];
    if (fallback) {
      kernels.push([
        name,
        reductionKernel(d, alg, name, axisAttr, minSizes[name] ?? 0, fallback),
      ]);
    }
  }
  for (const [kernelName, kernelFunc] of kernels) {
    // Replaces the kernel registered before for this backend (without tfjs' overwrite warning).
    if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({
      kernelName,
      backendName,
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    });
  }
  return kernels.map(([name]) => name);
}
