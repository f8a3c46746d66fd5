/** One line of `metrics.jsonl`. */
export interface MetricsRecord {
  /** `step` for a training step, `eval` for a monitor evaluation. */
  kind: "step" | "eval";
  /** Global step: for `step` records the step's index (from 0), for `eval` the steps done. */
  step: number;
  /** Epoch index (from 0). */
  epoch: number;
  /** Anything else: loss, lr, zStd, top1, imagesPerSecond, knnTop1... */
  [key: string]: number | string;
}

/**
 * Appends records to a JSON Lines file (`metrics.jsonl`), one object per line. Opening it for a
 * resumed run drops the records at or after the checkpoint's step, which the interrupted run
 * wrote after its last checkpoint, so the file reads as one uninterrupted run.
 *
 * @example
 * ```ts
 * import { MetricsLog } from "./metrics_log.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const log = await MetricsLog.open(`${dir}/metrics.jsonl`);
 * await log.append({ kind: "step", step: 0, epoch: 0, loss: 1.5 });
 * await log.append({ kind: "step", step: 1, epoch: 0, loss: 1.2 });
 * const resumed = await MetricsLog.open(`${dir}/metrics.jsonl`, { keepBefore: 1 });
 * assert.deepEqual((await resumed.read()).map((r) => r.step), [0]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class MetricsLog {
  private constructor(readonly path: string) {}

  /**
   * Opens (creating or truncating) the log.
   *
   * @param path file path
   * @param options `keepBefore`: keep existing records whose step is below it (resume); when
   *   omitted the file starts empty
   * @returns the log
   */
  static async open(path: string, options: { keepBefore?: number } = {}): Promise<MetricsLog> {
    const log = new MetricsLog(path);
    let kept: MetricsRecord[] = [];
    if (options.keepBefore !== undefined) {
      kept = (await log.read()).filter((r) =>
        r.kind === "eval" ? r.step <= options.keepBefore! : r.step < options.keepBefore!
      );
    }
    await Deno.writeTextFile(path, kept.map((r) => JSON.stringify(r) + "\n").join(""));
    return log;
  }

  /**
   * Appends one record.
   *
   * @param record the figures of one step or evaluation
   */
  async append(record: MetricsRecord): Promise<void> {
    await Deno.writeTextFile(this.path, JSON.stringify(record) + "\n", { append: true });
  }

  /**
   * Reads every record (none when the file does not exist; a torn line is skipped).
   *
   * @returns the records in order
   */
  async read(): Promise<MetricsRecord[]> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    const records: MetricsRecord[] = [];
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        // a line torn by a killed process: it belongs to no checkpoint, drop it
      }
    }
    return records;
  }
}
