import * as tfl from "@tensorflow/tfjs-layers";
import { fileLoadHandler, joinPath } from "./_file_io.ts";

/**
 * Loads a TensorFlow.js LayersModel from a folder holding `model.json` and the weight files its
 * manifest names (what {@linkcode exportEncoder}, `model.save("file://...")` or
 * `tensorflowjs_converter` write), in Deno without tfjs-node. A run folder of `train()` or
 * `deno task pretrain` works too: its encoder is in `encoder/`. Needs `--allow-read`.
 *
 * @param path the folder, a run folder, or the path of a `model.json`
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
  const candidates = path.endsWith(".json")
    ? [path]
    : [joinPath(path, "model.json"), joinPath(joinPath(path, "encoder"), "model.json")];
  let modelPath: string | undefined;
  let cause: unknown;
  for (const p of candidates) {
    try {
      await Deno.stat(p);
      modelPath = p;
      break;
    } catch (e) {
      cause ??= e;
    }
  }
  if (!modelPath) {
    throw new TypeError(
      `Cannot load an encoder: expected a model.json at ${candidates.join(" or ")}`,
      { cause },
    );
  }
  return await tfl.loadLayersModel(fileLoadHandler(modelPath));
}
