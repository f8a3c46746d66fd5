/**
 * Recycled output buffers for the native kernels.
 *
 * A fresh 16 MB Float32Array costs more than the elementwise pass that fills it (the kernel maps
 * and zeroes new pages on first touch: measured 8 ms of page faults against 6 ms of arithmetic for
 * a 4.2M-element multiply). The native backend therefore hands the buffers of disposed tensors
 * back to its kernels, under three rules that keep it safe:
 *
 * - only buffers this module allocated are recycled (never an array a user passed to
 *   `tf.tensor`);
 * - a buffer is recycled only when no backend entry references it any more (views made by the cpu
 *   kernels, e.g. `Slice`'s `subarray`, count as references);
 * - a buffer that was ever read out (`dataSync`, `data`, `bufferSync`: the caller may keep the
 *   array) is never recycled.
 *
 * @module
 */

/** Arrays below this many floats are cheap to allocate and are not pooled. */
const MIN_POOLED = 1 << 14;

/**
 * Bytes the pool may always hold idle: enough for one training step's activations and gradients
 * at the reference step's size (about 60 tensors of 16 MB), so the next step allocates nothing
 * (measured 10-15% less CPU time per step than a 256 MB cap).
 */
export const MIN_POOL_CAP = 2 ** 30;

/**
 * The idle bytes the pool may hold: at least {@linkcode MIN_POOL_CAP}, and twice the most our
 * buffers have held live at once (`peakLive`), so that a step whose tensors outgrow 1 GiB finds
 * every buffer of the previous step again instead of faulting in fresh pages (ResNet-18 at batch
 * 128 allocated 888 MiB fresh per step under a fixed 1 GiB cap, and first-touch faults cost about
 * 3.5 ms per MiB on a loaded VM). Twice, not once: after the backward pass the pool already holds
 * about `peakLive` of activation buffers, and the optimizer's weight-sized buffers freed then must
 * still fit (with a cap of `peakLive` they were dropped: 160 MiB fresh per step). With fixed
 * shapes the pool stops growing after the first step whatever the cap; the cap bounds what stale
 * sizes may hold. Never more than a quarter of `systemBytes` when that is known.
 */
export function poolCap(peakLive: number, systemBytes?: number): number {
  const cap = Math.max(MIN_POOL_CAP, 2 * peakLive);
  return systemBytes && systemBytes > 0
    ? Math.min(cap, Math.max(MIN_POOL_CAP, systemBytes / 4))
    : cap;
}

function systemMemory(): number | undefined {
  try {
    // Query first: calling without the permission would prompt in a terminal.
    const asked = Deno.permissions.querySync({ name: "sys", kind: "systemMemoryInfo" });
    return asked.state === "granted" ? Deno.systemMemoryInfo().total : undefined;
  } catch {
    return undefined; // not Deno, or no such permission API: no system bound
  }
}

const systemBytes = systemMemory();
/** Bytes of our buffers that backend entries reference now, and the most at any time. */
let liveBytes = 0;
let peakLiveBytes = 0;

const free = new Map<number, Float32Array[]>();
let pooledBytes = 0;
const ours = new WeakSet<ArrayBufferLike>();
const escaped = new WeakSet<ArrayBufferLike>();
/** Backend entries that reference each of our buffers. */
const owners = new Map<ArrayBufferLike, number>();

/**
 * A float32 array of `n` elements for a kernel output. Unless `zero` is set its contents are
 * stale: the caller must write every element.
 */
export function allocF32(n: number, zero = false): Float32Array {
  if (n < MIN_POOLED) return new Float32Array(n);
  const recycled = free.get(n)?.pop();
  if (recycled) {
    pooledBytes -= recycled.byteLength;
    if (zero) recycled.fill(0);
    return recycled;
  }
  const fresh = new Float32Array(n);
  ours.add(fresh.buffer);
  freshCount++;
  freshBytes += fresh.byteLength;
  return fresh;
}

let freshCount = 0;
let freshBytes = 0;

/**
 * Pooled-size arrays {@linkcode allocF32} had to allocate (the pool had none of that size) since
 * the process started: each costs its pages' first-touch faults when the kernel writes it.
 */
export function freshAllocations(): { count: number; bytes: number } {
  return { count: freshCount, bytes: freshBytes };
}

function bufferOf(values: unknown): ArrayBufferLike | undefined {
  if (!ArrayBuffer.isView(values)) return undefined;
  const buffer = values.buffer;
  return ours.has(buffer) ? buffer : undefined;
}

/** A backend entry now references `values`. */
export function noteWrite(values: unknown): void {
  const buffer = bufferOf(values);
  if (!buffer) return;
  const count = owners.get(buffer) ?? 0;
  owners.set(buffer, count + 1);
  if (count === 0) {
    liveBytes += buffer.byteLength;
    if (liveBytes > peakLiveBytes) peakLiveBytes = liveBytes;
  }
}

/** `values` left the backend (read back by a caller who may keep it): never recycle it. */
export function noteEscape(values: unknown): void {
  const buffer = bufferOf(values);
  if (buffer) escaped.add(buffer);
}

/** A backend entry that referenced `values` was deleted. */
export function noteDispose(values: unknown): void {
  const buffer = bufferOf(values);
  if (!buffer) return;
  const have = owners.get(buffer);
  if (have === undefined) return; // not an entry we counted: nothing to release
  const count = have - 1;
  if (count > 0) {
    owners.set(buffer, count);
    return;
  }
  owners.delete(buffer);
  liveBytes -= buffer.byteLength;
  if (
    escaped.has(buffer) ||
    pooledBytes + buffer.byteLength > poolCap(peakLiveBytes, systemBytes)
  ) return;
  const whole = new Float32Array(buffer as ArrayBuffer);
  let list = free.get(whole.length);
  if (!list) free.set(whole.length, list = []);
  list.push(whole);
  pooledBytes += whole.byteLength;
}

/**
 * Hands back a kernel's temporary from {@linkcode allocF32} that no backend entry references (it
 * must not be used afterwards), so the next call of that size reuses it instead of faulting in
 * fresh pages.
 */
export function freeF32(values: Float32Array): void {
  noteWrite(values);
  noteDispose(values);
}

/** Bytes of pooled-size buffers that backend entries reference now, and the most at once. */
export function liveByteCount(): { live: number; peak: number } {
  return { live: liveBytes, peak: peakLiveBytes };
}

/** Bytes held idle in the pool. */
export function pooledByteCount(): number {
  return pooledBytes;
}

/**
 * Drops every idle buffer (those in the pool, which no backend entry references) and returns their
 * bytes. Buffers of live tensors are not in the pool, so they and their accounting are untouched;
 * safe to call at any time.
 */
export function releaseBuffers(): number {
  const dropped = pooledBytes;
  free.clear();
  pooledBytes = 0;
  return dropped;
}
