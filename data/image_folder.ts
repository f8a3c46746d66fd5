/**
 * Image folders and manifests: decode and resize with sharp, labels from class folders or a
 * manifest, bad files skipped and counted.
 *
 * @module
 */
import { loadSharp } from "./_sharp.ts";
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { type Dataset, DatasetError, type Sample } from "./dataset.ts";
import { checkIndex } from "./_util.ts";

/** Options for {@linkcode imageFolder}. */
export interface ImageFolderOptions {
  /**
   * Output size: `[height, width]`, or one number for a square.
   * @default 32
   */
  size?: number | [number, number];
  /**
   * Output channels: 1 (gray) or 3 (RGB); alpha is flattened onto white.
   * @default 3
   */
  channels?: 1 | 3;
  /**
   * How the image is fitted into `size` (sharp's `fit`): `fill` stretches, `cover` crops the
   * center, `contain` pads (with white).
   * @default "fill"
   */
  fit?: "fill" | "cover" | "contain";
  /**
   * Where labels come from: `auto` uses `manifest` when given, else class subfolders when the
   * folder has any, else none; `folders` requires class subfolders; `none` loads every image
   * below `dir` unlabeled (for pretraining).
   * @default "auto"
   */
  labels?: "auto" | "folders" | "none";
  /**
   * A manifest, CSV (header with `path` and `label` and/or `text` columns) or JSONL (objects with
   * `path` and `label` and/or `text`); paths are relative to the manifest's folder. Integer labels
   * are used as they are; other labels become indices into the sorted `classes`.
   */
  manifest?: string;
  /**
   * How much each file is checked up front: `none` (only listed), `header` (size, signature,
   * sharp's header read and the format's end marker, so truncated files are caught without a
   * decode), `decode` (a full decode; exact counts, slow on big folders). Files that fail later,
   * at `get`, throw a `DatasetError`, which the `Loader` skips and counts.
   * @default "header"
   */
  verify?: "none" | "header" | "decode";
  /**
   * Called with one line per skipped file.
   * @default console.warn
   */
  onWarning?: (message: string) => void;
}

/** A dataset over an image folder. Only paths are held in memory; `get` decodes on demand. */
export interface ImageFolder extends Dataset {
  /** Class names by label, for class folders or string labels. */
  readonly classes?: readonly string[];
  /** Image files or manifest rows dropped while scanning (undecodable, truncated, missing). */
  readonly skipped: number;
  /** Skipped entries by short reason (`"truncated": 2`), for one summary line. */
  readonly skippedBy: Readonly<Record<string, number>>;
  /**
   * Files that are not candidate images and were left alone without a warning: files whose
   * extension is not an image's (`README.md`, `notes.txt`) and files outside the class folders.
   */
  readonly ignored: number;
  /** One line per skipped entry: path and reason. */
  readonly warnings: readonly string[];
  /** The usable files, by index. */
  readonly paths: readonly string[];
  /** Decodes and resizes image `index`; rejects with a DatasetError when it cannot. */
  get(index: number): Promise<Sample>;
}

type Entry = { path: string; label?: number; text?: string };
type RawEntry = { path: string; label?: string | number; text?: string; where: string };

const EXTENSIONS = new Set([".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff"]);

function sniff(head: Uint8Array): string | null {
  const at = (i: number, ...b: number[]) => b.every((v, k) => head[i + k] === v);
  if (at(0, 0x89, 0x50, 0x4e, 0x47)) return "png";
  if (at(0, 0xff, 0xd8, 0xff)) return "jpeg";
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return "gif";
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return "webp";
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) return "tiff";
  return null;
}

/**
 * Whether the file's last bytes hold its format's end marker: PNG's IEND chunk, JPEG's EOI,
 * GIF's trailer, WebP's RIFF length. A truncated file passes the signature and header checks
 * (its header is intact) but fails here, without a decode. TIFF has no end marker.
 */
