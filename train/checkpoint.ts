import { restoreTree, type SerializedTensor, serializeTree } from "./serialize.ts";

const FORMAT = "selfsup-checkpoint";
const VERSION = 1;
const BYTES: Record<SerializedTensor["dtype"], number> = { float32: 4, int32: 4, bool: 1 };

/**
 * Writes a checkpoint directory atomically: everything goes to a temporary sibling, which is
 * then renamed over `dir` (the previous checkpoint is moved aside first and removed last, and
 * {@linkcode loadCheckpoint} falls back to it), so a killed run never leaves a torn checkpoint.
 * The directory holds `checkpoint.json` (structure, numbers, strings, names, shapes) and
 * `tensors.bin` (little-endian tensor bytes).
 *
 * @param dir the checkpoint directory, e.g. `runs/x/checkpoint`
 * @param contents nets, state, optimizer state, loader position, config: anything
 *   `serializeTree` takes
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const q = tf.tensor2d([[1, 2]]);
 * await saveCheckpoint(`${dir}/ckpt`, { step: 7, queue: q });
 * const back = await loadCheckpoint(`${dir}/ckpt`) as { step: number; queue: tf.Tensor };
 * assert.equal(back.step, 7);
 * assert.deepEqual(back.queue.shape, [1, 2]);
 * tf.dispose([q, back.queue]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function saveCheckpoint(dir: string, contents: unknown): Promise<void> {
  const { spec, tensors } = serializeTree(contents);
  let offset = 0;
  const index = tensors.map((t) => {
    const entry = { dtype: t.dtype, shape: t.shape, offset, bytes: t.data.byteLength };
    offset += t.data.byteLength;
    return entry;
  });
  const bin = new Uint8Array(offset);
  tensors.forEach((t, i) => {
    bin.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), index[i].offset);
  });
  const tmp = `${dir}.tmp-${Deno.pid}-${Date.now()}`;
  const old = `${dir}.old`;
  await Deno.mkdir(tmp, { recursive: true });
  try {
    await Deno.writeFile(`${tmp}/tensors.bin`, bin);
    await Deno.writeTextFile(
      `${tmp}/checkpoint.json`,
      JSON.stringify({ format: FORMAT, version: VERSION, tensors: index, spec }),
    );
    await removeIfExists(old);
    await removeStaleTemporaries(dir, tmp);
    const hadPrevious = await exists(dir);
    if (hadPrevious) await Deno.rename(dir, old);
    await Deno.rename(tmp, dir);
    if (hadPrevious) await removeIfExists(old);
  } catch (e) {
    await removeIfExists(tmp);
    throw e;
  }
}

/**
 * Reads a checkpoint written by {@linkcode saveCheckpoint}. Models and variables found in
 * `template` at the same place are restored in place; tensors come back new (the caller owns
 * them). When `dir` is missing but an interrupted save left `dir.old`, that one is read.
 *
 * @param dir the checkpoint directory
 * @param template the live structure (nets, state) to restore models and variables into
 * @returns the saved contents
 * @throws {Deno.errors.NotFound} when there is no checkpoint
 *
 * @example
 * ```ts
 * import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await saveCheckpoint(`${dir}/c`, { lr: 0.1, loader: { epoch: 1, index: 3 } });
 * assert.deepEqual(await loadCheckpoint(`${dir}/c`), { lr: 0.1, loader: { epoch: 1, index: 3 } });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadCheckpoint(dir: string, template?: unknown): Promise<unknown> {
  let from = dir;
  if (!(await exists(dir)) && (await exists(`${dir}.old`))) from = `${dir}.old`;
  const meta = JSON.parse(await Deno.readTextFile(`${from}/checkpoint.json`));
  if (meta?.format !== FORMAT || meta?.version !== VERSION) {
    throw new TypeError(
      `Cannot load ${from}: expected a ${FORMAT} version ${VERSION}, received ${meta?.format} ` +
        `version ${meta?.version}`,
    );
  }
  const bin = await Deno.readFile(`${from}/tensors.bin`);
  const tensors: SerializedTensor[] = (meta.tensors as {
    dtype: SerializedTensor["dtype"];
    shape: number[];
    offset: number;
    bytes: number;
  }[]).map((e) => {
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (e.bytes !== size * BYTES[e.dtype] || e.offset + e.bytes > bin.byteLength) {
      throw new TypeError(`Cannot load ${from}: tensors.bin is truncated or inconsistent`);
    }
    const copy = bin.slice(e.offset, e.offset + e.bytes).buffer;
    const data = e.dtype === "float32"
      ? new Float32Array(copy)
      : e.dtype === "int32"
      ? new Int32Array(copy)
      : new Uint8Array(copy);
    return { dtype: e.dtype, shape: e.shape, data };
  });
  return restoreTree({ spec: meta.spec, tensors }, template);
}

/**
 * Whether a checkpoint can be loaded from `dir` (or from the `dir.old` an interrupted save left).
 *
 * @param dir the checkpoint directory
 * @returns true when `checkpoint.json` exists there
 *
 * @example
 * ```ts
 * import { hasCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await hasCheckpoint("/nonexistent/checkpoint"), false);
 * ```
 */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  return (await exists(`${dir}/checkpoint.json`)) || (await exists(`${dir}.old/checkpoint.json`));
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Removes `dir.tmp-*` siblings that a killed save left behind (never `keep`). */
async function removeStaleTemporaries(dir: string, keep: string): Promise<void> {
  const slash = dir.lastIndexOf("/");
  const parent = slash >= 0 ? dir.slice(0, slash) || "/" : ".";
  const base = slash >= 0 ? dir.slice(slash + 1) : dir;
  for await (const entry of Deno.readDir(parent)) {
    const path = `${parent}/${entry.name}`;
    if (entry.name.startsWith(`${base}.tmp-`) && path !== keep) await removeIfExists(path);
  }
}

async function removeIfExists(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
