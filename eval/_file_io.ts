import { tf } from "../backend/tf.ts";

/** Writes `bytes` to `path` through a temporary name, so a crash never leaves a torn file. */
export async function writeAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  if (typeof bytes === "string") await Deno.writeTextFile(tmp, bytes);
  else await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, path);
}

/** Joins a directory and a relative path with `/`. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

/**
 * A tfjs load handler reading `model.json` and the weight files its manifest names (relative to
 * it), as tfjs-node's `file://` handler does.
 */
export function fileLoadHandler(modelJsonPath: string): tf.io.IOHandler {
  const dir = modelJsonPath.includes("/")
    ? modelJsonPath.slice(0, modelJsonPath.lastIndexOf("/"))
    : ".";
  return {
    load: async () => {
      const json = JSON.parse(await Deno.readTextFile(modelJsonPath)) as tf.io.ModelJSON;
      return await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const bytes = await Deno.readFile(joinPath(dir, p));
            buffers.push(
              bytes.buffer.slice(
                bytes.byteOffset,
                bytes.byteOffset + bytes.byteLength,
              ) as ArrayBuffer,
            );
          }
        }
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}
