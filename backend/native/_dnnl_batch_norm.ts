/**
 * Batch normalization as oneDNN primitives over channels-last data: the forward pass with given
 * statistics (tfjs's `FusedBatchNorm`) and the training-mode backward pass (data, scale and shift
 * gradients in one primitive, the mean and variance gradients folded into the data gradient).
 *
 * @module
 */
import { allocF32 } from "./_buffers.ts";
import { ALG, ARG, BN_FLAGS, type Dnnl, type Primitive, PROP, TAG } from "./_dnnl.ts";
import { scratch } from "./_util.ts";

/**
 * The data as oneDNN sees it: `[N, C, H, W]` in `nhwc` for rank 4, else `[rows, C, 1, 1]` in
 * `nhwc` (a 2-D `[rows, C]` `ab` descriptor gets oneDNN 2.6's reference `ncsp_bnorm`: measured
 * 3-14x slower than the `nhwc` jit kernel on the same data here).
 */
function dataDesc(d: Dnnl, shape: readonly number[]): Uint8Array<ArrayBuffer> {
  const c = shape[shape.length - 1];
  if (shape.length === 4) return d.memoryDesc([shape[0], c, shape[1], shape[2]], TAG.acdb);
  return d.memoryDesc([shape.reduce((p, v) => p * v, 1) / c, c, 1, 1], TAG.acdb);
}

function forwardPrimitive(
  d: Dnnl,
  shape: readonly number[],
  eps: number,
  flags: number,
  prop: number,
): Primitive {
  const key = `bnorm fwd ${shape} ${eps} ${flags} ${prop}`;
  return d.cached(key, () => {
    const op = d.opDesc();
    d.check(
      d.symbols.dnnl_batch_normalization_forward_desc_init(
        op,
        prop,
        dataDesc(d, shape),
        eps,
        flags,
      ),
      "dnnl_batch_normalization_forward_desc_init",
      key,
    );
    return d.primitive(op, { what: key });
  });
}

/**
 * `y = (x - mean) / sqrt(variance + eps) * scale + offset` per channel (the last axis of `x`,
 * shape `shape`); `scale` and `offset` may be absent.
 */
export function dnnlBatchNormForward(
  d: Dnnl,
  x: Float32Array,
  shape: readonly number[],
  mean: Float32Array,
  variance: Float32Array,
  eps: number,
  scale?: Float32Array,
  offset?: Float32Array,
): Float32Array {
  const flags = (scale ? BN_FLAGS.useScale : 0) | (offset ? BN_FLAGS.useShift : 0);
  return withStatistics(
    d,
    x,
    shape,
    mean,
    variance,
    eps,
    PROP.forwardInference,
    flags,
    scale,
    offset,
  )
    .y;
}

/**
 * Runs the forward primitive of `prop` and `flags` (plus `use_global_stats`) on `x` with the given
 * statistics: `y`, and oneDNN's workspace when `flags` fuse a ReLU.
 */
function withStatistics(
  d: Dnnl,
  x: Float32Array,
  shape: readonly number[],
  mean: Float32Array,
  variance: Float32Array,
  eps: number,
  prop: number,
  flags: number,
  scale?: Float32Array,
  offset?: Float32Array,
): { y: Float32Array; workspace?: Uint8Array<ArrayBuffer> } {
  const p = forwardPrimitive(d, shape, eps, BN_FLAGS.useGlobalStats | flags, prop);
  const y = allocF32(x.length);
  const workspace = flags & BN_FLAGS.fuseNormRelu
    ? new Uint8Array(p.argBytes(ARG.workspace))
    : undefined;
  p.execute({
    [ARG.src]: x,
    [ARG.mean]: mean,
    [ARG.variance]: variance,
    [ARG.scale]: scale,
    [ARG.shift]: offset,
    [ARG.dst]: y,
    [ARG.workspace]: workspace,
  });
  return { y, workspace };
}

const constants = new Map<string, Float32Array>();

