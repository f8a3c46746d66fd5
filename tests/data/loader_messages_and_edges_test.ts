/**
 * The loader's exact messages, its documented defaults and the edges of its bookkeeping: each
 * constructor check (and the value just inside it), the warning a skipped item prints, the
 * shuffle order against an explicit Fisher-Yates on the documented stream, partial label/text
 * columns, the position after every batch and after the loop, and both DatasetErrors of a
 * source that cannot fill batches. `loader_test.ts` checks the errors by class only; these
 * assertions were added from a mutation run (issue 17).
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Batch, Loader, type LoaderPosition } from "../../data/loader.ts";
import { type Dataset, DatasetError, type Sample } from "../../data/dataset.ts";
import { itemPrng } from "../../data/_util.ts";

/** Image i is filled with i % 256; `bad` items throw (or reject, when `async`) `bad item i`. */
function counting(
  length: number,
  options: { bad?: Set<number>; async?: boolean; reason?: (i: number) => unknown } = {},
): Dataset {
  return {
    name: "counting",
    length,
    shape: [1, 2, 1],
    get(i: number): Sample | Promise<Sample> {
      const fail = options.bad?.has(i);
      const reason = options.reason ? options.reason(i) : new Error(`bad item ${i}`);
      if (options.async) {
        return fail
          ? Promise.reject(reason)
          : Promise.resolve({ image: new Uint8Array(2).fill(i) });
      }
      if (fail) throw reason;
      return { image: new Uint8Array(2).fill(i), label: i };
    },
  };
}

async function collect(loader: Loader, maxBatches = Infinity): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader) {
    out.push(b);
    if (out.length >= maxBatches) break;
  }
  return out;
}

const quiet = { onSkip: () => {} };

function throwsExactly(
  f: () => unknown,
  kind: new (...args: never[]) => Error,
  message: string,
): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof kind, `${kind.name} expected, received ${e}`);
    assert.equal((e as Error).message, message);
    return true;
  });
}

Deno.test("loader: each constructor check gives its exact message; the value just inside passes", () => {
  const ds = counting(5);
  const bad = "Cannot build loader: ";
  throwsExactly(
    () => new Loader(null as unknown as Dataset, { batchSize: 1 }),
    TypeError,
    `${bad}expected a Dataset with get() and shape`,
  );
  throwsExactly(
    () => new Loader({ ...ds, get: undefined } as unknown as Dataset, { batchSize: 1 }),
    TypeError,
    `${bad}expected a Dataset with get() and shape`,
  );
  throwsExactly(
    () =>
      new Loader({ ...ds, get: ds.get, shape: "1,2,1" } as unknown as Dataset, { batchSize: 1 }),
    TypeError,
    `${bad}expected a Dataset with get() and shape`,
  );
  for (const batchSize of [0, 1.5]) {
    throwsExactly(
      () => new Loader(ds, { batchSize }),
      RangeError,
      `${bad}batchSize must be a positive integer, received ${batchSize}`,
    );
  }
  throwsExactly(
    () => new Loader(ds, { batchSize: 1, seed: 0.5 }),
    RangeError,
    `${bad}seed must be an integer, received 0.5`,
  );
  for (const prefetch of [-1, 0.5]) {
    throwsExactly(
      () => new Loader(ds, { batchSize: 1, prefetch }),
      RangeError,
      `${bad}prefetch must be a non-negative integer, received ${prefetch}`,
    );
  }
  for (const concurrency of [0, 2.5]) {
    throwsExactly(
      () => new Loader(ds, { batchSize: 1, concurrency }),
      RangeError,
      `${bad}concurrency must be a positive integer, received ${concurrency}`,
    );
  }
  for (const epochs of [0, 1.5, NaN, -Infinity]) {
    throwsExactly(
      () => new Loader(ds, { batchSize: 1, epochs }),
      RangeError,
      `${bad}epochs must be a positive integer or Infinity, received ${epochs}`,
    );
  }
  throwsExactly(
    () => new Loader(counting(0), { batchSize: 1 }),
    DatasetError,
    `${bad}dataset counting is empty`,
  );
  throwsExactly(
    () => new Loader(ds, { batchSize: 6 }),
    DatasetError,
    `${bad}dataset counting has 5 items, fewer than batchSize 6 with dropLast`,
  );
  // just inside every bound
  new Loader(ds, { batchSize: 5 });
  new Loader(ds, { batchSize: 6, dropLast: false });
  new Loader(ds, { batchSize: 1, prefetch: 0, concurrency: 1, epochs: Infinity, seed: -3 });
  new Loader(counting(1), { batchSize: 1 });
});

