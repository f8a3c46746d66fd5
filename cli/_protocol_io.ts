/**
 * Files and models of a protocol run: JSON written atomically, saved models loaded fresh, the
 * per-step losses of a pretraining stage, and the context every stage receives.
 *
 * @module
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { loadEncoder } from "../eval/mod.ts";
import type { World } from "../distributed/mod.ts";
import type { ProtocolData } from "./_protocol_data.ts";
import type { Plan } from "./_protocol_plan.ts";
import type { PretrainRecord } from "./_protocol_report.ts";

export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

export async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(value, null, 2) + "\n");
  await Deno.rename(tmp, path);
}

/** A fresh copy of a saved model. */
export async function load(dir: string): Promise<tfl.LayersModel> {
  return await loadEncoder(dir);
}

/** Everything a stage needs. */
export interface Context {
  p: Plan;
  data: ProtocolData;
  backend: string;
  say: (line: string) => void;
  quiet: boolean;
  /** The mpirun job (null in one process): every rank pretrains, rank 0 alone writes. */
  world: World | null;
  /** The seed of this pass: nets, shuffling and views (the data stay fixed by `--seed`). */
  seed: number;
  /** This seed's folder (the run folder itself for a run without `--seeds`). */
  dir: string;
  /** Report from the stages finished so far: a stage not finished returns null, runs nothing. */
  reportOnly?: boolean;
  /** With `reportOnly`: where unfinished stages stand (a pretraining's steps so far). */
  notes?: string[];
  /** With `reportOnly`: the losses so far of unfinished pretraining stages, for the plots. */
  partialPretraining?: PretrainRecord[];
  /** Called when a stage ends: its key, its seconds, whether it ran (false: done earlier). */
  finished?: (key: string, seconds: number, ran: boolean) => void;
}

export async function stepLosses(path: string): Promise<number[]> {
  const text = await Deno.readTextFile(path);
  const byStep = new Map<number, number>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    if (r.kind === "step" && typeof r.loss === "number") byStep.set(r.step, r.loss);
  }
  return [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

export function disposeModels(x: unknown, keep: Set<unknown>, seen = new Set<unknown>()): void {
  if (!x || typeof x !== "object" || seen.has(x)) return;
  seen.add(x);
  if (x instanceof tfl.LayersModel) {
    if (!keep.has(x)) {
      try {
        x.dispose();
      } catch {
        // a model that shares its layers with one disposed before
      }
    }
    return;
  }
  if (Array.isArray(x)) x.forEach((v) => disposeModels(v, keep, seen));
  else if (Object.getPrototypeOf(x) === Object.prototype) {
    Object.values(x).forEach((v) => disposeModels(v, keep, seen));
  }
}
