/**
 * `deno task pretrain`: self-supervised pretraining from the command line. Every option is listed
 * by `--help`; unknown options and bad values are errors. A run writes `runs/<name>/config.json`,
 * `metrics.jsonl`, `checkpoint/` and `results.json`, and prints the encoder's kNN accuracy
 * against the same encoder at random initialization when the data has labels.
 *
 * @example
 * ```ts ignore
 * // deno task pretrain --method simclr --dataset mnist --steps 300
 * ```
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { formatRecipe } from "../methods/mod.ts";
import { imagesOf, Loader } from "../data/mod.ts";
import {
  knnMonitor,
  knnRawPixels,
  recipeTrainOptions,
  train,
  type TrainOptions,
  treeTensors,
} from "../train/mod.ts";
import { dataParallel } from "../distributed/mod.ts";
import { givenOptions, type ParsedOptions, runCommand } from "./_args.ts";
import { PRETRAIN_OPTIONS, PRETRAIN_USAGE, SIMCLR_TUNED } from "./_pretrain_options.ts";
import { preparePretrain } from "./_pretrain_setup.ts";
import { type PretrainResults, reportPretrain } from "./_pretrain_report.ts";

export {
  DEFAULT_STEPS,
  PRETRAIN_DATASETS,
  PRETRAIN_OPTIONS,
  SIMCLR_TUNED,
} from "./_pretrain_options.ts";
export type { PretrainResults } from "./_pretrain_report.ts";
export type { OptionSpec } from "./_args.ts";

/**
 * Runs `deno task pretrain` with `args`; returns the exit code (0 done, 1 failed or diverged,
 * 2 bad command line) after printing to stdout/stderr.
 *
 * @param args the command-line arguments
 * @returns the exit code
 *
 * @example
 * ```ts
 * import { pretrainMain } from "./pretrain.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await pretrainMain(["--bogus"]), 2);
 * ```
 */
export function pretrainMain(args: string[]): Promise<number> {
  return runCommand(
    args,
    PRETRAIN_OPTIONS,
    PRETRAIN_USAGE,
    async (o) => (await pretrain(o, givenOptions(args, PRETRAIN_OPTIONS))) ? 0 : 1,
  );
}

/** Settings `--resume` may change (applied with a notice); any other given flag must match. */

async function pretrain(cli: ParsedOptions, given: ReadonlySet<string>): Promise<PretrainResults> {
  const run = await preparePretrain(cli, given);
  if ("done" in run) return run.done;
  const {
    o,
    world,
    ranks,
    lead,
    backend,
    method,
    data,
    encoder,
    batchSize,
    steps,
    stepsPerEpoch,
    recipe,
    runDir,
    setup,
    config,
    simclrTuned,
  } = run;
  const [h, w, c] = data.train.shape;

  const heldOut = data.labeled && data.test && (o.knnBank as number) > 0
    ? {
      bank: imagesOf(data.labeled, o.knnBank as number),
      queries: imagesOf(data.test, o.knnQueries as number),
    }
    : null;
  const heldOutSets = heldOut
    ? {
      trainImages: heldOut.bank.images,
      trainLabels: heldOut.bank.labels,
      testImages: heldOut.queries.images,
      testLabels: heldOut.queries.labels,
    }
    : null;
  // k beyond the bank votes with the whole bank: report the k actually used
  const knnK = Math.min(o.knnK as number, heldOut?.bank.labels.length ?? Infinity);
  if (heldOut && knnK < (o.knnK as number) && !o.quiet) {
    console.error(`--knn-k ${o.knnK} is more than the ${knnK} bank images: using k=${knnK}`);
  }
  const monitor = heldOutSets ? knnMonitor(setup.encoder, heldOutSets, { k: knnK }) : null;
  const rawPixels = heldOutSets ? knnRawPixels(heldOutSets, { k: knnK }) : null;

  const loaderSeed = o.seed as number;
  const trainOptions: TrainOptions<unknown> = {
    ...recipeTrainOptions(recipe, setup.nets, setup.method.trainable(setup.nets)),
    stepsPerEpoch,
    seed: o.seed as number,
    outDir: runDir,
    checkpointEvery: o.checkpointEvery as number,
    keepCheckpoints: (o.keepCheckpoints as number | undefined) ?? 2,
    resume: !!o.resume,
    config,
    progress: !o.quiet,
    evaluateAtStart: true,
    evaluateEvery: (o.evalEvery as number | undefined) ?? stepsPerEpoch,
    distributed: world
      ? dataParallel({ world, syncBatchNorm: !!o.syncBn, gatherNegatives: !o.localNegatives })
      : null,
  };
  if (o.clipNorm !== undefined) trainOptions.clipNorm = o.clipNorm as number;
  if (monitor) trainOptions.evaluate = () => monitor();

  if (!o.quiet) {
    console.error(
      `pretraining ${method} (${encoder} encoder) on ${data.label} [${h}x${w}x${c}], ${steps} steps of ${batchSize}${
        ranks > 1 ? ` (${ranks} ranks x ${o.batchSize})` : ""
      } ` +
        `on ${backend}; writing ${runDir}`,
    );
    console.error(formatRecipe(recipe));
    if (simclrTuned) {
      console.error(
        `simclr (tuned): NT-Xent temperature ${
          o.temperature ?? SIMCLR_TUNED.temperature
        }, projection head Dense -> ReLU -> Dense (the paper's, no BatchNorm)`,
      );
    }
  }
  const t0 = performance.now();
  try {
    const result = await train(
      setup as unknown as Parameters<typeof train>[0],
      (position) =>
        new Loader(data.train, {
          batchSize,
          seed: loaderSeed,
          epochs: Infinity,
          ...(position ? { position: position as never } : {}),
        }),
      trainOptions,
    );
    if (!lead) {
      tf.dispose(treeTensors(result.state));
      return { method, steps: result.steps, runDir } as PretrainResults;
    }
    const knn = heldOut ? { k: knnK, queries: heldOut.queries.labels.length, rawPixels } : null;
    const results = await reportPretrain(run, result, knn, t0);
    tf.dispose(treeTensors(result.state));
    return results;
  } finally {
    if (heldOut) tf.dispose([heldOut.bank.images, heldOut.queries.images]);
  }
}

if (import.meta.main) {
  Deno.exit(await pretrainMain(Deno.args));
}
