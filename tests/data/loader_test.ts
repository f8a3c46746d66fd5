import assert from "node:assert/strict";
import { type Batch, Loader, type LoaderPosition } from "../../data/loader.ts";
import type { Dataset, Sample } from "../../data/dataset.ts";
import { DatasetError } from "../../data/dataset.ts";
import { batchToTensor } from "../../data/batch_to_tensor.ts";
import { mnist } from "../../data/mnist.ts";
import { assertNoLeak, assertTensorClose, setupBackend } from "../_utils.ts";

await setupBackend();

/** Image i is filled with i % 256, labels are i, texts are `t${i}`. */
function counting(
  length: number,
  options: { delayMs?: number; bad?: Set<number> } = {},
): Dataset & {
  calls: number;
  inFlight: number;
  maxInFlight: number;
} {
  const ds = {
    name: "counting",
    length,
    shape: [2, 3, 1] as [number, number, number],
    calls: 0,
    inFlight: 0,
    maxInFlight: 0,
    get(i: number): Sample | Promise<Sample> {
      ds.calls++;
      if (options.bad?.has(i)) throw new Error(`bad item ${i}`);
      const sample = { image: new Uint8Array(6).fill(i % 256), label: i, text: `t${i}` };
      if (!options.delayMs) return sample;
      ds.inFlight++;
      ds.maxInFlight = Math.max(ds.maxInFlight, ds.inFlight);
      return new Promise((r) =>
        setTimeout(() => {
          ds.inFlight--;
          r(sample);
        }, options.delayMs)
      );
    },
  };
  return ds;
}

async function collect(loader: Loader, maxBatches = Infinity): Promise<Batch[]> {
  const out: Batch[] = [];
  if (maxBatches <= 0) return out;
  for await (const b of loader) {
    out.push(b);
    if (out.length >= maxBatches) break;
  }
  return out;
}

const quiet = { onSkip: () => {} };

