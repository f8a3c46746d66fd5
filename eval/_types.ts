/**
 * Structural types shared by the eval files. They are subsets of the `data/` contracts, so a
 * `Dataset` from `data/` satisfies them without eval importing it.
 *
 * @module
 */

/** One sample as `eval/` reads it: a `[H, W, C]` uint8 image, an optional class or text label. */
export interface EvalSample {
  /** Pixels, row-major `[H, W, C]`. */
  image: Uint8Array;
  /** Class index, for classification sets. */
  label?: number;
  /** Text of a line, for recognition sets. */
  text?: string;
}

/** An indexable set of images, `data/`'s `Dataset` or anything shaped like it. */
export interface EvalDataset {
  /** Number of samples. */
  length: number;
  /** Image shape `[H, W, C]`. */
  shape: readonly number[];
  /** Characters of the text labels, for recognition sets. */
  charset?: string | readonly string[];
  /** The sample at `i`. */
  get(i: number): EvalSample | Promise<EvalSample>;
}
