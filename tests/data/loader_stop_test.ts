/**
 * The loader stops fetching when its consumer stops (issue 17, the data/loader.ts survivor of
 * the third mutation pass at `if (stopped) break`): after a `break` out of `for await` or an
 * explicit `return()`, the dataset sees no further `get` (without the check the producer, woken
 * by the stop, assembled one more batch: wasted decodes of items nobody reads).
 *
 * @module
 */
import assert from "node:assert/strict";
import { Loader } from "../../data/loader.ts";
import type { Dataset, Sample } from "../../data/dataset.ts";

function recording(length: number, delayMs: number): Dataset & { calls: number[] } {
  const ds = {
    name: "recording",
    length,
    shape: [2, 3, 1] as [number, number, number],
    calls: [] as number[],
    get(i: number): Sample | Promise<Sample> {
      ds.calls.push(i);
      const sample = { image: new Uint8Array(6).fill(i % 256), label: i };
      if (delayMs === 0) return sample;
      return new Promise((r) => setTimeout(() => r(sample), delayMs));
    },
  };
  return ds;
}

/** Waits until `calls` has not grown for 5 ticks of 5 ms (the producer blocked on a full prefetch). */
async function settle(ds: { calls: number[] }): Promise<number> {
  let last = -1, still = 0;
  for (let tick = 0; tick < 400 && still < 5; tick++) {
    await new Promise((r) => setTimeout(r, 5));
    still = ds.calls.length === last ? still + 1 : 0;
    last = ds.calls.length;
  }
  return last;
}

const CONFIGS = [
  { prefetch: 0, concurrency: 1, delayMs: 0 },
  { prefetch: 0, concurrency: 1, delayMs: 2 },
  { prefetch: 0, concurrency: 3, delayMs: 2 },
  { prefetch: 1, concurrency: 1, delayMs: 0 },
  { prefetch: 2, concurrency: 2, delayMs: 1 },
];

Deno.test("loader: after the consumer breaks out of for-await, the dataset gets no further get", async () => {
  for (const { prefetch, concurrency, delayMs } of CONFIGS) {
    const ds = recording(24, delayMs);
    const loader = new Loader(ds, { batchSize: 2, prefetch, concurrency, shuffle: false });
    let batches = 0, callsAtBreak = -1;
    for await (const _ of loader) {
      if (++batches === 2) {
        // let the producer settle into its wait for the consumer (prefetch full)
        callsAtBreak = await settle(ds);
        break;
      }
    }
    await settle(ds);
    const label = `prefetch ${prefetch}, concurrency ${concurrency}, delay ${delayMs}`;
    assert.equal(ds.calls.length, callsAtBreak, `${label}: gets after the break`);
    // the items fetched are the next ones in order, none twice
    assert.deepEqual(ds.calls, Array.from({ length: callsAtBreak }, (_, i) => i), label);
  }
});

Deno.test("loader: with prefetch 0 and concurrency 1, exactly one batch of gets per batch handed out, none after return()", async () => {
  const ds = recording(12, 0);
  const loader = new Loader(ds, { batchSize: 3, prefetch: 0, concurrency: 1, shuffle: false });
  const it = loader[Symbol.asyncIterator]();
  for (let k = 1; k <= 3; k++) {
    await it.next();
    assert.equal(await settle(ds), 3 * k, `after batch ${k}`);
  }
  await it.return(undefined);
  assert.equal(await settle(ds), 9, "after return()");
});