function intactEnd(format: string, tail: Uint8Array, size: number, head: Uint8Array): boolean {
  const has = (...b: number[]) => {
    outer: for (let i = tail.length - b.length; i >= 0; i--) {
      for (let k = 0; k < b.length; k++) if (tail[i + k] !== b[k]) continue outer;
      return true;
    }
    return false;
  };
  if (format === "png") return has(0x49, 0x45, 0x4e, 0x44); // "IEND"
  if (format === "jpeg") return has(0xff, 0xd9);
  if (format === "gif") return has(0x3b);
  if (format === "webp") {
    const riff = head[4] | (head[5] << 8) | (head[6] << 16) | (head[7] << 24);
    return riff + 8 <= size;
  }
  return true;
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(dir)) entries.push(e);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory) await walk(p, out);
    else if (e.isFile || e.isSymlink) out.push(p);
  }
}

/** Splits one CSV line (RFC 4180 quotes, no embedded newlines). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

async function readManifest(
  path: string,
  skip: (where: string, reason: string) => void,
): Promise<RawEntry[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (cause) {
    throw new DatasetError(`Cannot read manifest ${path}: ${(cause as Error).message}`, { cause });
  }
  const base = dirname(path);
  const rows: RawEntry[] = [];
  const lines = text.split(/\r?\n/);
  const jsonl = /\.jsonl?$/i.test(path);
  let header: string[] | null = null;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (!line.trim()) continue;
    const where = `${path}:${n + 1}`;
    let rec: Record<string, unknown>;
    if (jsonl) {
      try {
        rec = JSON.parse(line);
      } catch {
        skip(where, "not valid JSON");
        continue;
      }
      if (!rec || typeof rec !== "object") {
        skip(where, "expected a JSON object");
        continue;
      }
    } else {
      const fields = csvFields(line);
      if (!header) {
        header = fields.map((f) => f.toLowerCase());
        if (!header.includes("path")) {
          throw new DatasetError(
            `Cannot read manifest ${path}: expected a CSV header with a "path" column, received ${line}`,
          );
        }
        continue;
      }
      rec = Object.fromEntries(header.map((h, i) => [h, fields[i] ?? ""]));
      if (rec.label === "") delete rec.label;
    }
    const p = rec.path;
    if (typeof p !== "string" || !p) {
      skip(where, "no path");
      continue;
    }
    const label = rec.label;
    if (label !== undefined && typeof label !== "string" && typeof label !== "number") {
      skip(where, "label must be a string or number");
      continue;
    }
    rows.push({
      path: isAbsolute(p) ? p : join(base, p),
      label: label as string | number | undefined,
      text: typeof rec.text === "string" ? rec.text : undefined,
      where,
    });
  }
  return rows;
}

const NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function listRows(rows: RawEntry[]): string {
  const shown = rows.slice(0, 5).map((r) => `${JSON.stringify(r.label)} at ${r.where}`);
  return shown.join(", ") + (rows.length > 5 ? ` and ${rows.length - 5} more` : "");
}

/**
 * The class names of manifest labels, or undefined when they are all integers >= 0 (used as
 * they are). Labels that mix integers and names, or look like numbers but are not integers >= 0
 * (`-1`, `2.5`), are a DatasetError naming the rows: renumbering them as sorted strings would
 * silently change every label.
 */
function manifestClasses(rows: RawEntry[], where: string): string[] | undefined {
  const ints: RawEntry[] = [], names: RawEntry[] = [], bad: RawEntry[] = [];
  for (const r of rows) {
    if (r.label === undefined) continue;
    const l = r.label;
    if (typeof l === "number") (Number.isInteger(l) && l >= 0 ? ints : bad).push(r);
    else if (/^\d+$/.test(l)) ints.push(r);
    else if (NUMERIC.test(l.trim()) || !l.trim()) bad.push(r);
    else names.push(r);
  }
  if (bad.length > 0) {
    throw new DatasetError(
      `Cannot load ${where}: labels must be integers >= 0 or class names, received ${
        listRows(bad)
      }`,
    );
  }
  if (ints.length > 0 && names.length > 0) {
    const [few, kind] = ints.length <= names.length ? [ints, "integer"] : [names, "name"];
    throw new DatasetError(
      `Cannot load ${where}: labels must be all integers >= 0 or all class names, received ${ints.length} integer and ${names.length} name labels; the ${kind} ones: ${
        listRows(few)
      }`,
    );
  }
  return names.length > 0 ? [...new Set(names.map((r) => String(r.label)))].sort() : undefined;
}

