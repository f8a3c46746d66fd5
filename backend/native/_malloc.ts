/**
 * glibc's allocator tuned for the native backend's allocation pattern.
 *
 * Tensor buffers of megabytes are allocated and freed every step. glibc serves blocks above its
 * mmap threshold (128 KiB at start) with `mmap` and returns them on `free`, but each such free
 * raises the threshold to that block's size (up to 32 MiB), after which blocks of that size come
 * from the heap arenas, where freed holes between live blocks are never returned: measured on the
 * reference step at batch 16, RSS grew 265 -> 309 MiB over steps 100-400 (~15 MiB per 100 steps)
 * with `tf.memory().numTensors`, V8's heap and the buffer pool flat. Fixing the threshold (which
 * also turns off the dynamic raise) keeps large blocks on `mmap`.
 *
 * @module
 */

/** `M_MMAP_THRESHOLD` in glibc's `malloc.h`. */
const M_MMAP_THRESHOLD = -3;
/** glibc's initial mmap threshold, now fixed. */
const MMAP_THRESHOLD_BYTES = 128 * 1024;

let done = false;

/**
 * Fixes glibc's mmap threshold at 128 KiB (Linux with glibc only; a no-op elsewhere, without FFI,
 * or when `MALLOC_MMAP_THRESHOLD_` is set, which glibc applies itself). Returns whether it was set.
 */
export function tuneMalloc(): boolean {
  if (done) return false;
  done = true;
  if (Deno.build.os !== "linux") return false;
  try {
    if (Deno.env.get("MALLOC_MMAP_THRESHOLD_") !== undefined) return false;
  } catch {
    // No --allow-env: set it.
  }
  try {
    const libc = Deno.dlopen("libc.so.6", {
      mallopt: { parameters: ["i32", "i32"], result: "i32" },
    });
    return libc.symbols.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) === 1;
  } catch {
    return false; // not glibc (musl has no mallopt tuning of this kind)
  }
}
