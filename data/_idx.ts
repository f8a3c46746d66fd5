// IDX file parsing (the MNIST container format, LeCun et al. 1998), plain or gzipped.
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { DatasetError } from "./dataset.ts";
import { type InMemoryDataset, inMemoryDataset } from "./in_memory.ts";

const cache = new Map<string, Promise<InMemoryDataset>>();

/** The error's message, plus the flag that grants the read when a permission was missing. */
function readHint(cause: unknown): string {
  const message = (cause as Error)?.message ?? String(cause);
  return cause instanceof Deno.errors.NotCapable && !message.includes("--allow-read")
    ? `${message}; run with --allow-read (or -A)`
    : message;
}

/** A parsed IDX uint8 array: its dimensions and the data (a view into the file bytes). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Reads an IDX file of uint8 values (magic 0x00000801 or 0x00000803), gunzipping `.gz` files. */
export async function readIdx(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (cause) {
    throw new DatasetError(`Cannot read IDX file ${path}: ${readHint(cause)}`, { cause });
  }
  if (path.endsWith(".gz")) bytes = new Uint8Array(gunzipSync(bytes));
  return parseIdx(bytes, path);
}

/** Parses IDX bytes; throws a DatasetError on a bad header or a size mismatch. */
export function parseIdx(bytes: Uint8Array, path = "<bytes>"): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) {
    throw new DatasetError(
      `Cannot parse IDX file ${path}: expected magic 00 00 08 xx (uint8 data), received ${
        Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ")
      }`,
    );
  }
  const rank = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const offset = 4 + 4 * rank;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== offset + size) {
    throw new DatasetError(
      `Cannot parse IDX file ${path}: dims [${dims}] need ${
        offset + size
      } bytes, received ${bytes.length}`,
    );
  }
  return { dims, data: bytes.subarray(offset) };
}

async function firstExisting(dir: string, base: string): Promise<string> {
  for (const p of [join(dir, base), join(dir, base + ".gz")]) {
    try {
      await Deno.stat(p);
      return p;
    } catch (cause) {
      if (
        cause instanceof Deno.errors.NotCapable || cause instanceof Deno.errors.PermissionDenied
      ) {
        throw new DatasetError(`Cannot read IDX file ${p}: ${readHint(cause)}`, { cause });
      }
    }
  }
  throw new DatasetError(`Cannot find IDX file ${base} (or ${base}.gz) in ${dir}`);
}

/** Loads one split of an MNIST-format IDX set (shared by MNIST and Fashion-MNIST). */
async function loadIdxPair(
  name: string,
  dir: string,
  split: "train" | "test",
): Promise<InMemoryDataset> {
  if (split !== "train" && split !== "test") {
    throw new RangeError(`Cannot load ${name}: split must be "train" or "test", received ${split}`);
  }
  const prefix = split === "train" ? "train" : "t10k";
  const [img, lab] = await Promise.all([
    firstExisting(dir, `${prefix}-images-idx3-ubyte`).then(readIdx),
    firstExisting(dir, `${prefix}-labels-idx1-ubyte`).then(readIdx),
  ]);
  if (img.dims.length !== 3 || lab.dims.length !== 1 || img.dims[0] !== lab.dims[0]) {
    throw new DatasetError(
      `Cannot load ${name} ${split}: expected images [n,28,28] and labels [n], received [${img.dims}] and [${lab.dims}]`,
    );
  }
  for (let i = 0; i < lab.data.length; i++) {
    if (lab.data[i] > 9) {
      throw new DatasetError(
        `Cannot load ${name} ${split}: labels must be in [0, 9], received ${lab.data[i]} at ${i}`,
      );
    }
  }
  return inMemoryDataset(
    `${name}-${split}`,
    img.data,
    lab.data,
    [img.dims[1], img.dims[2], 1],
    10,
  );
}

/** Loads (once per process and folder) a split, sharing the promise between callers. */
export function cachedIdxPair(
  name: string,
  dir: string,
  split: "train" | "test",
): Promise<InMemoryDataset> {
  const key = `${name}|${dir}|${split}`;
  let p = cache.get(key);
  if (!p) {
    p = loadIdxPair(name, dir, split);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}
