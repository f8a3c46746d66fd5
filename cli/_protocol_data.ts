/**
 * The data of `deno task protocol`: an unlabeled pretraining set, a labeled set and a disjoint
 * held-out test set, from synthetic text lines, MNIST digit lines or an image folder.
 *
 * @module
 */
import type { Dataset, Sample } from "../data/mod.ts";
import { imageFolder, mnistLines, pcg32, syntheticTextLines } from "../data/mod.ts";
import { UsageError } from "./_args.ts";

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
}

/** The sizes of the three sets. */
export interface ProtocolSizes {
  unlabeled: number;
  labeled: number;
  test: number;
}

/** Memory budget for holding the unlabeled set in memory instead of re-rendering it each epoch. */
const IN_MEMORY_BYTES = 512 * 1024 * 1024;

/** Loads `indices` of `ds` into memory, a few samples in flight at a time. */
export async function materialize(
  ds: Dataset,
  indices: readonly number[],
  name: string,
  charset?: string,
): Promise<MemorySet> {
  const samples: Sample[] = new Array(indices.length);
  const inFlight = 16;
  for (let start = 0; start < indices.length; start += inFlight) {
    const chunk = indices.slice(start, start + inFlight);
    const got = await Promise.all(chunk.map((i) => ds.get(i)));
    got.forEach((s, k) => {
      samples[start + k] = { image: s.image, label: s.label, text: s.text };
    });
  }
  return {
    name,
    length: samples.length,
    shape: ds.shape,
    ...(charset !== undefined ? { charset } : {}),
    ...(ds.numClasses !== undefined ? { numClasses: ds.numClasses } : {}),
    samples,
    get: (i: number) => samples[i],
  };
}

function range(start: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => start + i);
}

async function maybeInMemory(ds: Dataset, name: string): Promise<Dataset> {
  const [h, w, c] = ds.shape;
  if (ds.length * h * w * c > IN_MEMORY_BYTES) return ds;
  return await materialize(ds, range(0, ds.length), name, ds.charset);
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
    const [unlabeled, labeled, test] = await Promise.all([
      maybeInMemory(u, "unlabeled"),
      materialize(l, range(0, sizes.labeled), "labeled", charset),
      materialize(t, range(0, sizes.test), "test", charset),
    ]);
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
  const order = range(0, ds.length);
  const prng = pcg32(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(prng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  if (sizes.test + sizes.labeled > ds.length) {
    throw new UsageError(
      `${dir} holds ${ds.length} usable images, fewer than --test ${sizes.test} plus --labeled ${sizes.labeled}`,
    );
  }
  const testIdx = order.slice(0, sizes.test);
  const labeledIdx = order.slice(sizes.test, sizes.test + sizes.labeled);
  const rest = order.slice(
    sizes.test,
    sizes.test + Math.min(sizes.unlabeled, ds.length - sizes.test),
  );
  const probe = await ds.get(labeledIdx[0]);
  const task = probe.text !== undefined ? "sequence" : "class";
  if (task === "class" && probe.label === undefined) {
    throw new UsageError(`${dir} has no labels (class folders or a manifest with labels or text)`);
  }
  let charset: string | undefined;
  const labeled = await materialize(ds, labeledIdx, "labeled");
  const test = await materialize(ds, testIdx, "test");
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
  return {
    unlabeled: await maybeInMemory(unlabeledView, "unlabeled"),
    labeled,
    test,
    task,
    ...(task === "sequence" ? { charset } : { numClasses }),
    shape: ds.shape,
    label: dir,
    split:
      `seeded permutation (seed ${seed}): ${sizes.test} test images, then ${sizes.labeled} labeled; pretraining on images outside the test set`,
  };
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
