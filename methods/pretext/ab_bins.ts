/**
 * The quantized ab space of Zhang et al. 2016 ("Colorful Image Colorization", arXiv:1603.08511):
 * the in-gamut bins, soft-encoded targets, class-rebalancing weights and annealed-mean decoding.
 *
 * @module
 */
import { tf } from "../../backend/tf.ts";
import { D65_WHITE, LAB_EPSILON, LAB_KAPPA, SRGB_TO_XYZ } from "./lab.ts";

/** Options for {@linkcode abGamutBins}. */
export interface AbGamutBinsOptions {
  /**
   * Grid size of the ab quantization; bin centres sit at multiples of it.
   * @default {10} (Zhang et al. 2016)
   */
  gridSize?: number;
  /**
   * Levels per sRGB channel enumerated (256: every 8-bit colour).
   * @default {256}
   */
  levels?: number;
}

const cache = new Map<string, Float32Array>();

/**
 * The in-gamut ab bins, computed: the grid centres `(gridSize * i, gridSize * j)` whose cell
 * (`round(a / gridSize) = i`, `round(b / gridSize) = j`) holds the ab of at least one sRGB colour
 * of `levels` levels per channel, at any lightness. Sorted by a, then b.
 *
 * **Count: 261, not Zhang's 313.** With grid size 10 and every 8-bit sRGB colour this gives 261
 * bins (262 for the continuous sRGB solid). Zhang et al. keep "Q = 313" bins, but their list
 * (`pts_in_hull.npy`) is shipped as data, not derived in their code, and no gamut criterion we
 * tried reproduces it: grid centres with some L in gamut give ~228, the convex hull of the ab
 * projection 233 to 275, dilating the gamut by 8 units 315. Their set is wider than the sRGB
 * gamut (its a/b ranges match ours, [-90, 100] x [-110, 90], but it is fuller), so we keep the
 * derivable criterion here: every bin a real sRGB pixel can fall in, and nothing else. Their 313
 * are {@linkcode zhangAbBins} (data), colorization's default bin set; this set is its
 * `bins: "gamut261"` option.
 *
 * @param options grid size and enumeration levels
 * @returns bin centres, shape `[Q, 2]` flattened row-major (a, b)
 * @throws {RangeError} for a non-positive grid size or fewer than 2 levels
 *
 * @example
 * ```ts
 * import { abGamutBins } from "./ab_bins.ts";
 * import assert from "node:assert/strict";
 * const bins = abGamutBins({ levels: 16 });
 * assert.ok(bins.length / 2 > 200);
 * assert.ok(bins.every((v) => v % 10 === 0));
 * ```
 */
export function abGamutBins(options: AbGamutBinsOptions = {}): Float32Array {
  const { gridSize = 10, levels = 256 } = options;
  if (!(typeof gridSize === "number" && gridSize > 0 && Number.isFinite(gridSize))) {
    throw new RangeError(`Cannot compute ab bins: gridSize must be > 0, received ${gridSize}`);
  }
  if (!Number.isInteger(levels) || levels < 2) {
    throw new RangeError(
      `Cannot compute ab bins: levels must be an integer >= 2, received ${levels}`,
    );
  }
  const key = `${gridSize}/${levels}`;
  const cached = cache.get(key);
  if (cached) return cached.slice();
  const lin = new Float64Array(levels);
  for (let i = 0; i < levels; i++) {
    const c = i / (levels - 1);
    lin[i] = c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }
  // |a|, |b| < 128 for every sRGB colour: a bitmap of cells over that square
  const half = Math.ceil(128 / gridSize) + 1;
  const side = 2 * half + 1;
  const hit = new Uint8Array(side * side);
  const [w0, w1, w2] = D65_WHITE;
  const f = (t: number) => t > LAB_EPSILON ? Math.cbrt(t) : t / LAB_KAPPA + 4 / 29;
  for (let r = 0; r < levels; r++) {
    const lr = lin[r];
    for (let g = 0; g < levels; g++) {
      const lg = lin[g];
      const x0 = (SRGB_TO_XYZ[0][0] * lr + SRGB_TO_XYZ[0][1] * lg) / w0;
      const y0 = (SRGB_TO_XYZ[1][0] * lr + SRGB_TO_XYZ[1][1] * lg) / w1;
      const z0 = (SRGB_TO_XYZ[2][0] * lr + SRGB_TO_XYZ[2][1] * lg) / w2;
      for (let b = 0; b < levels; b++) {
        const lb = lin[b];
        const fx = f(x0 + SRGB_TO_XYZ[0][2] * lb / w0);
        const fy = f(y0 + SRGB_TO_XYZ[1][2] * lb / w1);
        const fz = f(z0 + SRGB_TO_XYZ[2][2] * lb / w2);
        const i = Math.round(500 * (fx - fy) / gridSize) + half;
        const j = Math.round(200 * (fy - fz) / gridSize) + half;
        hit[i * side + j] = 1;
      }
    }
  }
  const cells: number[] = [];
  for (let k = 0; k < hit.length; k++) if (hit[k]) cells.push(k);
  const out = new Float32Array(cells.length * 2);
  cells.forEach((k, n) => {
    out[2 * n] = (Math.floor(k / side) - half) * gridSize;
    out[2 * n + 1] = ((k % side) - half) * gridSize;
  });
  cache.set(key, out);
  return out.slice();
}