Deno.test("loader: position checks name the key and the bound; cursor = length is accepted", () => {
  const ds = counting(5);
  const pos: LoaderPosition = { epoch: 1, step: 2, cursor: 4, skipped: 0, seed: 3, length: 5 };
  for (const k of ["epoch", "step", "cursor", "skipped"] as const) {
    for (const v of [-1, 0.5]) {
      throwsExactly(
        () => new Loader(ds, { batchSize: 2, seed: 3, position: { ...pos, [k]: v } }),
        RangeError,
        `Cannot resume loader: position.${k} must be a non-negative integer, received ${v}`,
      );
    }
  }
  const mismatch =
    "Cannot resume loader: position was saved with seed 3 and length 5, received seed";
  throwsExactly(
    () => new Loader(ds, { batchSize: 2, seed: 4, position: pos }),
    RangeError,
    `${mismatch} 4 and length 5`,
  );
  throwsExactly(
    () => new Loader(counting(6), { batchSize: 2, seed: 3, position: pos }),
    RangeError,
    "Cannot resume loader: position was saved with seed 3 and length 5, received seed 3 and length 6",
  );
  throwsExactly(
    () => new Loader(ds, { batchSize: 2, seed: 3, position: { ...pos, cursor: 6 } }),
    RangeError,
    "Cannot resume loader: position.cursor must be at most 5, received 6",
  );
  const atEnd = new Loader(ds, { batchSize: 2, seed: 3, position: { ...pos, cursor: 5 } });
  assert.deepEqual(atEnd.position(), { ...pos, cursor: 5 });
  // the position handed out is a copy
  const p = atEnd.position();
  p.epoch = 99;
  assert.equal(atEnd.position().epoch, 1);
});

Deno.test("loader: the documented defaults, stepsPerEpoch, and the fresh position", () => {
  const loader = new Loader(counting(10), { batchSize: 3 });
  assert.deepEqual(
    [
      loader.seed,
      loader.shuffle,
      loader.dropLast,
      loader.prefetch,
      loader.concurrency,
      loader.epochs,
    ],
    [0, true, true, 2, 8, 1],
  );
  assert.equal(loader.stepsPerEpoch, 3);
  assert.equal(new Loader(counting(10), { batchSize: 3, dropLast: false }).stepsPerEpoch, 4);
  assert.equal(new Loader(counting(9), { batchSize: 3, dropLast: false }).stepsPerEpoch, 3);
  assert.deepEqual(loader.position(), {
    epoch: 0,
    step: 0,
    cursor: 0,
    skipped: 0,
    seed: 0,
    length: 10,
  });
  assert.equal(loader.skipped, 0);
});

