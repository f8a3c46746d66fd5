/**
 * Doersch et al.'s patch pairs (arXiv:1505.05192, Sec. 3 and 4): a centre patch and one of its
 * 8 neighbours, separated by a gap and jittered.
 *
 * @module
 */
import { tf } from "../../backend/tf.ts";
import { pcg32 } from "../../data/prng.ts";

/** Options for {@linkcode patchPairs}. */
export interface PatchPairsOptions {
  /**
   * Patch side as a fraction of the image's shorter side; the largest side for which the 3x3
   * layout (3 patches, 2 gaps, jitter on both ends) fits is used.
   * @default {96 / 398} (Doersch et al.: 96 px patches whose layout spans 3 * 96 + 2 * 48 + 2 * 7
   * = 398 px, scaled to the input)
   */
  patch?: number;
  /** Patch side in pixels; overrides `patch`. @default {from patch} */
  patchSize?: number;
  /** Gap between neighbouring patches, as a fraction of the patch side. @default {0.5} (48 / 96 px) */
  gap?: number;
  /**
   * Largest jitter of each patch in each direction, as a fraction of the patch side; at least 1
   * px when positive, and below half the gap (rounded down to `(gap - 1) / 2` px).
   * @default {7 / 96} (Doersch et al.: up to 7 px at 96 px patches)
   */
  jitter?: number;
}

/** What {@linkcode patchPairs} returns. */
export interface PatchPairs {
  /** Centre patches `[B, P, P, C]`. */
  centres: tf.Tensor4D;
  /** Neighbour patches `[B, P, P, C]`. */
  neighbours: tf.Tensor4D;
  /** Neighbour label per image (0..7: grid positions 0-3, 5-8 row-major, the centre skipped). */
  labels: Int32Array;
  /** The geometry used, in pixels. */
  geometry: { patch: number; gap: number; jitter: number };
}

/**
 * Samples one (centre, neighbour) patch pair per image, Doersch et al. 2015: a 3x3 layout of
 * patches of side P with gaps G between them is placed at a random position in the image, and
 * each patch is moved by an independent jitter in `[-J, J]` on each axis; the neighbour is one of
 * the 8 around the centre, uniformly. Since `G > 2J`, two patches never touch (at least
 * `G - 2J >= 1` pixel between them), so low-level continuity (edges, textures running across)
 * cannot solve the task. Pixel-exact (a gather).
 *
 * @param images images, shape `[B, H, W, C]`
 * @param seed seed of the layout positions, jitter and labels
 * @param options patch, patchSize, gap, jitter
 * @returns centres, neighbours, labels and the geometry
 * @throws {TypeError} unless images has rank 4
 * @throws {RangeError} when the layout does not fit or the gap is not wider than twice the jitter
 *
 * @example
 * ```ts
 * import { patchPairs } from "./patch_pairs.ts";
 * import { tf } from "../../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { centres, geometry } = patchPairs(tf.zeros([2, 28, 28, 1]) as tf.Tensor4D, 0);
 * assert.deepEqual(geometry, { patch: 6, gap: 3, jitter: 1 });
 * assert.deepEqual(centres.shape, [2, 6, 6, 1]);
 * ```
 */
export function patchPairs(
  images: tf.Tensor4D,
  seed: number,
  options: PatchPairsOptions = {},
): PatchPairs {
  if (!(images instanceof tf.Tensor) || images.rank !== 4) {
    throw new TypeError(
      `Cannot sample patch pairs: expected images [B, H, W, C], received ${
        images instanceof tf.Tensor ? `[${images.shape}]` : String(images)
      }`,
    );
  }
  const { patch = 96 / 398, gap = 0.5, jitter = 7 / 96, patchSize } = options;
  for (const [name, v] of [["patch", patch], ["gap", gap], ["jitter", jitter]] as const) {
    if (!(typeof v === "number" && v >= 0 && Number.isFinite(v))) {
      throw new RangeError(`Cannot sample patch pairs: ${name} must be >= 0, received ${v}`);
    }
  }
  const [b, h, w, channels] = images.shape;
  const side = Math.min(h, w);
  const layout = (p: number) => {
    const g = Math.round(gap * p);
    // at least 1 px, but below half the gap: the patches never touch
    const j = jitter > 0
      ? Math.max(0, Math.min(Math.max(1, Math.round(jitter * p)), Math.floor((g - 1) / 2)))
      : 0;
    return { patch: p, gap: g, jitter: j, span: 3 * p + 2 * g + 2 * j };
  };
  let geo = layout(patchSize ?? Math.max(1, Math.floor(patch * side)));
  if (patchSize === undefined) {
    while (geo.patch > 1 && geo.span > side) geo = layout(geo.patch - 1);
  }
  if (!Number.isInteger(geo.patch) || geo.patch < 1 || geo.span > side) {
    throw new RangeError(
      `Cannot sample patch pairs: expected 3 patches, 2 gaps and 2 jitters within ${side} px, received patch ${geo.patch}, gap ${geo.gap}, jitter ${geo.jitter} (${geo.span} px)`,
    );
  }
  if (geo.gap <= 2 * geo.jitter) {
    throw new RangeError(
      `Cannot sample patch pairs: expected a gap wider than twice the jitter (patches must not touch), received gap ${geo.gap}, jitter ${geo.jitter}`,
    );
  }
  const { patch: p, gap: g, jitter: j, span } = geo;
  const prng = pcg32(seed);
  const int = (n: number) => Math.floor(prng() * n); // uniform in [0, n)
  const labels = new Int32Array(b);
  const index = new Int32Array(2 * b * p * p);
  let k = 0;
  const cut = (i: number, y: number, x: number) => {
    for (let dy = 0; dy < p; dy++) {
      for (let dx = 0; dx < p; dx++) index[k++] = (i * h + y + dy) * w + x + dx;
    }
  };
  const corners: [number, number][] = [];
  for (let i = 0; i < b; i++) {
    const top = int(h - span + 1), left = int(w - span + 1);
    const label = int(8);
    labels[i] = label;
    const position = label < 4 ? label : label + 1;
    for (const q of [4, position]) {
      const y = top + j + Math.floor(q / 3) * (p + g) + int(2 * j + 1) - j;
      const x = left + j + (q % 3) * (p + g) + int(2 * j + 1) - j;
      corners.push([y, x]);
    }
  }
  // centres first, then neighbours
  for (let i = 0; i < b; i++) cut(i, ...corners[2 * i]);
  for (let i = 0; i < b; i++) cut(i, ...corners[2 * i + 1]);
  const [centres, neighbours] = tf.tidy(() =>
    tf.split(
      tf.reshape(
        tf.gather(tf.reshape(images, [b * h * w, channels]), tf.tensor1d(index, "int32")),
        [2 * b, p, p, channels],
      ),
      2,
    ) as tf.Tensor4D[]
  );
  return { centres, neighbours, labels, geometry: { patch: p, gap: g, jitter: j } };
}
