/**
 * Not a test: the meta of a table report written with `deno task table --steps 5` before
 * `--views`, `--widths` and `--features` existed (so `mnistAugment`, 16-32-64, pooled), shared by
 * the tests that check what `--resume` refuses.
 *
 * @module
 */

/** A fresh copy of that report's meta. */
export function oldTableMeta() {
  return {
    command: "deno task table --steps 5",
    steps: 5,
    batchSize: 64,
    seeds: [0],
    probeEpochs: 10,
    recipe: "default",
    backend: "cpu",
    date: "",
  };
}
