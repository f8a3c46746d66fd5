/**
 * A BLAS (`cblas_sgemm`) loaded through `Deno.dlopen`: library discovery, thread count, and a
 * zero-copy `sgemm` on Float32Arrays.
 *
 * @module
 */
import { BackendUnavailableError } from "../errors.ts";

const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32", // order
      "i32", // transA
      "i32", // transB
      "i32", // M
      "i32", // N
      "i32", // K
      "f32", // alpha
      "buffer", // A
      "i32", // lda
      "buffer", // B
      "i32", // ldb
      "f32", // beta
      "buffer", // C
      "i32", // ldc
    ],
    result: "void",
  },
} as const;

const THREAD_SYMBOLS = [
  "openblas_set_num_threads",
  "MKL_Set_Num_Threads",
  "bli_thread_set_num_threads",
] as const;

/** A loaded BLAS. */
export interface Blas {
  /** The library file or name that loaded. */
  library: string;
  /** Threads the BLAS was asked to use (0 when it exposes no thread control). */
  threads: number;
  /**
   * Row-major `C = alpha * op(A) @ op(B) + beta * C` where `op(A)` is `[m, k]` and `op(B)` is
   * `[k, n]`. The arrays are views: pass `subarray`s to start at an offset.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/** The library names tried in order; `SELFSUP_BLAS` (a path or a name), when set, is the only one. */
export function blasCandidates(): string[] {
  const names: string[] = [];
  const fromEnv = env("SELFSUP_BLAS");
  // An explicit choice is the only candidate: silently using another BLAS would hide a typo.
  if (fromEnv) return [fromEnv];
  if (Deno.build.os === "darwin") {
    names.push(
      "libopenblas.dylib",
      "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
      "/usr/local/opt/openblas/lib/libopenblas.dylib",
      "libmkl_rt.dylib",
      "libblis.dylib",
      "/System/Library/Frameworks/Accelerate.framework/Accelerate",
    );
  } else if (Deno.build.os === "windows") {
    names.push("libopenblas.dll", "openblas.dll", "mkl_rt.dll", "libblis.dll");
  } else {
    names.push(
      "libopenblas.so.0",
      "libopenblas.so",
      "libmkl_rt.so",
      "libmkl_rt.so.2",
      "libblis.so.4",
      "libblis.so",
      "libblas.so.3",
    );
  }
  return names;
}

function threadCount(): number {
  const fromEnv = env("SELFSUP_THREADS");
  if (fromEnv !== undefined) {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(
        `Cannot load the native backend: SELFSUP_THREADS must be a positive integer, received "${fromEnv}"`,
      );
    }
    return n;
  }
  return Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1);
}

let loaded: Blas | undefined;

/**
 * Loads the first BLAS that opens and exports `cblas_sgemm`, once per process.
 * @throws {BackendUnavailableError} without `--allow-ffi` or when no BLAS is found
 */
export function loadBlas(): Blas {
  if (loaded) return loaded;
  if (typeof Deno?.dlopen !== "function") {
    throw new BackendUnavailableError("native", "Deno.dlopen is missing (not running in Deno)");
  }
  const ffi = Deno.permissions.querySync?.({ name: "ffi" });
  if (ffi && ffi.state !== "granted") {
    throw new BackendUnavailableError(
      "native",
      "FFI permission is not granted (run Deno with --allow-ffi, or -A)",
    );
  }
  const failures: string[] = [];
  for (const name of blasCandidates()) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(name, SYMBOLS);
    } catch (error) {
      if (
        error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ) {
        throw new BackendUnavailableError(
          "native",
          "FFI permission is not granted (run Deno with --allow-ffi, or -A)",
        );
      }
      failures.push(`${name}: ${String(error).split("\n")[0]}`);
      continue;
    }
    const threads = setThreads(name, threadCount());
    const sgemmFn = lib.symbols.cblas_sgemm;
    loaded = {
      library: name,
      threads,
      sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
        if (m === 0 || n === 0) return;
        sgemmFn(
          CBLAS_ROW_MAJOR,
          transA ? CBLAS_TRANS : CBLAS_NO_TRANS,
          transB ? CBLAS_TRANS : CBLAS_NO_TRANS,
          m,
          n,
          k,
          alpha,
          a as Float32Array<ArrayBuffer>,
          lda,
          b as Float32Array<ArrayBuffer>,
          ldb,
          beta,
          c as Float32Array<ArrayBuffer>,
          ldc,
        );
      },
    };
    return loaded;
  }
  throw new BackendUnavailableError(
    "native",
    `No BLAS with cblas_sgemm could be loaded (${failures.join("; ")}). Install OpenBLAS ` +
      "(Debian/Ubuntu: apt-get install libopenblas0-pthread; macOS: brew install openblas) " +
      "or point SELFSUP_BLAS at a BLAS library",
  );
}

function setThreads(name: string, threads: number): number {
  for (const symbol of THREAD_SYMBOLS) {
    try {
      const lib = Deno.dlopen(name, {
        [symbol]: { parameters: ["i32"], result: "void" },
      } as Record<string, Deno.ForeignFunction>);
      (lib.symbols[symbol] as (n: number) => void)(threads);
      return threads;
    } catch {
      // This BLAS does not export that symbol: try the next vendor's.
    }
  }
  return 0;
}