/** A path listed twice is a DatasetError naming both rows (with different labels it is ambiguous). */
function rejectDuplicates(rows: RawEntry[], where: string): void {
  const seen = new Map<string, RawEntry>();
  const dups: string[] = [];
  for (const r of rows) {
    const key = resolve(r.path);
    const first = seen.get(key);
    if (first) {
      dups.push(
        `${r.path} at ${first.where} (label ${JSON.stringify(first.label)}) and ${r.where} (label ${
          JSON.stringify(r.label)
        })`,
      );
    } else seen.set(key, r);
  }
  if (dups.length > 0) {
    throw new DatasetError(
      `Cannot load ${where}: each path must be listed once, received ${dups.length} duplicate${
        dups.length > 1 ? "s" : ""
      }: ${dups.slice(0, 3).join("; ")}`,
    );
  }
}

/**
 * A folder of JPEG/PNG/WebP/GIF/TIFF images decoded and resized with sharp to a fixed
 * `[height, width, channels]`. Labels come from class subfolders (`dir/cat/1.png` has the label
 * of `"cat"` in the sorted `classes`) or from a CSV/JSONL manifest (label and/or text transcript);
 * a folder without subfolders loads unlabeled. Only paths are kept: images are decoded when
 * `get` is called. Zero-byte, truncated, corrupt and fake image files and manifest rows naming
 * missing files are skipped with one warning each and counted in `skipped` (by reason in
 * `skippedBy`); files that are not images by their extension (`README.md`) or lie outside the
 * class folders are ignored and counted in `ignored`. Manifest labels must be all integers >= 0
 * or all class names, and each path may be listed once. A {@linkcode DatasetError} is thrown
 * when nothing usable remains. Hidden files are ignored.
 *
 * Permissions: `--allow-read`, and sharp's `--allow-env --allow-sys --allow-ffi` (sharp loads on
 * the first call; importing needs none).
 *
 * @param dir the folder
 * @param options size, channels, fit, labels, manifest, verification
 * @returns the dataset
 *
 * @example
 * ```ts
 * import { imageFolder } from "./image_folder.ts";
 * import sharp from "sharp";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/red`);
 * const red = { width: 8, height: 8, channels: 3 as const, background: "#ff0000" };
 * await sharp({ create: red }).png().toFile(`${dir}/red/a.png`);
 * await Deno.writeTextFile(`${dir}/red/notes.txt`, "not an image");
 * const ds = await imageFolder(dir, { size: 4, onWarning: () => {} });
 * assert.equal(ds.length, 1);
 * assert.equal(ds.skipped, 0);
 * assert.equal(ds.ignored, 1); // notes.txt is no image
 * const { image, label } = await ds.get(0);
 * assert.deepEqual([image[0], image[1], image[2], label], [255, 0, 0, 0]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function imageFolder(
  dir: string,
  options: ImageFolderOptions = {},
): Promise<ImageFolder> {
  const {
    size = 32,
    channels = 3,
    fit = "fill",
    labels: labelMode = "auto",
    manifest,
    verify = "header",
    onWarning = (m: string) => console.warn(`selfsup: ${m}`),
  } = options;
  if (typeof dir !== "string") {
    throw new TypeError(`Cannot load image folder: dir must be a string, received ${typeof dir}`);
  }
  const [height, width] = typeof size === "number" ? [size, size] : size;
  if (![height, width].every((v) => Number.isInteger(v) && v >= 1 && v <= 8192)) {
    throw new RangeError(
      `Cannot load image folder: size must be integers in [1, 8192], received ${
        JSON.stringify(size)
      }`,
    );
  }
  if (channels !== 1 && channels !== 3) {
    throw new RangeError(`Cannot load image folder: channels must be 1 or 3, received ${channels}`);
  }
  if (!["fill", "cover", "contain"].includes(fit)) {
    throw new RangeError(
      `Cannot load image folder: fit must be fill, cover or contain, received ${fit}`,
    );
  }
  if (!["auto", "folders", "none"].includes(labelMode)) {
    throw new RangeError(
      `Cannot load image folder: labels must be auto, folders or none, received ${labelMode}`,
    );
  }
  if (!["none", "header", "decode"].includes(verify)) {
    throw new RangeError(
      `Cannot load image folder: verify must be none, header or decode, received ${verify}`,
    );
  }
  try {
    if (!(await Deno.stat(dir)).isDirectory) throw new Error("not a directory");
  } catch (cause) {
    throw new DatasetError(`Cannot load image folder ${dir}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const root = resolve(dir);
  const warnings: string[] = [];
  let skipped = 0;
  let ignored = 0;
  const skippedBy: Record<string, number> = {};
  const skip = (where: string, reason: string, kind = reason) => {
    const m = `${where}: skipped, ${reason}`;
    skipped++;
    skippedBy[kind] = (skippedBy[kind] ?? 0) + 1;
    warnings.push(m);
    onWarning(m);
  };

  // 1. Candidate entries with raw labels.
  let raw: RawEntry[];
  let classes: string[] | undefined;
  const manifestPath = manifest === undefined ? undefined : resolve(root, manifest);
  if (manifestPath && labelMode !== "none") {
    raw = await readManifest(manifestPath, skip);
  } else {
    const files: string[] = [];
    await walk(root, files);
    const filtered = files.filter((f) => f !== manifestPath);
    const top = new Set(
      filtered.map((f) => relative(root, f).split(sep)).filter((p) => p.length > 1).map((p) =>
        p[0]
      ),
    );
    const byFolder = labelMode === "folders" || (labelMode === "auto" && top.size > 0);
    if (labelMode === "folders" && top.size === 0) {
      throw new DatasetError(
        `Cannot load image folder ${dir}: expected class subfolders, found none`,
      );
    }
    if (byFolder) classes = [...top].sort();
    raw = filtered.map((f) => {
      const parts = relative(root, f).split(sep);
      return { path: f, label: byFolder && parts.length > 1 ? parts[0] : undefined, where: f };
    });
    // Not images (README.md, notes.txt) and files beside the class folders are no data: they
    // are ignored, not reported as bad images.
    raw = raw.filter((r) => {
      const keep = EXTENSIONS.has(extname(r.path).toLowerCase()) &&
        (!byFolder || r.label !== undefined);
      if (!keep) ignored++;
      return keep;
    });
  }

  // 2. Labels to integers, never guessing one for a row that lacks it.
  const entriesRaw = raw;
  const labeled = entriesRaw.some((r) => r.label !== undefined);
  let labelOf: (r: RawEntry) => number | undefined = () => undefined;
  if (labeled && !classes) classes = manifestClasses(entriesRaw, manifestPath ?? dir);
  if (labeled) {
    const index = new Map((classes ?? []).map((c, i) => [c, i]));
    labelOf = (r) => (classes ? index.get(String(r.label)) : Number(r.label));
  }
  const candidates: RawEntry[] = [];
  for (const r of entriesRaw) {
    if (labeled && r.label === undefined) {
      skip(r.where, "no label while other entries have one", "no label");
    } else if (!EXTENSIONS.has(extname(r.path).toLowerCase())) {
      skip(r.where, `unsupported file type ${JSON.stringify(extname(r.path))}`, "unsupported type");
    } else candidates.push(r);
  }
  rejectDuplicates(candidates, manifestPath ?? dir);

  // 3. Check files (bounded concurrency; nothing is kept but the verdict).
  const sharp = await loadSharp();
  const decodeOne = (path: string) =>
    sharp(path, { failOn: "warning" })
      .flatten({ background: "#ffffff" })
      .resize(width, height, { fit, background: "#ffffff" })
      [channels === 1 ? "greyscale" : "removeAlpha"]()
      .toColourspace(channels === 1 ? "b-w" : "srgb")
      .raw()
      .toBuffer({ resolveWithObject: true });
  type Verdict = [reason: string, kind: string] | null;
  const check = async (r: RawEntry): Promise<Verdict> => {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(r.path);
    } catch {
      return ["file not found", "missing"];
    }
    if (!info.isFile) return ["not a file", "not a file"];
    if (info.size === 0) return ["zero-byte file", "empty"];
    if (verify === "none") return null;
    const head = new Uint8Array(16);
    const tail = new Uint8Array(Math.min(32, info.size));
    const f = await Deno.open(r.path);
    try {
      await f.read(head);
      await f.seek(info.size - tail.length, Deno.SeekMode.Start);
      let got = 0;
      while (got < tail.length) {
        const n = await f.read(tail.subarray(got));
        if (n === null) break;
        got += n;
      }
    } catch (e) {
      return [`cannot read (${(e as Error).message})`, "unreadable"];
    } finally {
      f.close();
    }
    const format = sniff(head);
    if (!format) return ["not a JPEG, PNG, WebP, GIF or TIFF image", "not an image"];
    if (!intactEnd(format, tail, info.size, head)) {
      return [`truncated ${format.toUpperCase()} (no end marker)`, "truncated"];
    }
    try {
      const meta = await sharp(r.path).metadata();
      if (!meta.width || !meta.height) return ["image has no size", "undecodable"];
      if (verify === "decode") await decodeOne(r.path);
    } catch (e) {
      return [`cannot decode (${(e as Error).message.split("\n")[0]})`, "undecodable"];
    }
    return null;
  };
  const verdicts: Verdict[] = new Array(candidates.length);
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < candidates.length) {
      const i = next++;
      verdicts[i] = await check(candidates[i]);
    }
  }));
  const entries: Entry[] = [];
  candidates.forEach((r, i) => {
    const v = verdicts[i];
    if (v !== null) {
      skip(r.where, v[0], v[1]);
      return;
    }
    const e: Entry = { path: r.path };
    const l = labelOf(r);
    if (l !== undefined) e.label = l;
    if (r.text !== undefined) e.text = r.text;
    entries.push(e);
  });
  if (entries.length === 0) {
    throw new DatasetError(
      `Cannot load image folder ${dir}: no usable image (${skipped} skipped${
        warnings.length ? `; first: ${warnings[0]}` : ""
      }${ignored ? `; ${ignored} non-image file${ignored > 1 ? "s" : ""} ignored` : ""})`,
    );
  }
  const numClasses = classes
    ? classes.length
    : labeled
    ? Math.max(...entries.map((e) => e.label ?? 0)) + 1
    : undefined;
  const name = `image-folder:${root}`;
  const expected = height * width * channels;
  const ds: ImageFolder = {
    name,
    length: entries.length,
    shape: [height, width, channels],
    skipped,
    skippedBy,
    ignored,
    warnings,
    paths: entries.map((e) => e.path),
    async get(index: number): Promise<Sample> {
      checkIndex(name, index, entries.length);
      const e = entries[index];
      let out;
      try {
        out = await decodeOne(e.path);
      } catch (cause) {
        throw new DatasetError(`Cannot decode ${e.path}: ${(cause as Error).message}`, { cause });
      }
      if (out.data.length !== expected) {
        throw new DatasetError(
          `Cannot decode ${e.path}: expected ${expected} bytes of [${height},${width},${channels}], received ${out.data.length}`,
        );
      }
      const s: Sample = {
        image: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length),
      };
      if (e.label !== undefined) s.label = e.label;
      if (e.text !== undefined) s.text = e.text;
      return s;
    },
  };
  return Object.assign(
    ds,
    classes ? { classes } : {},
    numClasses !== undefined ? { numClasses } : {},
  );
}