Deno.test("loader: the shuffle is Fisher-Yates on itemPrng(seed, epoch, 0x10ad), per epoch", async () => {
  const n = 11;
  const reference = (seed: number, epoch: number) => {
    const perm = Array.from({ length: n }, (_, i) => i);
    const prng = itemPrng(seed, epoch, 0x10ad);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(prng() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    return perm;
  };
  for (const seed of [0, 5]) {
    const batches = await collect(
      new Loader(counting(n), { batchSize: 4, seed, epochs: 3, dropLast: false }),
    );
    for (const epoch of [0, 1, 2]) {
      const got = batches.filter((b) => b.epoch === epoch).flatMap((b) => Array.from(b.indices));
      assert.deepEqual(got, reference(seed, epoch), `seed ${seed} epoch ${epoch}`);
    }
  }
  // the default seed is 0
  const byDefault = await collect(new Loader(counting(n), { batchSize: 4, dropLast: false }));
  assert.deepEqual(byDefault.flatMap((b) => Array.from(b.indices)), reference(0, 0));
});

Deno.test("loader: the position after each batch, at an epoch's end and after the loop", async () => {
  // 7 items, batch 3, no dropLast: batches of 3, 3, 1 per epoch; item 4 fails (synchronously)
  const loader = new Loader(counting(7, { bad: new Set([4]) }), {
    batchSize: 3,
    shuffle: false,
    dropLast: false,
    epochs: 2,
    seed: 9,
    ...quiet,
  });
  const seen: [number[], number, number, LoaderPosition][] = [];
  for await (const b of loader) {
    seen.push([Array.from(b.indices), b.epoch, b.step, loader.position()]);
  }
  const at = (epoch: number, step: number, cursor: number, skipped: number) => ({
    epoch,
    step,
    cursor,
    skipped,
    seed: 9,
    length: 7,
  });
  assert.deepEqual(seen, [
    [[0, 1, 2], 0, 0, at(0, 1, 3, 0)],
    [[3, 5, 6], 0, 1, at(1, 0, 0, 1)], // the epoch's last item consumed: on to epoch 1
    [[0, 1, 2], 1, 0, at(1, 1, 3, 1)],
    [[3, 5, 6], 1, 1, at(2, 0, 0, 2)],
  ]);
  assert.deepEqual(loader.position(), at(2, 0, 0, 2));
  // a short tail: the last batch holds the one item left and the next epoch starts at step 0;
  // a batch ending one item before the epoch's end leaves the position inside the epoch
  const tailLoader = new Loader(counting(7), {
    batchSize: 3,
    shuffle: false,
    dropLast: false,
    epochs: 2,
    seed: 9,
  });
  const tail: Batch[] = [];
  const tailPositions: LoaderPosition[] = [];
  for await (const b of tailLoader) {
    tail.push(b);
    tailPositions.push(tailLoader.position());
  }
  assert.deepEqual(tail.map((b) => [b.shape, b.epoch, b.step]), [
    [[3, 1, 2, 1], 0, 0],
    [[3, 1, 2, 1], 0, 1],
    [[1, 1, 2, 1], 0, 2],
    [[3, 1, 2, 1], 1, 0],
    [[3, 1, 2, 1], 1, 1],
    [[1, 1, 2, 1], 1, 2],
  ]);
  assert.deepEqual(tailPositions, [
    at(0, 1, 3, 0),
    at(0, 2, 6, 0),
    at(1, 0, 0, 0),
    at(1, 1, 3, 0),
    at(1, 2, 6, 0),
    at(2, 0, 0, 0),
  ]);
  assert.deepEqual(Array.from(tail[2].images), [6, 6]);
  // a loop that breaks keeps the position of the last batch handed out
  const broken = new Loader(counting(7), { batchSize: 2, shuffle: false, seed: 9 });
  await collect(broken, 2);
  assert.deepEqual(broken.position(), at(0, 2, 4, 0));
  // a second loop may start once the first is over, and continues from there
  const rest = await collect(broken);
  assert.deepEqual(rest.map((b) => Array.from(b.indices)), [[4, 5]]);
  assert.deepEqual(broken.position(), at(1, 0, 0, 0));
});

Deno.test("loader: one loop at a time, with its exact message", async () => {
  const loader = new Loader(counting(6), { batchSize: 2 });
  const first = loader[Symbol.asyncIterator]();
  await first.next();
  const second = loader[Symbol.asyncIterator]();
  await assert.rejects(() => second.next(), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.equal(e.message, "Cannot iterate loader: it is already being iterated");
    return true;
  });
  await first.return(undefined);
  assert.equal((await collect(loader)).length, 2);
});

