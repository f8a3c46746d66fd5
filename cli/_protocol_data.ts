/**
 * The data of `deno task protocol`: an unlabeled pretraining set, a labeled set and a disjoint
 * held-out test set, from synthetic text lines, MNIST digit lines or an image folder.
 *
 * @module
 */
import { type Dataset, DatasetError, type Sample } from "../data/mod.ts";
import { imageFolder, mnistLines, pcg32, syntheticTextLines } from "../data/mod.ts";
import { UsageError } from "./_args.ts";
import type { ImageCounts } from "./_runs.ts";

/** A set held in memory: `get` is synchronous and costs nothing. */
export interface MemorySet extends Dataset {
  /** The samples, by index. */
  readonly samples: readonly Sample[];
  get(index: number): Sample;
}

/** What the protocol trains and scores on. */
export interface ProtocolData {
  /** Pretraining images (labels unused). */
  unlabeled: Dataset;
  /** The labeled set; the smaller labeled sizes are its prefixes. */
  labeled: MemorySet;
  /** The held-out test set. */
  test: MemorySet;
  /** `sequence`: CTC recognition of `text`; `class`: top-1 classification of `label`. */
  task: "sequence" | "class";
  /** Characters of the transcripts (sequence task). */
  charset?: string;
  /** Number of classes (class task). */
  numClasses?: number;
  /** Image shape `[H, W, C]`. */
  shape: [number, number, number];
  /** Human-readable name. */
  label: string;
  /** How the three sets are kept apart. */
  split: string;
  /** An image folder's counts: usable images, skipped ones by reason, ignored non-images. */
  images?: ImageCounts;
}

/** The sizes of the three sets. */
export interface ProtocolSizes {
  unlabeled: number;
  labeled: number;
  test: number;
}

/** Memory budget for holding the unlabeled set in memory instead of re-rendering it each epoch. */
const IN_MEMORY_BYTES = 512 * 1024 * 1024;

/** Decode failures met while loading sets into memory: each bad index is tried and reported once. */
export interface SkipLog {
  /** Indices whose `get` failed, with the reason. */
  readonly bad: Map<number, string>;
  /** Called once per bad index. */
  warn: (message: string) => void;
}

/** A skip log that warns on stderr (`selfsup: ...`). */
export function skipLog(warn = (m: string) => console.warn(`selfsup: ${m}`)): SkipLog {
  return { bad: new Map(), warn };
}

/**
 * Loads samples of `ds` into memory in the order of `indices`, a few in flight at a time. An
 * item whose `get` fails (a file that passed the scan but does not decode) is skipped, warned
 * about once through `log` and counted; with `count`, loading stops once that many samples are
 * held, so a skipped item is replaced by the next index.
 */
export async function materialize(
  ds: Dataset,
  indices: readonly number[],
  name: string,
  charset?: string,
  options: { count?: number; log?: SkipLog } = {},
): Promise<MemorySet & { skipped: number; used: number }> {
  const { count = indices.length, log = skipLog() } = options;
  const samples: Sample[] = [];
  const inFlight = 16;
  let used = 0, skipped = 0;
  for (let start = 0; start < indices.length && samples.length < count; start += inFlight) {
    const chunk = indices.slice(start, start + inFlight);
    const got = await Promise.all(chunk.map(async (i) => {
      if (log.bad.has(i)) return null;
      try {
        return await ds.get(i);
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        if (!log.bad.has(i)) {
          log.bad.set(i, reason);
          log.warn(`skipped ${ds.name}[${i}]: ${reason}`);
        }
        return null;
      }
    }));
    for (const s of got) {
      if (samples.length >= count) break;
      used++;
      if (s === null) {
        skipped++;
        continue;
      }
      samples.push({ image: s.image, label: s.label, text: s.text });
    }
  }
  return {
    name,
    length: samples.length,
    shape: ds.shape,
    ...(charset !== undefined ? { charset } : {}),
    ...(ds.numClasses !== undefined ? { numClasses: ds.numClasses } : {}),
    samples,
    get: (i: number) => samples[i],
    skipped,
    used,
  };
}

function range(start: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => start + i);
}

async function maybeInMemory(ds: Dataset, name: string, log?: SkipLog): Promise<Dataset> {
  const [h, w, c] = ds.shape;
  if (ds.length * h * w * c > IN_MEMORY_BYTES) return ds;
  const set = await materialize(ds, range(0, ds.length), name, ds.charset, { log });
  if (set.length === 0) {
    throw new DatasetError(`Cannot load ${ds.name}: none of its ${ds.length} images decodes`);
  }
  return set;
}

