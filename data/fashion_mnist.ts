/**
 * Fashion-MNIST (Xiao et al. 2017, arXiv:1708.07747) from Debian's `dataset-fashion-mnist`.
 *
 * @module
 */
import { DatasetError } from "./dataset.ts";
import type { InMemoryDataset } from "./in_memory.ts";
import { cachedIdxPair } from "./_idx.ts";

/** Options for {@linkcode fashionMnist}. */
export interface FashionMnistOptions {
  /**
   * Folder holding `train-images-idx3-ubyte.gz` and friends (plain or `.gz`).
   * @default "/usr/share/datasets/fashion-mnist"
   */
  dir?: string;
}

/** Class names of Fashion-MNIST, by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/**
 * Fashion-MNIST: 60000 train / 10000 test images of clothing, shape `[28, 28, 1]`, 10 classes
 * (names in {@linkcode FASHION_MNIST_CLASSES}), 6000 per class in train. Loaded once per process.
 * Throws a {@linkcode DatasetError} saying how to install the files when they are missing.
 * Permissions: `--allow-read` (of `options.dir`).
 *
 * @param split `"train"` or `"test"`
 * @param options where the IDX files are
 * @returns the split as an in-memory dataset
 *
 * @example
 * ```ts
 * import { fashionMnist } from "./fashion_mnist.ts";
 * import assert from "node:assert/strict";
 * const test = await fashionMnist("test");
 * assert.equal(test.length, 10000);
 * assert.equal(test.numClasses, 10);
 * ```
 */
export async function fashionMnist(
  split: "train" | "test",
  options: FashionMnistOptions = {},
): Promise<InMemoryDataset> {
  const { dir = "/usr/share/datasets/fashion-mnist" } = options;
  try {
    return await cachedIdxPair("fashion-mnist", dir, split);
  } catch (e) {
    if (e instanceof DatasetError && !options.dir) {
      throw new DatasetError(
        `${e.message}; install it with \`apt-get install dataset-fashion-mnist\` or pass options.dir`,
        { cause: e },
      );
    }
    throw e;
  }
}
