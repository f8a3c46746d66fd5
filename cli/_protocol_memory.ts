/**
 * Memory a protocol run hands back between its phases (after the ETA probe, after each method's
 * stage 1 and after each seed's labeled arms).
 *
 * Dropping the native pool's idle buffers (`releaseIdleBuffers`) only drops the pool's
 * references: the arrays stay resident until V8 collects them, which it does when it sees fit
 * (its heap is small, so possibly not for minutes), and the allocator may keep what V8 frees
 * while new allocations land among it. Measured on a 3-seed protocol run at tiny sizes (the
 * steps' shapes are the full run's): the labeled arms' RSS grew 963 -> 1,174 -> 1,317 MiB over
 * seeds 0-2 with the pool dropped alone, and held 451 / 455 / 455 MiB with the drop followed by
 * a full collection and glibc's `malloc_trim(0)`, which is what this does (bench/RESULTS.md,
 * issue 12, H12b).
 *
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";
import { releaseIdleBuffers } from "../backend/release_idle_buffers.ts";

let collect: (() => void) | null | undefined;

/**
 * V8's full garbage collection, or null where it cannot be had. `--expose-gc` set at run time
 * applies to contexts made after it, hence the fresh `vm` context (made once).
 */
export function garbageCollector(): (() => void) | null {
  if (collect !== undefined) return collect;
  const own = (globalThis as { gc?: () => void }).gc;
  if (typeof own === "function") return collect = own;
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc");
    collect = typeof gc === "function" ? gc as () => void : null;
  } catch {
    collect = null;
  }
  return collect;
}

let trim: (() => void) | null | undefined;

/** glibc's `malloc_trim(0)`, or null (not Linux/glibc, or no FFI permission). */
function mallocTrim(): (() => void) | null {
  if (trim !== undefined) return trim;
  trim = null;
  try {
    // query first: asking without the permission would prompt in a terminal
    if (Deno.build.os !== "linux") return trim;
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return trim;
    const lib = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
    });
    trim = () => void lib.symbols.malloc_trim(0n);
  } catch {
    trim = null; // musl, no libc.so.6: the allocator's own policy stands
  }
  return trim;
}

/**
 * Drops the native pool's idle buffers, collects the garbage that leaves (and whatever else is
 * unreachable), and asks the allocator to return free pages to the system. Returns the bytes
 * the pool dropped. Live tensors are untouched, so it is safe at any time; the cost is a full
 * collection (tens of ms) and the next step faulting in fresh buffers.
 */
export function releaseMemory(): number {
  const dropped = releaseIdleBuffers();
  garbageCollector()?.();
  mallocTrim()?.();
  return dropped;
}
