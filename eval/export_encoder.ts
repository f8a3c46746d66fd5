import { tf } from "../backend/tf.ts";
import type * as tfl from "@tensorflow/tfjs-layers";
import { joinPath, writeAtomic } from "./_file_io.ts";

/** What {@linkcode exportEncoder} wrote. */
export interface ExportResult {
  /** Path of `model.json` (topology and weights manifest). */
  modelPath: string;
  /** Path of `weights.bin` (all weights, little-endian float32, in manifest order). */
  weightsPath: string;
  /** Bytes of weight data. */
  weightBytes: number;
}

/**
 * Writes an encoder as a standard TensorFlow.js LayersModel: `dir/model.json` (Keras topology
 * plus a weights manifest) and `dir/weights.bin`, the layout `tfjs-converter` and `model.save`
 * produce. Plain TensorFlow.js loads it with `tf.loadLayersModel("file://dir/model.json")` in
 * Node (tfjs-node) or from a URL in a browser, and gives the same embeddings; in Deno use
 * {@linkcode loadEncoder}. Models that use custom layer classes need those classes registered
 * (imported) where they are loaded. Files are written through temporary names.
 *
 * @param encoder the model to export
 * @param dir the output folder (created if needed)
 * @returns the paths written
 *
 * @example
 * ```ts
 * import { exportEncoder, loadEncoder } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import assert from "node:assert/strict";
 * const enc = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2 })] });
 * const dir = await Deno.makeTempDir();
 * await exportEncoder(enc, dir);
 * const back = await loadEncoder(dir);
 * const x = tf.ones([1, 3]);
 * assert.deepEqual((back.predict(x) as tf.Tensor).dataSync(), (enc.predict(x) as tf.Tensor).dataSync());
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function exportEncoder(encoder: tfl.LayersModel, dir: string): Promise<ExportResult> {
  if (!encoder || typeof (encoder as { save?: unknown }).save !== "function") {
    throw new TypeError(
      `Cannot export an encoder: expected a tf.LayersModel, received ${typeof encoder}`,
    );
  }
  await Deno.mkdir(dir, { recursive: true });
  const modelPath = joinPath(dir, "model.json");
  const weightsPath = joinPath(dir, "weights.bin");
  let weightBytes = 0;
  await encoder.save(tf.io.withSaveHandler(async (artifacts) => {
    const data = artifacts.weightData === undefined
      ? new ArrayBuffer(0)
      : tf.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer | ArrayBuffer[]);
    weightBytes = data.byteLength;
    const json: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology as tf.io.ModelJSON["modelTopology"],
      format: artifacts.format ?? "layers-model",
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs ?? [] }],
    };
    if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
    if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
    await writeAtomic(weightsPath, new Uint8Array(data));
    await writeAtomic(modelPath, JSON.stringify(json));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }));
  return { modelPath, weightsPath, weightBytes };
}
