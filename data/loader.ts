/**
 * The loader: seeded shuffle, batching, prefetch, parallel decode, resumable position.
 *
 * @module
 */
import { type Dataset, DatasetError, type Sample } from "./dataset.ts";
import { itemPrng } from "./_util.ts";

/** One batch of uint8 images, as the loader hands it to the training step. */
export interface Batch {
  /** Pixels, `[B, H, W, C]` row-major uint8. */
  images: Uint8Array;
  /** `[B, H, W, C]`; `B` is `batchSize` except for the last batch of an epoch when `dropLast` is false. */
  shape: [number, number, number, number];
  /** Class labels (`-1` where a sample has none), when any sample of the batch is labeled. */
  labels?: Int32Array;
  /** Transcripts (`""` where a sample has none), when any sample of the batch has one. */
  texts?: string[];
  /** The dataset index of each sample. */
  indices: Uint32Array;
  /** The epoch this batch belongs to, from 0. */
  epoch: number;
  /** The batch's step within its epoch, from 0. */
  step: number;
}

/**
 * Where a loader stands: JSON-serializable, saved with checkpoints. A loader built with this
 * position yields exactly the batches an uninterrupted loader would have yielded next.
 */
export interface LoaderPosition {
  /** The epoch of the next batch. */
  epoch: number;
  /** Batches already yielded in that epoch. */
  step: number;
  /** Items of that epoch's order already consumed (decoded or skipped). */
  cursor: number;
  /** Items skipped so far (their `get` threw or gave a wrong size). */
  skipped: number;
  /** The loader's seed, checked on resume. */
  seed: number;
  /** The dataset length, checked on resume. */
  length: number;
}

/** Options for {@linkcode Loader}. */
export interface LoaderOptions {
  /** Samples per batch. */
  batchSize: number;
  /**
   * Seed of the per-epoch shuffle.
   * @default 0
   */
  seed?: number;
  /**
   * Visit the items in a fresh seeded permutation each epoch (else in index order).
   * @default true
   */
  shuffle?: boolean;
  /**
   * Drop the last batch of an epoch when it is short (so every batch has `batchSize` samples).
   * @default true
   */
  dropLast?: boolean;
  /**
   * Batches assembled ahead of the consumer, overlapping decoding with the training step
   * (0: assemble only on request).
   * @default 2
   */
  prefetch?: number;
  /**
   * `get` calls in flight at once (decoding with sharp runs on libuv's thread pool, so a few
   * in flight use all cores).
   * @default 8
   */
  concurrency?: number;
  /**
   * Epochs one `for await` loop runs, counted from the current position (a part-done epoch counts
   * as one); `Infinity` streams forever.
   * @default 1
   */
  epochs?: number;
  /** Resume from a position saved by {@linkcode Loader.position}. */
  position?: LoaderPosition;
  /**
   * Called for each skipped item, once per index (a bad file fails again every epoch; it is
   * reported the first time only, and still counted in `skipped` each time).
   * @default a `console.warn` line
   */
  onSkip?: (index: number, reason: unknown) => void;
}

type Item = { index: number; sample?: Sample; error?: unknown };
type Pending = Item | Promise<Item>;
type Skip = { index: number; reason: unknown };
type Produced = { batch: Batch; after: LoaderPosition; skips: Skip[] };

function isThenable(x: unknown): x is PromiseLike<Sample> {
  return !!x && typeof (x as { then?: unknown }).then === "function";
}

