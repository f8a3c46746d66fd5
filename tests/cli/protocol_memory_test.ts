import assert from "node:assert/strict";
import { garbageCollector, releaseMemory } from "../../cli/_protocol_memory.ts";
import {
  allocF32,
  noteDispose,
  noteWrite,
  pooledByteCount,
} from "../../backend/native/_buffers.ts";

const MiB = 2 ** 20;
const rss = () =>
  Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]) * 1024;
const glibc = (() => {
  try {
    Deno.dlopen("libc.so.6", { malloc_trim: { parameters: ["usize"], result: "i32" } }).close();
    return Deno.build.os === "linux";
  } catch {
    return false;
  }
})();

Deno.test("releaseMemory: the pool's dropped buffers leave memory at once, not at V8's next collection", () => {
  // 128 MiB of kernel outputs written, then disposed: idle in the pool
  (() => {
    const outs = Array.from({ length: 32 }, () => allocF32(MiB)); // 4 MiB each
    for (const a of outs) noteWrite(a.fill(1));
    for (const a of outs) noteDispose(a);
  })();
  assert.ok(pooledByteCount() >= 128 * MiB, `${pooledByteCount()} bytes idle`);
  const before = Deno.memoryUsage().external;
  const dropped = releaseMemory();
  assert.ok(dropped >= 128 * MiB, `dropped ${dropped}`);
  assert.equal(pooledByteCount(), 0);
  // the pool held the only references: the arrays are collected now (dropping the pool's
  // references alone leaves them to V8, which kept them for minutes in a protocol run)
  const freed = before - Deno.memoryUsage().external;
  assert.ok(freed >= 0.9 * 128 * MiB, `external memory down ${(freed / MiB).toFixed(0)} MiB`);
  assert.equal(typeof garbageCollector(), "function");
  assert.equal(garbageCollector(), garbageCollector(), "one collector, made once");
});

Deno.test({
  name: "releaseMemory: what V8 frees goes back to the system, also among live arrays",
  ignore: !glibc,
  fn: () => {
    const gc = garbageCollector()!;
    // a freed mmapped chunk raises glibc's mmap threshold: arrays up to its size then come from
    // the heap, where a live array after each freed one keeps the heap from shrinking (the
    // protocol's case: the pool's buffers freed among the next stage's allocations)
    (() => new Float32Array(6 * MiB).fill(1))(); // 24 MiB
    gc();
    const keep: Float32Array[] = [];
    (() => {
      const big: Float32Array[] = [];
      for (let i = 0; i < 256; i++) {
        big.push(new Float32Array(MiB / 4).fill(1)); // 1 MiB
        keep.push(new Float32Array(1024).fill(1));
      }
      assert.equal(big.length, 256);
    })();
    const held = rss();
    releaseMemory();
    const back = held - rss();
    assert.ok(back >= 200 * MiB, `RSS down ${(back / MiB).toFixed(0)} of 256 MiB freed`);
    assert.equal(keep.length, 256);
  },
});