/** `c` copies of `value` (a scale of ones, a shift of zeros), made once per size. */
function filled(value: number, c: number): Float32Array {
  const key = `${value} ${c}`;
  let a = constants.get(key);
  if (!a) constants.set(key, a = new Float32Array(c).fill(value));
  return a;
}

/**
 * Rows each float32 partial sum of {@linkcode batchMoments} adds on oneDNN: at most 7 roundings of
 * a sum of 8 terms (relative error under 5e-7 of the terms' magnitude, and typically a few times
 * 6e-8), before the partial sums are added in float64.
 */
export const MOMENT_BLOCK = 8;

/** From this many elements the moments' passes run on oneDNN (below, JavaScript's are as fast). */
export const DNNL_MOMENTS_MIN_ELEMENTS = 1 << 16;

interface MomentPrimitives {
  /** The sum of the 8 row slabs `[rows / 8, c]` of `x`, elementwise. */
  sum: Primitive;
  /** `(slab - mean)^2` into the partial sums, then the same added to them. */
  square: Primitive;
  squareAdd: Primitive;
}

const momentPrimitives = new Map<string, MomentPrimitives>();

function momentsFor(d: Dnnl, slabRows: number, c: number): MomentPrimitives {
  const key = `${slabRows} ${c}`;
  let p = momentPrimitives.get(key);
  if (p) return p;
  const slab = d.memoryDesc([slabRows, c], TAG.ab);
  const srcs = new Uint8Array(slab.length * MOMENT_BLOCK);
  for (let i = 0; i < MOMENT_BLOCK; i++) srcs.set(slab, i * slab.length);
  const pdOut = new BigUint64Array(1);
  d.check(
    d.symbols.dnnl_sum_primitive_desc_create(
      new Uint8Array(pdOut.buffer),
      slab,
      MOMENT_BLOCK,
      new Uint8Array(new Float32Array(MOMENT_BLOCK).fill(1).buffer),
      srcs,
      null,
      d.engine,
    ),
    "dnnl_sum_primitive_desc_create",
    `bnorm moments [${slabRows}, ${c}]`,
  );
  const sum = d.primitiveFromPd(Deno.UnsafePointer.create(pdOut[0]), "bnorm moments sum");
  const centeredSquare = (accumulate: boolean) => {
    const op = d.opDesc();
    d.check(
      d.symbols.dnnl_binary_desc_init(
        op,
        ALG.binarySub,
        slab,
        d.memoryDesc([1, c], TAG.ab),
        slab,
      ),
      "dnnl_binary_desc_init",
      `bnorm moments [${slabRows}, ${c}]`,
    );
    const attr = d.postOpsAttr([[ALG.eltwiseSquare, 0, 0]], accumulate ? 1 : undefined, true);
    try {
      return d.primitive(op, { attr, what: "bnorm moments square" });
    } finally {
      d.symbols.dnnl_primitive_attr_destroy(attr);
    }
  };
  p = { sum, square: centeredSquare(false), squareAdd: centeredSquare(true) };
  momentPrimitives.set(key, p);
  return p;
}

/** Column sums of `part` viewed as `[rows, c]`, in float64. */
function columnSums(part: Float32Array, c: number): Float64Array {
  const acc = new Float64Array(c);
  for (let i = 0; i < part.length; i += c) {
    for (let j = 0; j < c; j++) acc[j] += part[i + j];
  }
  return acc;
}

