import { restoreTree, type SerializedTensor, serializeTree } from "./serialize.ts";
import { CheckpointError, NonFiniteStateError } from "./errors.ts";

const FORMAT = "selfsup-checkpoint";
const VERSION = 1;
const MANIFEST = "manifest.json";
const FILES = ["checkpoint.json", "tensors.bin"] as const;
const BYTES: Record<SerializedTensor["dtype"], number> = { float32: 4, int32: 4, bool: 1 };

/** Options for {@linkcode saveCheckpoint}. */
export interface SaveCheckpointOptions {
  /**
   * How many checkpoints to keep: the newest in `dir`, the previous ones beside it as
   * `dir.step-<step>`, so a checkpoint found corrupt on resume has an intact one to fall back to.
   * @default 2
   */
  keep?: number;
}

/** Options for {@linkcode loadCheckpoint} and {@linkcode readCheckpoint}. */
export interface LoadCheckpointOptions {
  /** Told, in one line, when the newest checkpoint is refused and an older one is used. */
  onFallback?: (message: string) => void;
}

/** What {@linkcode readCheckpoint} returns. */
export interface LoadedCheckpoint {
  /** The saved contents. */
  contents: unknown;
  /** The directory it was read from (`dir`, or an older `dir.step-N` after a fallback). */
  path: string;
  /** The `step` the contents hold, if any. */
  step: number | null;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Writes `bytes` to `path` and waits until they are on disk (fsync). */
async function writeSynced(path: string, bytes: Uint8Array): Promise<void> {
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    let off = 0;
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
    await f.sync();
  } finally {
    f.close();
  }
}

/** fsync of a directory, so the renames and new entries inside it are on disk. */
async function syncDir(path: string): Promise<void> {
  const f = await Deno.open(path, { read: true });
  try {
    await f.sync();
  } finally {
    f.close();
  }
}

function parentOf(dir: string): [string, string] {
  const trimmed = dir.replace(/\/+$/, "");
  const slash = trimmed.lastIndexOf("/");
  return slash >= 0 ? [trimmed.slice(0, slash) || "/", trimmed.slice(slash + 1)] : [".", trimmed];
}

/**
 * Beyond this magnitude a float32's square overflows (3.4e38): a batch-norm variance or an L2
 * norm computed from it is already Infinity, so such a state is as diverged as a NaN one (a
 * `--lr 1e6` run wrote weights of 2e37 one step before its statistics turned NaN).
 */
const OVERFLOW = 1.8e19;

/** The first non-finite (or overflowing) float of the serialized tensors, with their number. */
function checkFinite(tensors: SerializedTensor[]): void {
  let count = 0;
  let first: { where: string; value: number } | null = null;
  for (const t of tensors) {
    if (t.dtype !== "float32") continue;
    const d = t.data as Float32Array;
    for (let i = 0; i < d.length; i++) {
      if (!(Math.abs(d[i]) < OVERFLOW)) {
        count++;
        first ??= { where: t.where ?? "the tree", value: d[i] };
      }
    }
  }
  if (first) throw new NonFiniteStateError(first.where, first.value, count);
}

