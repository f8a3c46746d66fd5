/**
 * The contract every data source implements: a random-access collection of HWC uint8 images with
 * an optional label or transcript.
 *
 * @module
 */

/** One example: an HWC uint8 image and what is known about it. */
export interface Sample {
  /** Pixels, row-major `[H, W, C]`, uint8 (0 = black, 255 = white). */
  image: Uint8Array;
  /** Class index in `[0, numClasses)`, when the source is labeled. */
  label?: number;
  /** Transcript, for text-line sources. */
  text?: string;
}

/**
 * A random-access source of samples of one fixed shape. `get` may be synchronous (in-memory
 * sources such as MNIST) or return a Promise (sources that decode or render).
 *
 * @example
 * ```ts
 * import type { Dataset } from "./dataset.ts";
 * import assert from "node:assert/strict";
 * const ones: Dataset = {
 *   name: "ones",
 *   length: 4,
 *   shape: [2, 2, 1],
 *   get: (i) => ({ image: new Uint8Array(4).fill(i), label: i % 2 }),
 * };
 * assert.equal((await ones.get(3)).image[0], 3);
 * ```
 */
export interface Dataset {
  /** A short human-readable name, e.g. `"mnist-train"`. */
  readonly name: string;
  /** Number of samples; valid indices are `0 .. length - 1`. */
  readonly length: number;
  /** `[H, W, C]` of every image. */
  readonly shape: [number, number, number];
  /** Number of classes, for labeled sources. */
  readonly numClasses?: number;
  /** The characters transcripts are drawn from, for text-line sources. */
  readonly charset?: string;
  /** The sample at `index`; throws (or rejects) when the item cannot be produced. */
  get(index: number): Sample | Promise<Sample>;
}

/**
 * Raised when data is unusable: a missing dataset package, a file that cannot be decoded, a
 * folder or manifest where nothing usable remains. Callers are expected to catch it (the loader
 * skips items that throw it and counts them).
 *
 * @example
 * ```ts
 * import { DatasetError } from "./dataset.ts";
 * import assert from "node:assert/strict";
 * const e = new DatasetError("Cannot load images: the folder is empty");
 * assert.ok(e instanceof Error);
 * assert.equal(e.name, "DatasetError");
 * ```
 */
export class DatasetError extends Error {
  /**
   * Builds the error.
   *
   * @param message what was expected and what was found
   * @param options standard error options (`cause`)
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DatasetError";
  }
}
