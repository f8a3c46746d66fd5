import { tf } from "../backend/tf.ts";

/**
 * Target label sequences for CTC: ragged arrays, or padded `[B, S]` labels with their lengths.
 */
export type CtcTargets = number[][] | {
  /** Padded labels, shape `[B, S]` (a tensor, nested arrays, or a flat row-major array). */
  labels: tf.Tensor | number[][] | ArrayLike<number>;
  /** Length of each row's label sequence, shape `[B]`. */
  lengths: tf.Tensor | ArrayLike<number>;
};

/** Turns CTC targets into ragged integer sequences, checking their shape. */
export function raggedTargets(targets: CtcTargets, batch: number, what: string): number[][] {
  if (Array.isArray(targets)) {
    if (targets.length !== batch) {
      throw new TypeError(
        `Cannot ${what}: expected ${batch} label sequences, received ${targets.length}`,
      );
    }
    return targets.map((row) => Array.from(row));
  }
  const lengths = Array.from(
    targets.lengths instanceof tf.Tensor
      ? targets.lengths.dataSync() as ArrayLike<number>
      : targets.lengths,
  );
  if (lengths.length !== batch) {
    throw new TypeError(
      `Cannot ${what}: expected ${batch} label lengths, received ${lengths.length}`,
    );
  }
  let flat: ArrayLike<number>;
  let width: number;
  const l = targets.labels;
  if (l instanceof tf.Tensor) {
    flat = l.dataSync() as ArrayLike<number>;
    width = l.rank === 2 ? l.shape[1] as number : flat.length / batch;
  } else if (Array.isArray(l) && Array.isArray(l[0])) {
    const rows = l as number[][];
    width = rows.reduce((m, r) => Math.max(m, r.length), 0);
    flat = rows.flatMap((r) => [...r, ...new Array(width - r.length).fill(0)]);
  } else {
    flat = l as ArrayLike<number>;
    width = flat.length / batch;
  }
  if (!Number.isInteger(width) || flat.length !== width * batch) {
    throw new TypeError(
      `Cannot ${what}: padded labels must hold ${batch} rows, received ${flat.length} values`,
    );
  }
  return lengths.map((n, b) => {
    if (!Number.isInteger(n) || n < 0 || n > width) {
      throw new RangeError(
        `Cannot ${what}: label length must be an integer in [0, ${width}], received ${n} for row ${b}`,
      );
    }
    return Array.from({ length: n }, (_, s) => flat[b * width + s]);
  });
}

/** Options for the CTC decoders. */
export interface CtcDecodeOptions {
  /**
   * Index of the blank symbol.
   * @default C (the last of the `C + 1` scores)
   */
  blank?: number;
  /**
   * Number of valid frames per row, shape `[B]`.
   * @default T for every row
   */
  logitLengths?: ArrayLike<number>;
}

/** Reads `[B, T, K]` scores, validating the options shared by the CTC decoders. */
export function readScores(
  logits: tf.Tensor3D,
  options: CtcDecodeOptions,
  what: string,
): {
  values: ArrayLike<number>;
  batch: number;
  frames: number;
  k: number;
  blank: number;
  lengths: number[];
} {
  if (!(logits instanceof tf.Tensor) || logits.rank !== 3) {
    throw new TypeError(
      `Cannot ${what}: logits must have shape [B, T, C + 1], received ${
        logits instanceof tf.Tensor ? `[${logits.shape}]` : typeof logits
      }`,
    );
  }
  const [batch, frames, k] = logits.shape;
  const { blank = k - 1, logitLengths } = options;
  if (!Number.isInteger(blank) || blank < 0 || blank >= k) {
    throw new RangeError(
      `Cannot ${what}: blank must be an integer in [0, ${k - 1}], received ${blank}`,
    );
  }
  const lengths = logitLengths ? Array.from(logitLengths) : new Array(batch).fill(frames);
  if (
    lengths.length !== batch || lengths.some((n) => !Number.isInteger(n) || n < 0 || n > frames)
  ) {
    throw new RangeError(
      `Cannot ${what}: expected ${batch} logit lengths in [0, ${frames}], received [${lengths}]`,
    );
  }
  return { values: logits.dataSync() as ArrayLike<number>, batch, frames, k, blank, lengths };
}