/**
 * Writes a checkpoint directory atomically and durably. Everything goes to a temporary sibling:
 * `checkpoint.json` (structure, numbers, strings, names, shapes), `tensors.bin` (little-endian
 * tensor bytes) and `manifest.json` (size and SHA-256 of each file), each fsynced, then the
 * directory; the previous checkpoint is renamed to `dir.step-<its step>` and the new one to `dir`,
 * and only the newest `keep` are kept. A killed save leaves either the old or the new checkpoint,
 * and {@linkcode loadCheckpoint} verifies the checksums and falls back to an older intact one.
 *
 * A state holding a NaN or infinite float (a weight, a batch-norm statistic, an optimizer slot),
 * or one so large (>= 1.8e19) that its square overflows float32, is never written: {@linkcode NonFiniteStateError} is thrown and the checkpoints on disk stay
 * as they were.
 *
 * @param dir the checkpoint directory, e.g. `runs/x/checkpoint`
 * @param contents nets, state, optimizer state, loader position, config: anything
 *   `serializeTree` takes; a `step` that is an integer >= 0 names the checkpoint when it is moved
 *   aside, any other (absent, null, -1, 1.5, "3", past 2^53 - 1) names it
 *   `dir.step-unknown-<time>`, pruned as the oldest
 * @param options how many checkpoints to keep
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
export async function saveCheckpoint(
  dir: string,
  contents: unknown,
  options: SaveCheckpointOptions = {},
): Promise<void> {
  const { keep = 2 } = options;
  if (!Number.isInteger(keep) || keep < 1) {
    throw new RangeError(
      `Cannot save a checkpoint: keep must be an integer >= 1, received ${keep}`,
    );
  }
  const { spec, tensors } = serializeTree(contents);
  checkFinite(tensors);
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
  const json = new TextEncoder().encode(
    JSON.stringify({ format: FORMAT, version: VERSION, tensors: index, spec }),
  );
  const step = stepOf(contents);
  const manifest = {
    format: FORMAT,
    version: VERSION,
    step,
    files: {
      "checkpoint.json": { bytes: json.length, sha256: await sha256(json) },
      "tensors.bin": { bytes: bin.length, sha256: await sha256(bin) },
    },
  };
  // every sibling is named from parent/base, as removeStaleTemporaries and history list them: a
  // bare relative `dir` ("ckpt") once removed its own temporary as stale, and one ending in "/"
  // put the temporary inside itself
  const [parent, base] = parentOf(dir);
  dir = `${parent}/${base}`;
  const tmp = `${dir}.tmp-${Deno.pid}-${Date.now()}`;
  await Deno.mkdir(tmp, { recursive: true });
  try {
    await writeSynced(`${tmp}/tensors.bin`, bin);
    await writeSynced(`${tmp}/checkpoint.json`, json);
    // the manifest last: a directory with a manifest has all its files
    await writeSynced(`${tmp}/${MANIFEST}`, new TextEncoder().encode(JSON.stringify(manifest)));
    await syncDir(tmp);
    await removeStaleTemporaries(parent, base, tmp);
    if (await exists(dir)) {
      const previous = await savedStep(dir);
      if (step !== null && previous !== null && previous >= step) {
        // a run resumed from an older checkpoint: the newer ones belong to the abandoned
        // continuation (maybe the damaged one it fell back from) and must not be kept
        await Deno.rename(dir, `${tmp}-abandoned`);
        await Deno.rename(tmp, dir);
        await removeIfExists(`${tmp}-abandoned`);
      } else {
        const aside = `${dir}.step-${previous ?? `unknown-${Date.now()}`}`;
        await removeIfExists(aside);
        await Deno.rename(dir, aside);
        await Deno.rename(tmp, dir);
      }
    } else await Deno.rename(tmp, dir);
    await syncDir(parent);
  } catch (e) {
    await removeIfExists(tmp);
    throw e;
  }
  await pruneHistory(dir, keep - 1, step);
  await removeIfExists(`${dir}.old`); // the single fallback of earlier versions
}

/**
 * Whether `s` can name a checkpoint: a safe integer >= 0, whose `dir.step-<s>` is a name
 * {@linkcode history} reads back (`-1` would give `dir.step--1`, `1e21` `dir.step-1e+21`, names it
 * never lists, so never prunes). Every step read or written goes through here.
 */
function isStep(s: unknown): s is number {
  return Number.isSafeInteger(s) && (s as number) >= 0;
}

function stepOf(contents: unknown): number | null {
  const s = (contents as { step?: unknown } | null)?.step;
  return isStep(s) ? s : null;
}

/** The step a checkpoint directory records (manifest, else checkpoint.json), or null. */
async function savedStep(path: string): Promise<number | null> {
  try {
    const m = JSON.parse(await Deno.readTextFile(`${path}/${MANIFEST}`));
    if (isStep(m?.step)) return m.step;
  } catch { /* fall through */ }
  try {
    const meta = JSON.parse(await Deno.readTextFile(`${path}/checkpoint.json`));
    const s = meta?.spec?.$object?.step;
    return isStep(s) ? s : null;
  } catch {
    return null;
  }
}

/** The older checkpoints beside `dir` (`dir.step-N`), newest first. */
async function history(dir: string): Promise<{ path: string; step: number }[]> {
  const [parent, base] = parentOf(dir);
  const out: { path: string; step: number }[] = [];
  try {
    for await (const e of Deno.readDir(parent)) {
      const m = e.name.startsWith(`${base}.step-`)
        ? /^(\d+|unknown-\d+)$/.exec(e.name.slice(base.length + 6))
        : null;
      if (m && e.isDirectory) {
        const step = /^\d+$/.test(m[1]) ? Number(m[1]) : -1;
        out.push({ path: `${parent}/${e.name}`, step });
      }
    }
  } catch (e) {
    // no parent, or a parent that is a file: no older checkpoints, as `exists` reads it
    if (!(e instanceof Deno.errors.NotFound) && !(e instanceof Deno.errors.NotADirectory)) throw e;
  }
  return out.sort((a, b) => b.step - a.step);
}

