/**
 * `deno task pretrain`'s last stage: `results.json` and the lines a finished run prints (where
 * its encoder is, the final loss and speed, the kNN accuracy against the random-init encoder and
 * raw pixels), and the optional `--export`.
 *
 * @module
 */
import { exportEncoder } from "../eval/export_encoder.ts";
import type { TrainResult } from "../train/mod.ts";
import type { PretrainRun } from "./_pretrain_setup.ts";

/** What a finished run reports (also written to `results.json`). */
export interface PretrainResults {
  /** The method (`--method`). */
  method: string;
  /** The dataset (`--dataset`). */
  dataset: string;
  /** The encoder architecture. */
  encoder: string;
  /** The backend the run used. */
  backend: string;
  /** Optimizer steps done. */
  steps: number;
  /** The last step's loss. */
  finalLoss: number;
  /** Wall time of the training, in seconds. */
  seconds: number;
  /** Training throughput. */
  imagesPerSecond: number;
  /** The kNN monitor's last top-1 accuracy (null without labels or with --knn-bank 0). */
  knnTop1: number | null;
  /** The same kNN at step 0: the encoder at random initialization. */
  knnTop1RandomInit: number | null;
  /** The same kNN on the raw pixels of the same bank and queries (the trivial baseline). */
  knnTop1RawPixels: number | null;
  /** The run folder. */
  runDir: string;
}

/** The kNN figures of a run with a labeled held-out set. */
export interface KnnReport {
  /** The k used (at most the bank). */
  k: number;
  /** Held-out images classified. */
  queries: number;
  /** The same kNN on raw pixels, or null. */
  rawPixels: number | null;
}

/**
 * Writes `results.json`, the optional `--export` and prints the run's summary (rank 0 only).
 *
 * @param run the run
 * @param result what `train` returned
 * @param knn the kNN monitor's k, query count and raw-pixel baseline (null without one)
 * @param t0 `performance.now()` when training started
 * @returns the results written
 */
export async function reportPretrain(
  run: PretrainRun,
  result: TrainResult<unknown>,
  knn: KnnReport | null,
  t0: number,
): Promise<PretrainResults> {
  const { o, method, datasetName, encoder, backend, runDir, data, setup } = run;
  const rawPixels = knn?.rawPixels ?? null;
  const evals = result.evaluations;
  const all = await readEvals(`${runDir}/metrics.jsonl`);
  const initial = all.find((r) => r.step === 0)?.knnTop1 ?? null;
  const final = evals.length > 0 ? evals[evals.length - 1].knnTop1 as number : null;
  const lastLoss = result.history.length > 0
    ? result.history[result.history.length - 1].loss as number
    : NaN;
  const results: PretrainResults = {
    method,
    dataset: datasetName,
    encoder,
    backend,
    steps: result.steps,
    finalLoss: lastLoss,
    seconds: (performance.now() - t0) / 1000,
    imagesPerSecond: result.imagesPerSecond,
    knnTop1: final,
    knnTop1RandomInit: initial as number | null,
    knnTop1RawPixels: rawPixels,
    runDir,
  };
  await Deno.writeTextFile(`${runDir}/results.json`, JSON.stringify(results, null, 2) + "\n");
  console.log(`run written to ${runDir}`);
  if (result.encoder) {
    console.log(`encoder: ${result.encoder} (tfjs LayersModel: loadEncoder, a browser)`);
  }
  if (o.export) {
    await exportEncoder(setup.encoder, o.export as string);
    console.log(`encoder also written to ${o.export}`);
  }
  console.log(
    `${method}: ${result.steps} steps, final loss ${lastLoss.toFixed(4)}, ${
      result.imagesPerSecond.toFixed(1)
    } images/s on ${backend}`,
  );
  if (final !== null) {
    console.log(
      `kNN top-1 (k=${knn!.k}) on ${knn!.queries} held-out ${data.label} test images: ` +
        `${(100 * final).toFixed(1)}%` +
        (initial !== null
          ? ` vs ${(100 * (initial as number)).toFixed(1)}% for the random-init encoder`
          : "") +
        (rawPixels !== null ? ` and ${(100 * rawPixels).toFixed(1)}% for raw pixels` : ""),
    );
  }
  return results;
}

async function readEvals(path: string): Promise<Record<string, number>[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l)).filter((r) =>
    r.kind === "eval"
  );
}