function shuffled(n: number, seed: number, epoch: number): Uint32Array {
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const prng = itemPrng(seed, epoch, 0x10ad);
  for (let i = n - 1; i > 0; i--) { // Fisher-Yates
    const j = Math.floor(prng() * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

/**
 * Feeds training: turns a {@linkcode Dataset} into an async iterable of uint8 {@linkcode Batch}es.
 *
 * - Each epoch visits the items in a permutation drawn from `(seed, epoch)`, so any epoch can be
 *   rebuilt without history.
 * - Up to `concurrency` `get` calls run at once and up to `prefetch` whole batches are assembled
 *   ahead of the consumer; memory stays bounded by `prefetch + 1` batches plus the items in flight.
 * - An item whose `get` throws (or whose image has the wrong size) is skipped, reported through
 *   `onSkip` (once, when the batch after it is handed out) and counted in
 *   {@linkcode Loader.skipped}; the batch is filled from the next items.
 *   A `DatasetError` is raised only when a whole epoch's worth of items fails in a row.
 * - Each `for await` loop runs `epochs` epochs (default one) from the current position and the
 *   next loop continues where it stopped, also after a `break`. {@linkcode Loader.position} is
 *   JSON; a loader built with it yields exactly the batches an uninterrupted one would.
 *
 * @example
 * ```ts
 * import { Loader } from "./loader.ts";
 * import assert from "node:assert/strict";
 * const ds = { name: "n", length: 10, shape: [1, 1, 1] as [number, number, number],
 *   get: (i: number) => ({ image: Uint8Array.of(i), label: i }) };
 * const loader = new Loader(ds, { batchSize: 4, seed: 1 });
 * const seen: number[] = [];
 * for await (const batch of loader) seen.push(...batch.labels!);
 * assert.equal(seen.length, 8); // two full batches, the short one is dropped
 * assert.equal(new Set(seen).size, 8);
 * assert.deepEqual(loader.position().epoch, 1);
 * ```
 */
export class Loader implements AsyncIterable<Batch> {
  /** The source. */
  readonly dataset: Dataset;
  /** Samples per batch. */
  readonly batchSize: number;
  /** Shuffle seed. */
  readonly seed: number;
  /** Whether epochs are shuffled. */
  readonly shuffle: boolean;
  /** Whether a short last batch is dropped. */
  readonly dropLast: boolean;
  /** Batches assembled ahead. */
  readonly prefetch: number;
  /** `get` calls in flight. */
  readonly concurrency: number;
  /** Epochs per `for await` loop. */
  readonly epochs: number;
  #pos: LoaderPosition;
  #onSkip: (index: number, reason: unknown) => void;
  #iterating = false;
  #perms = new Map<number, Uint32Array>();
  #warned = new Set<number>();

  /**
   * Builds a loader; nothing is read until the first `for await`.
   *
   * @param dataset the source
   * @param options batch size, seed, shuffle, prefetch, concurrency, epochs, position
   */
  constructor(dataset: Dataset, options: LoaderOptions) {
    const {
      batchSize,
      seed = 0,
      shuffle = true,
      dropLast = true,
      prefetch = 2,
      concurrency = 8,
      epochs = 1,
      position,
      onSkip = (index: number, reason: unknown) =>
        console.warn(
          `selfsup: skipped ${dataset.name}[${index}]: ${
            reason instanceof Error ? reason.message : String(reason)
          }`,
        ),
    } = options;
    if (!dataset || typeof dataset.get !== "function" || !Array.isArray(dataset.shape)) {
      throw new TypeError("Cannot build loader: expected a Dataset with get() and shape");
    }
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(
        `Cannot build loader: batchSize must be a positive integer, received ${batchSize}`,
      );
    }
    if (!Number.isInteger(seed)) {
      throw new RangeError(`Cannot build loader: seed must be an integer, received ${seed}`);
    }
    if (!Number.isInteger(prefetch) || prefetch < 0) {
      throw new RangeError(
        `Cannot build loader: prefetch must be a non-negative integer, received ${prefetch}`,
      );
    }
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(
        `Cannot build loader: concurrency must be a positive integer, received ${concurrency}`,
      );
    }
    if (!(epochs >= 1) || (epochs !== Infinity && !Number.isInteger(epochs))) {
      throw new RangeError(
        `Cannot build loader: epochs must be a positive integer or Infinity, received ${epochs}`,
      );
    }
    if (dataset.length < 1) {
      throw new DatasetError(`Cannot build loader: dataset ${dataset.name} is empty`);
    }
    if (dropLast && dataset.length < batchSize) {
      throw new DatasetError(
        `Cannot build loader: dataset ${dataset.name} has ${dataset.length} items, fewer than batchSize ${batchSize} with dropLast`,
      );
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.seed = seed;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.prefetch = prefetch;
    this.concurrency = concurrency;
    this.epochs = epochs;
    // a bad file fails again every epoch: report each index once per loader (once per run)
    this.#onSkip = (index, reason) => {
      if (this.#warned.has(index)) return;
      this.#warned.add(index);
      onSkip(index, reason);
    };
    if (position) {
      const keys = ["epoch", "step", "cursor", "skipped"] as const;
      for (const k of keys) {
        if (!Number.isInteger(position[k]) || position[k] < 0) {
          throw new RangeError(
            `Cannot resume loader: position.${k} must be a non-negative integer, received ${
              position[k]
            }`,
          );
        }
      }
      if (position.seed !== seed || position.length !== dataset.length) {
        throw new RangeError(
          `Cannot resume loader: position was saved with seed ${position.seed} and length ${position.length}, received seed ${seed} and length ${dataset.length}`,
        );
      }
      if (position.cursor > dataset.length) {
        throw new RangeError(
          `Cannot resume loader: position.cursor must be at most ${dataset.length}, received ${position.cursor}`,
        );
      }
      this.#pos = { ...position };
    } else {
      this.#pos = { epoch: 0, step: 0, cursor: 0, skipped: 0, seed, length: dataset.length };
    }
  }

  /** The position after the last batch handed out: save it, pass it back as `options.position`. */
  position(): LoaderPosition {
    return { ...this.#pos };
  }

  /** Items skipped so far (their `get` threw or gave an image of the wrong size). */
  get skipped(): number {
    return this.#pos.skipped;
  }

  /** Batches per epoch when no item is skipped. */
  get stepsPerEpoch(): number {
    const n = this.dataset.length / this.batchSize;
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  #indexAt(g: number): number {
    const n = this.dataset.length;
    const epoch = Math.floor(g / n);
    if (!this.shuffle) return g - epoch * n;
    let perm = this.#perms.get(epoch);
    if (!perm) {
      for (const e of this.#perms.keys()) if (e < epoch) this.#perms.delete(e);
      perm = shuffled(n, this.seed, epoch);
      this.#perms.set(epoch, perm);
    }
    return perm[g - epoch * n];
  }

  #fetch(index: number): Pending {
    try {
      const r = this.dataset.get(index);
      if (isThenable(r)) {
        return Promise.resolve(r).then(
          (sample) => ({ index, sample }),
          (error) => ({ index, error }),
        );
      }
      return { index, sample: r };
    } catch (error) {
      return { index, error };
    }
  }

  /** Iterates `epochs` epochs from the current position. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    if (this.#iterating) {
      throw new Error("Cannot iterate loader: it is already being iterated");
    }
    this.#iterating = true;
    const n = this.dataset.length;
    const [h, w, c] = this.dataset.shape;
    const size = h * w * c;
    const B = this.batchSize;
    const start = this.#pos;
    const endEpoch = start.epoch + this.epochs;
    const endG = endEpoch * n; // may be Infinity
    let head = start.epoch * n + start.cursor; // next sequence number to consume
    let issued = head; // next sequence number to request
    const window: Pending[] = [];
    let prodStep = start.step;
    let prodEpoch = start.epoch;
    let prodSkipped = start.skipped;
    let failStreak = 0;
    let sinceEmit = 0;
    let pendingSkips: Skip[] = []; // reported when the batch after them is handed out

    const buffer: Produced[] = [];
    let stopped = false;
    let finished = false;
    let failure: unknown = undefined;
    let consumerWaiting = false;
    let wakeProducer: (() => void) | null = null;
    let wakeConsumer: (() => void) | null = null;
    const signalProducer = () => {
      const f = wakeProducer;
      wakeProducer = null;
      f?.();
    };
    const signalConsumer = () => {
      const f = wakeConsumer;
      wakeConsumer = null;
      f?.();
    };

    const take = async (): Promise<Item> => {
      while (window.length < this.concurrency && issued < endG) {
        window.push(this.#fetch(this.#indexAt(issued)));
        issued++;
      }
      const item = await window.shift()!;
      head++;
      return item;
    };

    const assemble = async (): Promise<Produced | null> => {
      while (head < endG) {
        const epoch = Math.floor(head / n);
        if (epoch !== prodEpoch) {
          prodEpoch = epoch;
          prodStep = 0;
        }
        const epochEnd = (epoch + 1) * n;
        const samples: Sample[] = [];
        const indices: number[] = [];
        while (samples.length < B && head < epochEnd) {
          const item = await take();
          let reason = item.error;
          const image = item.sample?.image;
          if (reason === undefined && (!(image instanceof Uint8Array) || image.length !== size)) {
            reason = new TypeError(
              `expected an image of [${this.dataset.shape}] (${size} bytes), received ${
                image instanceof Uint8Array ? `${image.length} bytes` : typeof image
              }`,
            );
          }
          if (reason !== undefined) {
            prodSkipped++;
            failStreak++;
            sinceEmit++;
            pendingSkips.push({ index: item.index, reason });
            if (failStreak >= n) {
              throw new DatasetError(
                `Cannot load batches from ${this.dataset.name}: ${n} items in a row failed; last: ${
                  reason instanceof Error ? reason.message : String(reason)
                }`,
              );
            }
            continue;
          }
          failStreak = 0;
          sinceEmit++;
          samples.push(item.sample!);
          indices.push(item.index);
        }
        if (samples.length === 0 || (samples.length < B && this.dropLast)) {
          if (sinceEmit > n + B) {
            throw new DatasetError(
              `Cannot load batches from ${this.dataset.name}: a whole epoch gave fewer than batchSize ${B} usable items`,
            );
          }
          continue; // a short tail: the epoch is over
        }
        sinceEmit = 0;
        const k = samples.length;
        const images = new Uint8Array(k * size);
        let labels: Int32Array | undefined;
        let texts: string[] | undefined;
        for (let i = 0; i < k; i++) {
          const s = samples[i];
          images.set(s.image, i * size);
          if (s.label !== undefined) {
            labels ??= new Int32Array(k).fill(-1);
            labels[i] = s.label;
          }
          if (s.text !== undefined) {
            texts ??= new Array<string>(k).fill("");
            texts[i] = s.text;
          }
        }
        const batch: Batch = {
          images,
          shape: [k, h, w, c],
          indices: Uint32Array.from(indices),
          epoch,
          step: prodStep,
        };
        if (labels) batch.labels = labels;
        if (texts) batch.texts = texts;
        prodStep++;
        const cursor = head - epoch * n;
        const after: LoaderPosition = cursor === n
          ? { ...start, epoch: epoch + 1, step: 0, cursor: 0, skipped: prodSkipped }
          : { ...start, epoch, step: prodStep, cursor, skipped: prodSkipped };
        const skips = pendingSkips;
        pendingSkips = [];
        return { batch, after, skips };
      }
      return null;
    };

    const produce = async () => {
      try {
        while (!stopped) {
          while (!stopped && buffer.length >= this.prefetch && !consumerWaiting) {
            await new Promise<void>((r) => (wakeProducer = r));
          }
          if (stopped) break;
          const p = await assemble();
          if (p === null) break;
          buffer.push(p);
          consumerWaiting = false;
          signalConsumer();
        }
      } catch (e) {
        failure = e;
      } finally {
        finished = true;
        signalConsumer();
      }
    };

    const producer = produce();
    let completed = false;
    try {
      while (true) {
        if (buffer.length === 0) {
          if (finished) break;
          consumerWaiting = true;
          signalProducer();
          await new Promise<void>((r) => (wakeConsumer = r));
          continue;
        }
        const { batch, after, skips } = buffer.shift()!;
        signalProducer();
        this.#pos = after;
        for (const { index, reason } of skips) this.#onSkip(index, reason);
        yield batch;
      }
      if (failure !== undefined) throw failure;
      for (const { index, reason } of pendingSkips) this.#onSkip(index, reason);
      completed = true;
    } finally {
      stopped = true;
      signalProducer();
      // Let in-flight decodes settle so nothing runs (or rejects) after the loop is gone.
      await producer;
      await Promise.all(window);
      if (completed && endEpoch !== Infinity) {
        const lastSkipped = prodSkipped;
        this.#pos = { ...start, epoch: endEpoch, step: 0, cursor: 0, skipped: lastSkipped };
      }
      this.#iterating = false;
    }
  }
}