Deno.test("loader: one epoch is a seeded permutation, batches carry matching images/labels", async () => {
  const ds = counting(103);
  const a = await collect(new Loader(ds, { batchSize: 10, seed: 7, dropLast: false }));
  assert.equal(a.length, 11);
  assert.deepEqual(a.map((b) => b.shape[0]), [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
  const order = a.flatMap((b) => Array.from(b.labels!));
  assert.deepEqual([...order].sort((x, y) => x - y), Array.from({ length: 103 }, (_, i) => i));
  assert.notDeepEqual(order, Array.from({ length: 103 }, (_, i) => i)); // really shuffled
  for (const b of a) {
    assert.deepEqual(Array.from(b.indices), Array.from(b.labels!));
    assert.deepEqual(b.texts, Array.from(b.labels!, (l) => `t${l}`));
    for (let k = 0; k < b.shape[0]; k++) {
      assert.ok(b.images.subarray(k * 6, k * 6 + 6).every((v) => v === b.labels![k] % 256));
    }
    assert.equal(b.epoch, 0);
  }
  assert.deepEqual(a.map((b) => b.step), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  // Same seed, same order; another seed, another order.
  const again = await collect(new Loader(ds, { batchSize: 10, seed: 7, dropLast: false }));
  assert.deepEqual(again.flatMap((b) => Array.from(b.labels!)), order);
  const other = await collect(new Loader(ds, { batchSize: 10, seed: 8, dropLast: false }));
  assert.notDeepEqual(other.flatMap((b) => Array.from(b.labels!)), order);
});

Deno.test("loader: epochs reshuffle, dropLast drops the short tail, shuffle=false keeps order", async () => {
  const ds = counting(25);
  const loader = new Loader(ds, { batchSize: 10, seed: 1, epochs: 2 });
  const batches = await collect(loader);
  assert.deepEqual(batches.map((b) => [b.epoch, b.step, b.shape[0]]), [
    [0, 0, 10],
    [0, 1, 10],
    [1, 0, 10],
    [1, 1, 10],
  ]);
  const e0 = batches.slice(0, 2).flatMap((b) => Array.from(b.labels!));
  const e1 = batches.slice(2).flatMap((b) => Array.from(b.labels!));
  assert.notDeepEqual(e0, e1);
  assert.equal(new Set(e0).size, 20);
  assert.deepEqual(loader.position(), {
    epoch: 2,
    step: 0,
    cursor: 0,
    skipped: 0,
    seed: 1,
    length: 25,
  });
  // The next loop continues with epoch 2.
  const next = await collect(loader);
  assert.deepEqual(next.map((b) => b.epoch), [2, 2, 3, 3]);
  const plain = await collect(new Loader(ds, { batchSize: 10, shuffle: false }));
  assert.deepEqual(
    plain.flatMap((b) => Array.from(b.labels!)),
    Array.from({ length: 20 }, (_, i) => i),
  );
});

Deno.test("loader: resuming from a JSON position gives exactly the uninterrupted batches", async () => {
  const bad = new Set([3, 17, 40]);
  const make = (position?: LoaderPosition) =>
    new Loader(counting(47, { bad }), { batchSize: 6, seed: 11, epochs: 3, position, ...quiet });
  const full = await collect(make());
  assert.equal(full.length, 3 * Math.floor(44 / 6));
  for (const cut of [1, 4, 8, 13]) {
    const first = make();
    const head = await collect(first, cut);
    const saved = JSON.parse(JSON.stringify(first.position())) as LoaderPosition;
    const resumed = make(saved);
    // The resumed loader finishes the epochs the first one started.
    const rest = await collect(resumed);
    const epochsLeft = 3 - saved.epoch;
    assert.ok(epochsLeft >= 1);
    const joined = [...head, ...rest];
    assert.equal(joined.length, full.length + (saved.epoch) * Math.floor(44 / 6), `cut ${cut}`);
    for (let i = 0; i < full.length; i++) {
      assert.deepEqual(joined[i].indices, full[i].indices, `cut ${cut} batch ${i}`);
      assert.deepEqual(joined[i].images, full[i].images);
      assert.equal(joined[i].epoch, full[i].epoch);
      assert.equal(joined[i].step, full[i].step);
    }
  }
});

Deno.test("loader: a loop that breaks continues where it stopped, skipped items are counted", async () => {
  const bad = new Set([0, 1, 2, 50]);
  const skippedIdx: number[] = [];
  const loader = new Loader(counting(60, { bad }), {
    batchSize: 8,
    seed: 3,
    onSkip: (i) => skippedIdx.push(i),
  });
  const a = await collect(loader, 2);
  const b = await collect(loader);
  const all = [...a, ...b].flatMap((x) => Array.from(x.indices));
  assert.equal(all.length, 7 * 8); // 56 good items fill 7 full batches
  assert.equal(new Set(all).size, 56);
  for (const i of bad) assert.ok(!all.includes(i));
  assert.deepEqual(skippedIdx.sort((x, y) => x - y), [0, 1, 2, 50]);
  assert.equal(loader.skipped, 4);
});

Deno.test("loader: a bad item is reported once per loader, however many epochs fail on it", async () => {
  const bad = new Set([3, 7]);
  const reported: number[] = [];
  const loader = new Loader(counting(20, { bad }), {
    batchSize: 4,
    seed: 1,
    epochs: 5,
    onSkip: (i) => reported.push(i),
  });
  const batches = await collect(loader);
  assert.equal(batches.length, 5 * 4); // 18 good items: 4 full batches per epoch
  assert.equal(loader.skipped, 10); // counted every epoch
  assert.deepEqual(reported.sort((x, y) => x - y), [3, 7]); // reported once each
});

Deno.test("loader: wrong-size images are skipped, all-bad data is a DatasetError", async () => {
  const ds: Dataset = {
    name: "odd",
    length: 12,
    shape: [2, 2, 1],
    get: (i) => ({ image: new Uint8Array(i % 3 === 0 ? 5 : 4) }),
  };
  const loader = new Loader(ds, { batchSize: 4, ...quiet });
  const batches = await collect(loader);
  assert.equal(batches.length, 2);
  assert.equal(loader.skipped, 4);
  assert.equal(batches[0].labels, undefined);
  const broken = counting(9, { bad: new Set([0, 1, 2, 3, 4, 5, 6, 7, 8]) });
  await assert.rejects(() => collect(new Loader(broken, { batchSize: 2, ...quiet })), DatasetError);
  assert.throws(() => new Loader(counting(3), { batchSize: 4 }), DatasetError);
  assert.throws(() => new Loader(counting(3), { batchSize: 0 }), RangeError);
  assert.throws(() => new Loader(counting(3), { batchSize: 1, prefetch: -1 }), RangeError);
  const pos = { epoch: 0, step: 0, cursor: 0, skipped: 0, seed: 5, length: 3 };
  assert.throws(
    () => new Loader(counting(3), { batchSize: 1, seed: 6, position: pos }),
    RangeError,
  );
});

Deno.test("loader: prefetch decodes ahead of a slow consumer, concurrency overlaps gets", async () => {
  const ds = counting(64, { delayMs: 20 });
  const loader = new Loader(ds, { batchSize: 8, prefetch: 2, concurrency: 8, shuffle: false });
  const it = loader[Symbol.asyncIterator]();
  await it.next();
  await new Promise((r) => setTimeout(r, 300)); // the "training step"
  // While the consumer was busy the loader kept decoding: 1 handed out + 2 prefetched batches
  // + up to `concurrency` items in flight.
  const requested = ds.calls;
  assert.ok(requested >= 3 * 8, `calls ${requested}`);
  assert.ok(requested <= 4 * 8 + 8, `calls ${requested} exceed the bound`);
  // The next two batches were decoded during the sleep (index order: no shuffle).
  const b2 = (await it.next()).value as Batch;
  const b3 = (await it.next()).value as Batch;
  assert.deepEqual(Array.from(b2.indices), [8, 9, 10, 11, 12, 13, 14, 15]);
  assert.ok(Math.max(...b3.indices) < requested);
  await it.return(undefined);
  // 8 delayed gets in flight at a time, not one after another.
  assert.equal(ds.maxInFlight, 8);
  // With prefetch 0 nothing is decoded beyond what the consumer asked for (+ in-flight window).
  const lazy = counting(64, { delayMs: 1 });
  const l2 = new Loader(lazy, { batchSize: 8, prefetch: 0, concurrency: 4, shuffle: false });
  const it2 = l2[Symbol.asyncIterator]();
  await it2.next();
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(lazy.calls <= 8 + 4, `calls ${lazy.calls}`);
  await it2.return(undefined);
});

Deno.test("loader over MNIST: labels match the dataset, batchToTensor is [0,1] and leaks nothing", async () => {
  const ds = await mnist("test");
  const loader = new Loader(ds, { batchSize: 256, seed: 0 });
  let steps = 0;
  for await (const batch of loader) {
    assert.deepEqual(batch.shape, [256, 28, 28, 1]);
    for (let k = 0; k < 256; k += 51) {
      assert.equal(batch.labels![k], ds.labels[batch.indices[k]]);
    }
    if (steps === 0) {
      await assertNoLeak(() => {
        const x = batchToTensor(batch);
        assert.deepEqual(x.shape, [256, 28, 28, 1]);
        assert.equal(x.dtype, "float32");
        const expected = Float32Array.from(batch.images.subarray(0, 784), (v) => v / 255);
        const first = x.dataSync().subarray(0, 784);
        assertTensorClose(first, expected, { rtol: 0, atol: 1e-7 });
        x.dispose();
      });
    }
    steps++;
  }
  assert.equal(steps, 39);
  assert.equal(loader.stepsPerEpoch, 39);
  assert.throws(() => batchToTensor({ images: new Uint8Array(3), shape: [1, 2, 2, 1] }), TypeError);
});
