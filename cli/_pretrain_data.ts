/**
 * `deno task pretrain`'s data: the training set `--dataset` names (MNIST, Fashion-MNIST, text
 * lines, an image folder), cut to `--train-size`, and the labeled images of the kNN monitor.
 *
 * @module
 */
import {
  type Dataset,
  fashionMnist,
  imageFolder,
  mnist,
  mnistLines,
  syntheticTextLines,
} from "../data/mod.ts";
import type { InMemoryDataset } from "../data/in_memory.ts";
import { type ParsedOptions, UsageError } from "./_args.ts";
import { formatCounts, type ImageCounts } from "./_runs.ts";

/** The data of a run: what it trains on and, for labeled datasets, the kNN monitor's sets. */
export interface Data {
  train: Dataset;
  labeled?: InMemoryDataset;
  test?: InMemoryDataset;
  kind: "digits" | "text" | "folder";
  label: string;
  images?: ImageCounts;
}

/**
 * Opens `--dataset` (an image folder prints its counts once).
 *
 * @param name the dataset
 * @param o the options (`seed`, `trainSize`)
 * @returns the training set and, for MNIST-like data, the labeled train and test sets
 */
export async function loadData(name: string, o: ParsedOptions): Promise<Data> {
  const seed = o.seed as number;
  const size = o.trainSize as number | undefined;
  const head = <T extends Dataset>(ds: T): T =>
    size === undefined || size >= ds.length ? ds : subset(ds, size);
  if (name === "mnist" || name === "fashion-mnist") {
    const load = name === "mnist" ? mnist : fashionMnist;
    const [train, test] = await Promise.all([load("train"), load("test")]);
    return {
      train: head(train),
      labeled: train,
      test,
      kind: "digits",
      label: name === "mnist" ? "MNIST" : "Fashion-MNIST",
    };
  }
  if (name === "synthetic-text") {
    return {
      train: syntheticTextLines({ length: size ?? 20000, seed }),
      kind: "text",
      label: "synthetic text lines",
    };
  }
  if (name === "mnist-lines") {
    return {
      train: await mnistLines({ split: "train", seed, ...(size ? { length: size } : {}) }),
      kind: "text",
      label: "MNIST digit lines",
    };
  }
  const dir = name.slice("folder:".length);
  if (!dir) throw new UsageError('--dataset folder:<dir> needs a folder, received "folder:"');
  const ds = await imageFolder(dir);
  const images = {
    loaded: ds.length,
    skipped: ds.skipped,
    reasons: { ...ds.skippedBy },
    ignored: ds.ignored,
  };
  console.error(`${dir}: ${formatCounts(images)}`);
  return { train: head(ds), kind: "folder", label: dir, images };
}

function subset<T extends Dataset>(ds: T, n: number): T {
  return { ...ds, name: `${ds.name}[:${n}]`, length: n, get: (i: number) => ds.get(i) };
}