function checkRank(where: string, name: string, x: tf.Tensor, rank: number, last?: number) {
  if (
    !(x instanceof tf.Tensor) || x.rank !== rank ||
    (last !== undefined && x.shape[rank - 1] !== last)
  ) {
    throw new TypeError(
      `Cannot ${where}: ${name} must have rank ${rank}${
        last !== undefined ? ` with last axis ${last}` : ""
      }, received ${x instanceof tf.Tensor ? `[${x.shape}]` : String(x)}`,
    );
  }
}

/** Squared distances `[N, Q]` between ab values `[N, 2]` and bin centres `[Q, 2]`. */
function squaredDistances(ab: tf.Tensor2D, centers: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() =>
    tf.relu(
      tf.add(
        tf.sub(tf.sum(tf.square(ab), 1, true), tf.mul(tf.matMul(ab, centers, false, true), 2)),
        tf.reshape(tf.sum(tf.square(centers), 1), [1, -1]),
      ),
    ) as tf.Tensor2D
  );
}

/** Options for {@linkcode softEncodeAb}. */
export interface SoftEncodeAbOptions {
  /** Nearest bins that share the mass. @default {5} (Zhang et al. 2016) */
  neighbors?: number;
  /** Gaussian kernel width, in ab units. @default {5} (Zhang et al. 2016) */
  sigma?: number;
}

/**
 * Soft-encodes ab values over their `neighbors` nearest bins with Gaussian weights (Zhang et al.
 * 2016, Sec. 2.1): the classification target of each pixel.
 *
 * @param ab ab values, shape `[N, 2]`
 * @param centers bin centres, shape `[Q, 2]`
 * @param options neighbors, sigma
 * @returns target distributions, shape `[N, Q]`, rows summing to 1
 * @throws {TypeError} for wrong shapes
 * @throws {RangeError} unless 1 <= neighbors <= Q and sigma > 0
 *
 * @example
 * ```ts
 * import { softEncodeAb } from "./ab_bins.ts";
 * import { tf } from "../../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const centers = tf.tensor2d([[0, 0], [10, 0], [0, 10], [50, 50]]);
 * const z = softEncodeAb(tf.tensor2d([[0, 0]]), centers, { neighbors: 3 }).dataSync();
 * assert.ok(z[0] > z[1] && Math.abs(z[1] - z[2]) < 1e-6 && z[3] === 0);
 * ```
 */
export function softEncodeAb(
  ab: tf.Tensor2D,
  centers: tf.Tensor2D,
  options: SoftEncodeAbOptions = {},
): tf.Tensor2D {
  const { neighbors = 5, sigma = 5 } = options;
  checkRank("soft-encode ab", "ab", ab, 2, 2);
  checkRank("soft-encode ab", "centers", centers, 2, 2);
  const q = centers.shape[0];
  if (!Number.isInteger(neighbors) || neighbors < 1 || neighbors > q) {
    throw new RangeError(
      `Cannot soft-encode ab: neighbors must be an integer in [1, ${q}], received ${neighbors}`,
    );
  }
  if (!(sigma > 0)) {
    throw new RangeError(`Cannot soft-encode ab: sigma must be > 0, received ${sigma}`);
  }
  return tf.tidy(() => {
    const d2 = squaredDistances(ab, centers); // [N, Q]
    const { values, indices } = tf.topk(tf.neg(d2), neighbors); // [N, k]
    const w = tf.softmax(tf.div(values, 2 * sigma * sigma)); // exp(-d^2 / 2s^2), normalized
    const hot = tf.oneHot(indices, q); // [N, k, Q]
    return tf.sum(tf.mul(hot, tf.expandDims(w, 2)), 1) as tf.Tensor2D;
  });
}

/** Options for {@linkcode rebalanceWeights}. */
export interface RebalanceWeightsOptions {
  /** Mix of the prior with a uniform distribution. @default {0.5} (Zhang et al. 2016) */
  lambda?: number;
  /**
   * Gaussian smoothing of the prior over the ab plane, in ab units (0: none).
   * @default {5} (Zhang et al. 2016)
   */
  sigma?: number;
}