/**
 * Builds the three sets. Synthetic lines: three seeds (`seed`, `seed + 1`, `seed + 2`), so the
 * sets share no rendered line. MNIST lines: unlabeled and labeled lines from the MNIST training
 * digits under two seeds, test lines from the MNIST test digits. A folder: a seeded permutation,
 * test first, then the labeled images, pretraining on every image outside the test set.
 */
export async function loadProtocolData(
  dataset: string,
  sizes: ProtocolSizes,
  seed: number,
  options: { cacheDir?: string } = {},
): Promise<ProtocolData> {
  if (dataset === "synthetic-text" || dataset === "mnist-lines") {
    const make = dataset === "synthetic-text"
      ? (length: number, s: number, _split: "train" | "test") =>
        Promise.resolve(syntheticTextLines({ length, seed: s }) as Dataset)
      : (length: number, s: number, split: "train" | "test") =>
        mnistLines({ length, seed: s, split }) as Promise<Dataset>;
    const [u, l, t] = await Promise.all([
      make(sizes.unlabeled, seed, "train"),
      make(sizes.labeled, seed + 1, "train"),
      make(sizes.test, seed + 2, "test"),
    ]);
    const charset = l.charset!;
    const { cacheDir } = options;
    const key = (name: string, s: number, length: number) =>
      cacheDir ? { dir: cacheDir, name, dataset, seed: s, length } : null;
    const [unlabeled, labeled, test] = await Promise.all([
      cached(
        key("unlabeled", seed, sizes.unlabeled),
        u.shape,
        charset,
        () => maybeInMemory(u, "unlabeled"),
      ),
      cached(
        key("labeled", seed + 1, sizes.labeled),
        l.shape,
        charset,
        () => materialize(l, range(0, sizes.labeled), "labeled", charset),
      ),
      cached(
        key("test", seed + 2, sizes.test),
        t.shape,
        charset,
        () => materialize(t, range(0, sizes.test), "test", charset),
      ),
    ]) as [Dataset, MemorySet, MemorySet];
    return {
      unlabeled,
      labeled,
      test,
      task: "sequence",
      charset,
      shape: l.shape,
      label: dataset === "synthetic-text" ? "synthetic text lines" : "MNIST digit lines",
      split: dataset === "synthetic-text"
        ? `three render seeds: unlabeled ${seed}, labeled ${seed + 1}, test ${seed + 2}`
        : `unlabeled (seed ${seed}) and labeled (seed ${
          seed + 1
        }) lines of MNIST training digits, test lines (seed ${seed + 2}) of MNIST test digits`,
    };
  }
  if (!dataset.startsWith("folder:")) {
    throw new UsageError(
      `--dataset must be synthetic-text, mnist-lines or folder:<dir>, received "${dataset}"`,
    );
  }
  const dir = dataset.slice("folder:".length);
  if (!dir) throw new UsageError('--dataset folder:<dir> needs a folder, received "folder:"');
  const ds = await imageFolder(dir, {});
  const log = skipLog();
  const order = range(0, ds.length);
  const prng = pcg32(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(prng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const tooFew = (usable: number) =>
    new UsageError(
      `${dir} holds ${usable} usable images, fewer than --test ${sizes.test} plus --labeled ${sizes.labeled}`,
    );
  if (sizes.test + sizes.labeled > ds.length) throw tooFew(ds.length);
  // test first, then the labeled images, each filled past any image that fails to decode
  const test = await materialize(ds, order, "test", undefined, { count: sizes.test, log });
  const afterTest = order.slice(test.used);
  const labeled = await materialize(ds, afterTest, "labeled", undefined, {
    count: sizes.labeled,
    log,
  });
  if (test.length < sizes.test || labeled.length < sizes.labeled) {
    throw tooFew(ds.length - log.bad.size);
  }
  const rest = afterTest.filter((i) => !log.bad.has(i)).slice(
    0,
    Math.min(sizes.unlabeled, ds.length - sizes.test),
  );
  const probe = labeled.samples[0];
  const task = probe.text !== undefined ? "sequence" : "class";
  if (task === "class" && probe.label === undefined) {
    throw new UsageError(`${dir} has no labels (class folders or a manifest with labels or text)`);
  }
  let charset: string | undefined;
  if (task === "sequence") {
    const chars = new Set<string>();
    for (const s of [...labeled.samples, ...test.samples]) {
      for (const ch of s.text ?? "") chars.add(ch);
    }
    charset = [...chars].sort().join("");
    (labeled as { charset?: string }).charset = charset;
    (test as { charset?: string }).charset = charset;
  }
  const unlabeledView: Dataset = {
    name: `${ds.name}[pretrain]`,
    length: rest.length,
    shape: ds.shape,
    get: (i: number) => ds.get(rest[i]),
  };
  const numClasses = ds.numClasses ?? ds.classes?.length ??
    1 + Math.max(...[...labeled.samples, ...test.samples].map((s) => s.label ?? 0));
  // a failure while loading the pretraining set is warned about once; the in-memory set
  // leaves it out (a set too big for memory goes to the loader, which skips it)
  const unlabeled = await maybeInMemory(unlabeledView, "unlabeled", skipLog(log.warn));
  const decodeFailures = log.bad.size +
    ("skipped" in unlabeled ? (unlabeled as { skipped: number }).skipped : 0);
  const reasons: Record<string, number> = { ...ds.skippedBy };
  if (decodeFailures > 0) reasons.undecodable = (reasons.undecodable ?? 0) + decodeFailures;
  return {
    unlabeled,
    labeled,
    test,
    task,
    ...(task === "sequence" ? { charset } : { numClasses }),
    shape: ds.shape,
    label: dir,
    split:
      `seeded permutation (seed ${seed}): ${sizes.test} test images, then ${sizes.labeled} labeled; pretraining on images outside the test set`,
    images: {
      loaded: ds.length - decodeFailures,
      skipped: ds.skipped + decodeFailures,
      reasons,
      ignored: ds.ignored,
    },
  };
}

/** Where and under which name a rendered set is cached, and what it must match. */
interface CacheKey {
  dir: string;
  name: string;
  dataset: string;
  seed: number;
  length: number;
}

/**
 * A rendered set from `key.dir` when it holds one for the same dataset, seed, length and shape;
 * else `make()`'s, written there (pixels in `<name>.bin`, transcripts and labels in
 * `<name>.json`, each by rename) when it is held in memory. A resumed run of 50,000 lines then
 * reads 200 MB instead of rendering them again (minutes on a loaded CPU).
 */
async function cached<T extends Dataset>(
  key: CacheKey | null,
  shape: [number, number, number],
  charset: string,
  make: () => Promise<T>,
): Promise<T | MemorySet> {
  if (!key) return await make();
  const base = `${key.dir}/${key.name}`;
  const expect = { dataset: key.dataset, seed: key.seed, length: key.length, shape };
  try {
    const meta = JSON.parse(await Deno.readTextFile(`${base}.json`));
    if (JSON.stringify(meta.key) === JSON.stringify(expect)) {
      const bytes = await Deno.readFile(`${base}.bin`);
      const size = shape[0] * shape[1] * shape[2];
      if (bytes.length === size * meta.texts.length) {
        const samples: Sample[] = meta.texts.map((text: string | null, i: number) => ({
          image: bytes.slice(i * size, (i + 1) * size),
          ...(text !== null ? { text } : {}),
          ...(meta.labels[i] !== null ? { label: meta.labels[i] } : {}),
        }));
        return {
          name: key.name,
          length: samples.length,
          shape,
          charset,
          samples,
          get: (i: number) => samples[i],
        };
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) && !(e instanceof SyntaxError)) throw e;
  }
  const set = await make();
  if (!("samples" in set)) return set; // too big for memory: nothing to cache
  const samples = (set as unknown as MemorySet).samples;
  await Deno.mkdir(key.dir, { recursive: true });
  const size = shape[0] * shape[1] * shape[2];
  const bytes = new Uint8Array(size * samples.length);
  samples.forEach((s, i) => bytes.set(s.image, i * size));
  await Deno.writeFile(`${base}.bin.tmp`, bytes);
  await Deno.rename(`${base}.bin.tmp`, `${base}.bin`);
  await Deno.writeTextFile(
    `${base}.json.tmp`,
    JSON.stringify({
      key: expect,
      texts: samples.map((s) => s.text ?? null),
      labels: samples.map((s) => s.label ?? null),
    }),
  );
  await Deno.rename(`${base}.json.tmp`, `${base}.json`);
  return set;
}

/** The first `n` samples of a set (the nested labeled subsets). */
export function prefix(set: MemorySet, n: number): MemorySet {
  const samples = set.samples.slice(0, n);
  return {
    ...set,
    name: `${set.name}[:${n}]`,
    length: samples.length,
    samples,
    get: (i) => samples[i],
  };
}