async function pruneHistory(dir: string, keep: number, step: number | null): Promise<void> {
  const older = await history(dir);
  // kept checkpoints at or past the one just written are from an abandoned continuation
  const stale = step === null ? [] : older.filter((h) => h.step >= step);
  const current = older.filter((h) => !stale.includes(h));
  for (const h of [...stale, ...current.slice(keep)]) await removeIfExists(h.path);
}

/** Every checkpoint directory that `loadCheckpoint(dir)` may read, in the order it tries them. */
async function candidates(dir: string): Promise<string[]> {
  const out = [dir, ...(await history(dir)).map((h) => h.path), `${dir}.old`];
  const present: string[] = [];
  for (const p of out) if (await exists(p)) present.push(p);
  return present;
}

/**
 * Checks one checkpoint directory against its manifest and reads it; a reason string when it is
 * not intact. A directory without a manifest (written by an earlier version) is read unchecked.
 */
async function readVerified(
  path: string,
): Promise<{ meta: Record<string, unknown>; bin: Uint8Array } | string> {
  let manifest: { files?: Record<string, { bytes: number; sha256: string }> } | null = null;
  try {
    manifest = JSON.parse(await Deno.readTextFile(`${path}/${MANIFEST}`));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return `${MANIFEST} is unreadable (${message(e)})`;
  }
  const bytes: Record<string, Uint8Array> = {};
  for (const f of FILES) {
    try {
      bytes[f] = await Deno.readFile(`${path}/${f}`);
    } catch (e) {
      return `${f} is ${
        e instanceof Deno.errors.NotFound ? "missing" : `unreadable (${message(e)})`
      }`;
    }
    if (manifest) {
      const want = manifest.files?.[f];
      if (!want || typeof want.sha256 !== "string") return `${MANIFEST} does not list ${f}`;
      if (bytes[f].length !== want.bytes) {
        return `${f} is truncated or padded (${bytes[f].length} bytes, expected ${want.bytes})`;
      }
      if ((await sha256(bytes[f])) !== want.sha256) {
        return `${f} does not match its SHA-256 checksum (corrupted on disk)`;
      }
    }
  }
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(new TextDecoder().decode(bytes["checkpoint.json"]));
  } catch (e) {
    return `checkpoint.json is not valid JSON (${message(e)})`;
  }
  if (meta?.format !== FORMAT || meta?.version !== VERSION) {
    return `expected a ${FORMAT} version ${VERSION}, received ${meta?.format} version ${meta?.version}`;
  }
  if (!Array.isArray(meta.tensors)) return "checkpoint.json lists no tensors";
  return { meta, bin: bytes["tensors.bin"] };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function decodeTensors(
  path: string,
  meta: Record<string, unknown>,
  bin: Uint8Array,
): SerializedTensor[] | string {
  const out: SerializedTensor[] = [];
  for (const e of meta.tensors as Record<string, unknown>[]) {
    const dtype = e?.dtype as SerializedTensor["dtype"];
    const shape = e?.shape as number[];
    if (
      !(dtype in BYTES) || !Array.isArray(shape) ||
      !shape.every((d) => Number.isInteger(d) && d >= 0) ||
      !Number.isInteger(e.offset) || !Number.isInteger(e.bytes) || (e.offset as number) < 0
    ) {
      return "checkpoint.json has a malformed tensor entry";
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const offset = e.offset as number, bytes = e.bytes as number;
    if (bytes !== size * BYTES[dtype] || offset + bytes > bin.byteLength) {
      return `tensors.bin is truncated or inconsistent with checkpoint.json (${path})`;
    }
    const copy = bin.slice(offset, offset + bytes).buffer;
    const data = dtype === "float32"
      ? new Float32Array(copy)
      : dtype === "int32"
      ? new Int32Array(copy)
      : new Uint8Array(copy);
    out.push({ dtype, shape, data });
  }
  return out;
}

/**
 * Reads the newest intact checkpoint of `dir`: `dir` itself, else the older ones kept beside it
 * (`dir.step-N`, newest first), else the `dir.old` of an interrupted save. Each is verified
 * against its manifest (sizes and SHA-256) before anything is restored; a refused one is
 * reported through `onFallback`. Models and variables of `template` at the same place are
 * restored in place; tensors come back new (the caller owns them).
 *
 * @param dir the checkpoint directory
 * @param template the live structure (nets, state) to restore models and variables into
 * @param options `onFallback`, told when an older checkpoint is used
 * @returns the contents, the directory read and its step
 * @throws {CheckpointError} when no intact checkpoint exists (the message lists why each failed)
 *
 * @example
 * ```ts
 * import { readCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await saveCheckpoint(`${dir}/c`, { step: 1 });
 * await saveCheckpoint(`${dir}/c`, { step: 2 });
 * await Deno.writeTextFile(`${dir}/c/checkpoint.json`, "{}"); // damaged
 * const notes: string[] = [];
 * const got = await readCheckpoint(`${dir}/c`, undefined, { onFallback: (m) => notes.push(m) });
 * assert.deepEqual([got.step, got.path], [1, `${dir}/c.step-1`]);
 * assert.equal(notes.length, 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readCheckpoint(
  dir: string,
  template?: unknown,
  options: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const tried: string[] = [];
  for (const path of await candidates(dir)) {
    const got = await readVerified(path);
    const tensors = typeof got === "string" ? got : decodeTensors(path, got.meta, got.bin);
    if (typeof tensors === "string" || typeof got === "string") {
      tried.push(`${path}: ${tensors}`);
      continue;
    }
    if (tried.length > 0) {
      options.onFallback?.(
        `checkpoint ${tried.join("; ")}; using the previous intact one, ${path}`,
      );
    }
    const contents = restoreTree({ spec: got.meta.spec, tensors }, template);
    return { contents, path, step: stepOf(contents) };
  }
  if (tried.length === 0) {
    throw new CheckpointError(`Cannot load a checkpoint: there is none at ${dir}`);
  }
  throw new CheckpointError(
    `Cannot load a checkpoint from ${dir}: none is intact (${tried.join("; ")})`,
  );
}

/**
 * Reads a checkpoint written by {@linkcode saveCheckpoint}: the newest intact one (see
 * {@linkcode readCheckpoint}, which also says where it was read from).
 *
 * @param dir the checkpoint directory
 * @param template the live structure (nets, state) to restore models and variables into
 * @param options `onFallback`, told when an older checkpoint is used
 * @returns the saved contents
 * @throws {CheckpointError} when there is no intact checkpoint
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
export async function loadCheckpoint(
  dir: string,
  template?: unknown,
  options: LoadCheckpointOptions = {},
): Promise<unknown> {
  return (await readCheckpoint(dir, template, options)).contents;
}

/**
 * Whether a checkpoint can be loaded from `dir` (or from an older one kept beside it, or the
 * `dir.old` an interrupted save left).
 *
 * @param dir the checkpoint directory
 * @returns true when one of them has a `checkpoint.json`
 *
 * @example
 * ```ts
 * import { hasCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await hasCheckpoint("/nonexistent/checkpoint"), false);
 * ```
 */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  for (const p of await candidates(dir)) if (await exists(`${p}/checkpoint.json`)) return true;
  return false;
}

/**
 * Everything a checkpoint at `dir` left on disk: `dir`, older kept ones, an interrupted save's
 * `dir.old` or `dir.tmp-*`. A fresh run must not start over any of them.
 *
 * @param dir the checkpoint directory
 * @returns the paths that exist
 *
 * @example
 * ```ts
 * import { checkpointLeftovers } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(await checkpointLeftovers("/nonexistent/checkpoint"), []);
 * ```
 */
export async function checkpointLeftovers(dir: string): Promise<string[]> {
  const out = await candidates(dir);
  const [parent, base] = parentOf(dir);
  try {
    for await (const e of Deno.readDir(parent)) {
      if (e.name.startsWith(`${base}.tmp-`)) out.push(`${parent}/${e.name}`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) && !(e instanceof Deno.errors.NotADirectory)) throw e;
  }
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false;
    throw e;
  }
}

/** Removes `base.tmp-*` siblings that a killed save left behind (never `keep`). */
async function removeStaleTemporaries(parent: string, base: string, keep: string): Promise<void> {
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