Deno.test("loader: labels and texts columns fill the samples that lack them with -1 and ''", async () => {
  const ds: Dataset = {
    name: "mixed",
    length: 4,
    shape: [1, 1, 1],
    get: (i) => ({
      image: new Uint8Array([i]),
      ...(i % 2 === 0 ? { label: 10 + i } : {}),
      ...(i >= 2 ? { text: `t${i}` } : {}),
    }),
  };
  const [b] = await collect(new Loader(ds, { batchSize: 4, shuffle: false }));
  assert.deepEqual(Array.from(b.labels!), [10, -1, 12, -1]);
  assert.deepEqual(b.texts, ["", "", "t2", "t3"]);
  assert.deepEqual(Array.from(b.images), [0, 1, 2, 3]);
  const plain: Dataset = { ...ds, get: (i) => ({ image: new Uint8Array([i]) }) };
  const [p] = await collect(new Loader(plain, { batchSize: 4, shuffle: false }));
  assert.ok(!("labels" in p) && !("texts" in p), "no label or text columns when no sample has one");
});

Deno.test("loader: a skipped item's default warning and the reasons onSkip receives", async () => {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.join(" "));
  try {
    await collect(
      new Loader(counting(6, { bad: new Set([1]) }), { batchSize: 2, shuffle: false }),
    );
    await collect(
      new Loader(counting(6, { bad: new Set([2]), async: true, reason: (i) => `no ${i}` }), {
        batchSize: 2,
        shuffle: false,
      }),
    );
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(warnings, [
    "selfsup: skipped counting[1]: bad item 1",
    "selfsup: skipped counting[2]: no 2",
  ]);
  // wrong-size or missing images, and rejected promises, reach onSkip with their reasons
  const reasons: [number, string][] = [];
  const ds: Dataset = {
    name: "odd",
    length: 6,
    shape: [1, 2, 1],
    get: (i) =>
      i === 1
        ? { image: new Uint8Array(3) }
        : i === 3
        ? ({ image: [0, 0] } as unknown as Sample)
        : i === 4
        ? Promise.reject(new Error("gone"))
        : { image: new Uint8Array(2) },
  };
  const loader = new Loader(ds, {
    batchSize: 3,
    shuffle: false,
    onSkip: (i, r) => reasons.push([i, r instanceof Error ? `${r.name}: ${r.message}` : `${r}`]),
  });
  const batches = await collect(loader);
  assert.deepEqual(batches.map((b) => Array.from(b.indices)), [[0, 2, 5]]);
  assert.deepEqual(reasons, [
    [1, "TypeError: expected an image of [1,2,1] (2 bytes), received 3 bytes"],
    [3, "TypeError: expected an image of [1,2,1] (2 bytes), received object"],
    [4, "Error: gone"],
  ]);
  assert.equal(loader.skipped, 3);
});

