/**
 * Environment for a PyTorch peer process: glibc's allocator told to keep freed memory.
 *
 * With glibc's defaults PyTorch maps and unmaps its large tensors (above 32 MiB) every step, and on
 * the VMs here first-touch page faults cost it 2-3x its step time (bench/RESULTS.md, "Quiet rerun
 * against PyTorch"), which would flatter `native`, whose buffer pool reuses memory.
 * `SELFSUP_PEER_MALLOC=default` gives the peer glibc's defaults instead.
 *
 * @module
 */

/** The mode in use: `keep` (default) or `default`, from `SELFSUP_PEER_MALLOC`. */
export function peerMallocMode(): "keep" | "default" {
  let mode: string | undefined;
  try {
    mode = Deno.env.get("SELFSUP_PEER_MALLOC") || undefined;
  } catch {
    mode = undefined;
  }
  mode ??= "keep";
  if (mode !== "keep" && mode !== "default") {
    throw new RangeError(`SELFSUP_PEER_MALLOC must be keep or default, received ${mode}`);
  }
  return mode;
}

/** glibc settings that keep the peer's freed memory (none in `default` mode). */
export function peerAllocatorEnv(): Record<string, string> {
  if (peerMallocMode() === "default") return {};
  return {
    MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024),
    MALLOC_TRIM_THRESHOLD_: String(64 * 1024 ** 3),
    MALLOC_TOP_PAD_: String(1024 ** 3),
  };
}