/**
 * The batch mean and biased variance of channels-last `x` per channel (`c` channels) in two
 * passes (the mean, then the squared deviations from it), summed in float64 as PyTorch's CPU batch
 * norm accumulates float32 data in double. oneDNN's own statistics (float32 sums over the batch)
 * were off by up to 2e-4 of the variance on MNIST batches, whose backgrounds repeat one value
 * thousands of times, and that turned into gradient errors of 1-2% in every convolution
 * (bench/RESULTS.md, "Learning gap", "Same views, same weights").
 *
 * With `d` and at least {@linkcode DNNL_MOMENTS_MIN_ELEMENTS} elements in a multiple of 8 rows,
 * both passes run on oneDNN's threads (they were single-threaded JavaScript, the part of the
 * reference step that a second core did not speed up): the rows are cut into 8 slabs, a sum
 * primitive adds them elementwise (each partial sum 8 float32 terms, in a fixed order whatever
 * the thread count), and the partial sums, 1/8 of the data, are added in float64; then a binary
 * primitive adds `(slab - mean)^2` into the partial sums likewise (squares of deviations from the
 * float32 mean `m32`, corrected by `(m - m32)^2` to deviations from the float64 mean `m`). The
 * statistics then err by a few float32 roundings of `|mean| + std` (the JavaScript passes: half
 * of one), so the variance stays within 1e-6 of float64's while `|mean| / std` is under ~1e3
 * (a channel whose mean is 1e3 of its deviations is normalized in float32 no better anyway).
 * Measured on one thread (process CPU time, [131072, 32]): 4.8 ms against 9.1 ms in JavaScript.
 */
export function batchMoments(
  x: Float32Array,
  c: number,
  d?: Dnnl,
): { mean: Float32Array; variance: Float32Array } {
  const rows = x.length / c;
  if (!d || x.length < DNNL_MOMENTS_MIN_ELEMENTS || rows % MOMENT_BLOCK !== 0) {
    return jsMoments(x, c);
  }
  const n = x.length / MOMENT_BLOCK;
  const p = momentsFor(d, rows / MOMENT_BLOCK, c);
  const part = scratch("bnorm moments", n);
  const slab = (i: number) => x.subarray(i * n, (i + 1) * n);
  const sumArgs: Record<number, Float32Array> = { [ARG.dst]: part };
  for (let i = 0; i < MOMENT_BLOCK; i++) sumArgs[ARG.multipleSrc + i] = slab(i);
  p.sum.execute(sumArgs);
  const m = columnSums(part, c).map((s) => s / rows);
  const mean = Float32Array.from(m);
  for (let i = 0; i < MOMENT_BLOCK; i++) {
    (i === 0 ? p.square : p.squareAdd).execute({
      [ARG.src]: slab(i),
      [ARG.src1]: mean,
      [ARG.dst]: part,
    });
  }
  const s2 = columnSums(part, c);
  const variance = new Float32Array(c);
  for (let j = 0; j < c; j++) {
    variance[j] = Math.max(0, s2[j] / rows - (m[j] - mean[j]) ** 2);
  }
  return { mean, variance };
}

/** {@linkcode batchMoments} in JavaScript: two passes, float64 sums. */
function jsMoments(x: Float32Array, c: number): { mean: Float32Array; variance: Float32Array } {
  const rows = x.length / c;
  const acc = new Float64Array(c);
  for (let i = 0; i < x.length; i += c) {
    for (let j = 0; j < c; j++) acc[j] += x[i + j];
  }
  const m = new Float64Array(c);
  for (let j = 0; j < c; j++) m[j] = acc[j] / rows;
  acc.fill(0);
  for (let i = 0; i < x.length; i += c) {
    for (let j = 0; j < c; j++) {
      const d = x[i + j] - m[j];
      acc[j] += d * d;
    }
  }
  const mean = new Float32Array(c);
  const variance = new Float32Array(c);
  for (let j = 0; j < c; j++) {
    mean[j] = m[j];
    variance[j] = acc[j] / rows;
  }
  return { mean, variance };
}

/**
 * Training-mode batch norm: the batch mean and (biased) variance of `x` per channel
 * ({@linkcode batchMoments}, partial sums added in float64) and `y = (x - mean) / sqrt(variance + eps) * scale +
 * offset` from one primitive given those statistics ({@linkcode dnnlBatchNormNormalize}). With
 * `relu`, `y` is `max(y, 0)` and `workspace` holds what the fused backward needs (where `y > 0`).
 */
