// The files train() leaves in a run folder besides metrics.jsonl and checkpoint/: config.json
// (what the run was) and encoder/ (the backbone as a plain tfjs LayersModel).
import type * as tfl from "@tensorflow/tfjs-layers";
import { exportEncoder } from "../eval/export_encoder.ts";

/** Writes `outDir/config.json` unless the folder has one (a CLI's richer record, a resume). */
export async function writeRunConfig(
  outDir: string,
  record: Record<string, unknown>,
): Promise<void> {
  await Deno.mkdir(outDir, { recursive: true });
  const path = `${outDir}/config.json`;
  try {
    await Deno.stat(path);
    return;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  await Deno.writeTextFile(tmp, JSON.stringify(record, null, 2) + "\n");
  await Deno.rename(tmp, path);
}

/** The encoder's shapes and size, recorded in config.json (enough to check a rebuilt one). */
export function encoderSummary(encoder: tfl.LayersModel): Record<string, unknown> {
  return {
    inputShape: encoder.inputs[0].shape.slice(1),
    outputShape: encoder.outputs[0].shape.slice(1),
    parameters: encoder.countParams(),
  };
}

/** Exports the encoder to `outDir/encoder/` (model.json + weights.bin); returns the folder. */
export async function exportRunEncoder(
  outDir: string,
  encoder: tfl.LayersModel,
): Promise<string> {
  const dir = `${outDir}/encoder`;
  await exportEncoder(encoder, dir);
  return dir;
}
