/**
 * In-memory labeled image sets (MNIST, Fashion-MNIST): all pixels in one array.
 *
 * @module
 */
import type { Dataset, Sample } from "./dataset.ts";
import { checkIndex } from "./_util.ts";

/**
 * A labeled dataset held in memory, with its raw arrays exposed for fast bulk use. `get` is
 * synchronous and returns views into `images` (no copy): do not write into them.
 *
 * @example
 * ```ts
 * import { inMemoryDataset } from "./in_memory.ts";
 * import assert from "node:assert/strict";
 * const ds = inMemoryDataset("tiny", new Uint8Array(8), Uint8Array.of(0, 1), [2, 2, 1], 2);
 * assert.equal(ds.get(1).label, 1);
 * assert.equal(ds.get(1).image.length, 4);
 * ```
 */
export interface InMemoryDataset extends Dataset {
  /** All pixels, `[length, H, W, C]` row-major. */
  readonly images: Uint8Array;
  /** All labels, one per image. */
  readonly labels: Uint8Array;
  /** Number of classes. */
  readonly numClasses: number;
  /** The sample at `index`, synchronously. */
  get(index: number): Sample;
}

/**
 * Wraps raw arrays as an {@linkcode InMemoryDataset}.
 *
 * @param name dataset name
 * @param images pixels, `[n, H, W, C]` row-major uint8
 * @param labels one class index per image
 * @param shape `[H, W, C]`
 * @param numClasses number of classes
 * @returns the dataset
 *
 * @example
 * ```ts
 * import { inMemoryDataset } from "./in_memory.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => inMemoryDataset("bad", new Uint8Array(7), Uint8Array.of(0, 1), [2, 2, 1], 2));
 * ```
 */
export function inMemoryDataset(
  name: string,
  images: Uint8Array,
  labels: Uint8Array,
  shape: [number, number, number],
  numClasses: number,
): InMemoryDataset {
  const size = shape[0] * shape[1] * shape[2];
  if (images.length !== labels.length * size) {
    throw new TypeError(
      `Cannot build dataset ${name}: expected ${labels.length} images of [${shape}] (${
        labels.length * size
      } bytes), received ${images.length} bytes`,
    );
  }
  const length = labels.length;
  return {
    name,
    length,
    shape,
    numClasses,
    images,
    labels,
    get(index: number): Sample {
      checkIndex(name, index, length);
      return { image: images.subarray(index * size, (index + 1) * size), label: labels[index] };
    },
  };
}
