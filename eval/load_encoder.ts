import * as tfl from "@tensorflow/tfjs-layers";
import { fileLoadHandler, joinPath } from "./_file_io.ts";

/**
 * Loads a TensorFlow.js LayersModel from a folder holding `model.json` and the weight files its
 * manifest names (what {@linkcode exportEncoder}, `model.save("file://...")` or
 * `tensorflowjs_converter` write), in Deno without tfjs-node.
 *
 * @param path the folder, or the path of its `model.json`
 * @returns the model
 *
 * @example
 * ```ts
 * import { exportEncoder, loadEncoder } from "./mod.ts";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await exportEncoder(tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 3 })] }), dir);
 * assert.deepEqual((await loadEncoder(dir)).outputs[0].shape, [null, 3]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadEncoder(path: string): Promise<tfl.LayersModel> {
  const modelPath = path.endsWith(".json") ? path : joinPath(path, "model.json");
  try {
    await Deno.stat(modelPath);
  } catch (e) {
    throw new TypeError(`Cannot load an encoder: expected a model.json at ${modelPath}`, {
      cause: e,
    });
  }
  return await tfl.loadLayersModel(fileLoadHandler(modelPath));
}
