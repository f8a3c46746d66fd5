import assert from "node:assert/strict";
import {
  allocF32,
  freeF32,
  freshAllocations,
  liveByteCount,
  MIN_POOL_CAP,
  noteDispose,
  noteEscape,
  noteWrite,
  poolCap,
  pooledByteCount,
} from "../../backend/native/_buffers.ts";

const GiB = 2 ** 30;

Deno.test("native buffer pool: the idle cap follows the most bytes held live at once", () => {
  assert.equal(poolCap(0), MIN_POOL_CAP);
  assert.equal(poolCap(GiB / 4), MIN_POOL_CAP);
  // a step whose tensors outgrow 1 GiB: the pool keeps all of them for the next step, and room
  // for the optimizer's buffers freed while it holds them
  assert.equal(poolCap(2.5 * GiB), 5 * GiB);
  assert.equal(poolCap(2.5 * GiB, 24 * GiB), 5 * GiB);
  // never more than a quarter of the machine's memory, never less than the floor
  assert.equal(poolCap(10 * GiB, 24 * GiB), 6 * GiB);
  assert.equal(poolCap(10 * GiB, 2 * GiB), MIN_POOL_CAP);
});

Deno.test("native buffer pool: live bytes, their peak, and reuse after disposal", () => {
  const n = 1 << 16; // pooled size (256 KiB)
  const bytes = 4 * n;
  const base = liveByteCount();
  const a = allocF32(n);
  const b = allocF32(n);
  noteWrite(a);
  noteWrite(b);
  noteWrite(b); // a second entry on the same buffer (a view) is not counted twice
  assert.equal(liveByteCount().live, base.live + 2 * bytes);
  assert.ok(liveByteCount().peak >= base.live + 2 * bytes);
  noteDispose(b);
  assert.equal(liveByteCount().live, base.live + 2 * bytes, "b still has one entry");
  const pooled = pooledByteCount();
  noteDispose(b);
  noteDispose(a);
  assert.equal(liveByteCount().live, base.live);
  assert.equal(pooledByteCount(), pooled + 2 * bytes);
  // both come back without a fresh allocation
  const fresh = freshAllocations().count;
  const again = [allocF32(n), allocF32(n)];
  assert.equal(freshAllocations().count, fresh);
  const buffers = again.map((x) => x.buffer);
  assert.ok(buffers.includes(a.buffer) && buffers.includes(b.buffer));
  assert.equal(pooledByteCount(), pooled);
  // an escaped buffer leaves the live count but is never pooled
  noteWrite(again[0]);
  noteEscape(again[0]);
  noteDispose(again[0]);
  assert.equal(liveByteCount().live, base.live);
  assert.equal(pooledByteCount(), pooled);
  assert.equal(allocF32(n).buffer === again[0].buffer, false);
  assert.equal(freshAllocations().count, fresh + 1);
});

Deno.test("native buffer pool: a kernel's temporary handed back with freeF32 is reused, live bytes unchanged", () => {
  const n = (1 << 16) + 3; // a pooled size no other test uses
  const base = liveByteCount().live;
  const pooled = pooledByteCount();
  const t = allocF32(n);
  freeF32(t);
  assert.equal(liveByteCount().live, base);
  assert.equal(pooledByteCount(), pooled + 4 * n);
  assert.equal(allocF32(n).buffer, t.buffer, "the next allocation of that size gets it back");
  assert.equal(pooledByteCount(), pooled);
  // a temporary below the pooled size is simply dropped
  const small = allocF32(16);
  freeF32(small);
  assert.notEqual(allocF32(16).buffer, small.buffer);
});