Deno.test("loader: a source that cannot fill batches ends in a DatasetError saying which way", async () => {
  // every item fails: n failures in a row
  const all = new Set([0, 1, 2, 3, 4]);
  await assert.rejects(
    () =>
      collect(new Loader(counting(5, { bad: all }), { batchSize: 2, shuffle: false, ...quiet })),
    (e: unknown) => {
      assert.ok(e instanceof DatasetError);
      assert.equal(
        e.message,
        "Cannot load batches from counting: 5 items in a row failed; last: bad item 4",
      );
      return true;
    },
  );
  await assert.rejects(
    () =>
      collect(
        new Loader(counting(3, { bad: new Set([0, 1, 2]), async: true, reason: () => 42 }), {
          batchSize: 1,
          ...quiet,
        }),
      ),
    (e: unknown) => {
      assert.ok(e instanceof DatasetError);
      assert.equal(
        e.message,
        "Cannot load batches from counting: 3 items in a row failed; last: 42",
      );
      return true;
    },
  );
  // n - 1 failures in a row are not yet the error: the good item after them is used
  const nearly = await collect(
    new Loader(counting(5, { bad: new Set([0, 1, 2, 3]) }), {
      batchSize: 1,
      shuffle: false,
      ...quiet,
    }),
  );
  assert.deepEqual(nearly.map((b) => Array.from(b.indices)), [[4]]);
  // every other item fails: never 6 in a row, but no epoch fills a batch of 4
  const sparse = new Set([0, 2, 4]);
  await assert.rejects(
    () =>
      collect(
        new Loader(counting(6, { bad: sparse }), { batchSize: 4, epochs: 3, ...quiet }),
      ),
    (e: unknown) => {
      assert.ok(e instanceof DatasetError);
      assert.equal(
        e.message,
        "Cannot load batches from counting: a whole epoch gave fewer than batchSize 4 usable items",
      );
      return true;
    },
  );
  // the bound is "more than n + batchSize items since the last batch": 4 items with 2 good, batch
  // 4, reach exactly 8 after two epochs (no batch, no error) and 12 after three (the error)
  const half = () => counting(4, { bad: new Set([0, 2]) });
  assert.equal(
    (await collect(new Loader(half(), { batchSize: 4, epochs: 2, ...quiet }))).length,
    0,
  );
  await assert.rejects(
    () => collect(new Loader(half(), { batchSize: 4, epochs: 3, ...quiet })),
    DatasetError,
  );
  // the same source with batch 3 fills one batch per epoch
  const ok = await collect(
    new Loader(counting(6, { bad: sparse }), { batchSize: 3, epochs: 3, ...quiet }),
  );
  assert.equal(ok.length, 3);
});

Deno.test("loader: gets exactly the items of its epochs, skips an all-failing tail, refuses no sample", async () => {
  // each item of each epoch is asked for once: nothing is fetched past the last epoch
  let calls = 0;
  const base = counting(6);
  const ds: Dataset = { ...base, get: (i) => (calls++, base.get(i)) };
  const batches = await collect(new Loader(ds, { batchSize: 2, epochs: 2, concurrency: 8 }));
  assert.equal(batches.length, 6);
  assert.equal(calls, 12);
  // without dropLast, a tail whose items all fail gives no (empty) batch
  const tail = await collect(
    new Loader(counting(7, { bad: new Set([6]) }), {
      batchSize: 3,
      shuffle: false,
      dropLast: false,
      ...quiet,
    }),
  );
  assert.deepEqual(tail.map((b) => Array.from(b.indices)), [[0, 1, 2], [3, 4, 5]]);
  // a get that returns nothing is a skipped item with the size message, not a crash
  const reasons: string[] = [];
  const empty: Dataset = {
    ...base,
    get: (i) => (i === 2 ? undefined as unknown as Sample : base.get(i)),
  };
  const got = await collect(
    new Loader(empty, {
      batchSize: 5,
      shuffle: false,
      onSkip: (_i, r) => reasons.push((r as Error).message),
    }),
  );
  assert.deepEqual(got.map((b) => Array.from(b.indices)), [[0, 1, 3, 4, 5]]);
  assert.deepEqual(reasons, ["expected an image of [1,2,1] (2 bytes), received undefined"]);
  // an image is H x W x C bytes: three channels take three bytes a pixel
  const rgb: Dataset = {
    name: "rgb",
    length: 4,
    shape: [1, 2, 3],
    get: (i) => ({ image: new Uint8Array(6).fill(i) }),
  };
  const [b] = await collect(new Loader(rgb, { batchSize: 4, shuffle: false }));
  assert.deepEqual(b.shape, [4, 1, 2, 3]);
  assert.deepEqual(Array.from(b.images.subarray(6, 12)), [1, 1, 1, 1, 1, 1]);
});