export function dnnlBatchNormTraining(
  d: Dnnl,
  x: Float32Array,
  shape: readonly number[],
  eps: number,
  scale?: Float32Array,
  offset?: Float32Array,
  relu = false,
): {
  y: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  workspace?: Uint8Array<ArrayBuffer>;
} {
  const { mean, variance } = batchMoments(x, shape[shape.length - 1], d);
  return {
    mean,
    variance,
    ...dnnlBatchNormNormalize(d, x, shape, mean, variance, eps, scale, offset, relu),
  };
}

/**
 * The normalization step of training-mode batch norm, given the batch statistics: the
 * forward-training primitive that {@linkcode dnnlBatchNormTraining} runs (so a batch-norm output
 * computed later from saved statistics, e.g. at a fused site whose output turns out to be read,
 * has the same bits as one computed unfused). With `relu`, `y` is `max(y, 0)` and `workspace`
 * holds where `y > 0`.
 */
export function dnnlBatchNormNormalize(
  d: Dnnl,
  x: Float32Array,
  shape: readonly number[],
  mean: Float32Array,
  variance: Float32Array,
  eps: number,
  scale?: Float32Array,
  offset?: Float32Array,
  relu = false,
): { y: Float32Array; workspace?: Uint8Array<ArrayBuffer> } {
  const c = shape[shape.length - 1];
  return withStatistics(
    d,
    x,
    shape,
    mean,
    variance,
    eps,
    PROP.forwardTraining,
    BN_FLAGS.useScale | BN_FLAGS.useShift | (relu ? BN_FLAGS.fuseNormRelu : 0),
    scale ?? filled(1, c),
    offset ?? filled(0, c),
  );
}

/**
 * The training-mode batch-norm gradient, `mean` and `variance` being the batch statistics of `x`
 * (shape `shape`, channels last): `dx`, `dscale` and `doffset` from one primitive. With the
 * `reluWorkspace` of a fused forward ({@linkcode dnnlBatchNormTraining} with `relu`), `dy` is the
 * gradient of the ReLU's output and the primitive applies the ReLU's gradient on the way.
 */
export function dnnlBatchNormBackward(
  d: Dnnl,
  x: Float32Array,
  dy: Float32Array,
  shape: readonly number[],
  mean: Float32Array,
  variance: Float32Array,
  eps: number,
  scale?: Float32Array,
  reluWorkspace?: Uint8Array<ArrayBuffer>,
): { dx: Float32Array; dscale: Float32Array; doffset: Float32Array } {
  const c = shape[shape.length - 1];
  const relu = reluWorkspace !== undefined;
  const flags = BN_FLAGS.useScale | BN_FLAGS.useShift | (relu ? BN_FLAGS.fuseNormRelu : 0);
  const key = `bnorm bwd ${shape} ${eps} ${flags}`;
  const p = d.cached(key, () => {
    const hint = forwardPrimitive(d, shape, eps, flags, PROP.forwardTraining);
    const op = d.opDesc();
    const md = dataDesc(d, shape);
    d.check(
      d.symbols.dnnl_batch_normalization_backward_desc_init(op, PROP.backward, md, md, eps, flags),
      "dnnl_batch_normalization_backward_desc_init",
      key,
    );
    return d.primitive(op, { hint, what: key });
  });
  const dx = allocF32(x.length);
  const dscale = new Float32Array(c);
  const doffset = new Float32Array(c);
  p.execute({
    [ARG.src]: x,
    [ARG.diffDst]: dy,
    [ARG.mean]: mean,
    [ARG.variance]: variance,
    [ARG.scale]: scale ?? filled(1, c),
    // With the shift flag oneDNN 2.6 wants the shift as an input even backward (it is not read).
    [ARG.shift]: filled(0, c),
    [ARG.diffSrc]: dx,
    [ARG.diffScale]: dscale,
    [ARG.diffShift]: doffset,
    [ARG.workspace]: reluWorkspace,
  });
  return { dx, dscale, doffset };
}