/**
 * Class-rebalancing weights (Zhang et al. 2016, Eq. 3-4): `w ∝ ((1 - λ) p̃ + λ / Q)^-1`,
 * normalized so that `Σ p̃ w = 1`, with `p̃` the prior smoothed by a Gaussian of width sigma.
 *
 * @param prior empirical bin probabilities (or counts), shape `[Q]`
 * @param centers bin centres, shape `[Q, 2]` (for the smoothing)
 * @param options lambda, sigma
 * @returns weights, shape `[Q]`
 * @throws {TypeError} for wrong shapes
 * @throws {RangeError} unless lambda is in [0, 1]
 *
 * @example
 * ```ts
 * import { rebalanceWeights } from "./ab_bins.ts";
 * import { tf } from "../../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const w = rebalanceWeights(tf.tensor1d([9, 1]), tf.tensor2d([[0, 0], [100, 0]])).dataSync();
 * assert.ok(w[1] > w[0]); // the rare bin weighs more
 * ```
 */
export function rebalanceWeights(
  prior: tf.Tensor1D,
  centers: tf.Tensor2D,
  options: RebalanceWeightsOptions = {},
): tf.Tensor1D {
  const { lambda = 0.5, sigma = 5 } = options;
  checkRank("rebalance", "prior", prior, 1);
  checkRank("rebalance", "centers", centers, 2, 2);
  if (prior.shape[0] !== centers.shape[0]) {
    throw new TypeError(
      `Cannot rebalance: prior and centers must have the same Q, received ${prior.shape[0]} and ${
        centers.shape[0]
      }`,
    );
  }
  if (!(lambda >= 0 && lambda <= 1)) {
    throw new RangeError(`Cannot rebalance: lambda must be in [0, 1], received ${lambda}`);
  }
  return tf.tidy(() => {
    const q = prior.shape[0];
    let p = tf.div(prior, tf.maximum(tf.sum(prior), 1e-12));
    if (sigma > 0) {
      const kernel = tf.exp(tf.div(tf.neg(squaredDistances(centers, centers)), 2 * sigma * sigma));
      const smooth = tf.sum(tf.mul(kernel, tf.reshape(p, [1, q])), 1);
      p = tf.div(smooth, tf.sum(smooth));
    }
    const w = tf.reciprocal(tf.add(tf.mul(p, 1 - lambda), lambda / q));
    return tf.div(w, tf.sum(tf.mul(p, w))) as tf.Tensor1D;
  });
}

/** Options for {@linkcode annealedMean}. */
export interface AnnealedMeanOptions {
  /** Temperature: 1 gives the mean, towards 0 the mode. @default {0.38} (Zhang et al. 2016) */
  temperature?: number;
}

/**
 * Annealed-mean decoding (Zhang et al. 2016, Eq. 5): `H(Z) = E[f_T(Z)]` with
 * `f_T(z) = exp(log z / T) / Σ exp(log z / T)`, from logits (so `log z` is `log_softmax`).
 *
 * @param logits bin logits, shape `[N, Q]`
 * @param centers bin centres, shape `[Q, 2]`
 * @param options temperature
 * @returns ab values, shape `[N, 2]`
 * @throws {TypeError} for wrong shapes
 * @throws {RangeError} unless temperature > 0
 *
 * @example
 * ```ts
 * import { annealedMean } from "./ab_bins.ts";
 * import { tf } from "../../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const centers = tf.tensor2d([[0, 0], [10, 20]]);
 * const ab = annealedMean(tf.tensor2d([[0, 100]]), centers).dataSync();
 * assert.ok(Math.abs(ab[0] - 10) < 1e-4 && Math.abs(ab[1] - 20) < 1e-4);
 * ```
 */
export function annealedMean(
  logits: tf.Tensor2D,
  centers: tf.Tensor2D,
  options: AnnealedMeanOptions = {},
): tf.Tensor2D {
  const { temperature = 0.38 } = options;
  checkRank("decode ab", "logits", logits, 2);
  checkRank("decode ab", "centers", centers, 2, 2);
  if (logits.shape[1] !== centers.shape[0]) {
    throw new TypeError(
      `Cannot decode ab: logits must have ${centers.shape[0]} columns, received [${logits.shape}]`,
    );
  }
  if (!(temperature > 0)) {
    throw new RangeError(`Cannot decode ab: temperature must be > 0, received ${temperature}`);
  }
  return tf.tidy(() =>
    tf.matMul(tf.softmax(tf.div(tf.logSoftmax(logits), temperature)), centers) as tf.Tensor2D
  );
}
