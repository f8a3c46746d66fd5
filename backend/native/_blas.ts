/**
 * A GEMM loaded through `Deno.dlopen`: library discovery, thread count, and a zero-copy `sgemm` on
 * Float32Arrays. oneDNN's `dnnl_sgemm` (libdnnl, the library PyTorch uses on CPUs) comes first when
 * it is installed: on this machine it measured 4-7x faster than OpenBLAS 0.3.21's `cblas_sgemm`
 * per core (square n = 1024: 160 against 32 GFLOP/s on one thread; the skinny per-tap GEMMs of a
 * 3x3 convolution with 32 channels: 131 against 18). Then a CBLAS.
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

const DNNL_SYMBOLS = {
  dnnl_sgemm: {
    parameters: [
      "u8", // transa: 'N' or 'T'
      "u8", // transb
      "i64", // M
      "i64", // N
      "i64", // K
      "f32", // alpha
      "buffer", // A
      "i64", // lda
      "buffer", // B
      "i64", // ldb
      "f32", // beta
      "buffer", // C
      "i64", // ldc
    ],
    result: "i32", // dnnl_status_t, 0 on success
  },
} as const;

const CHAR_N = 78;
const CHAR_T = 84;

/** oneDNN builds (libdnnl), tried before any CBLAS unless `SELFSUP_BLAS` names a library. */
function dnnlCandidates(): string[] {
  if (Deno.build.os === "darwin") return ["libdnnl.3.dylib", "libdnnl.2.dylib", "libdnnl.dylib"];
  if (Deno.build.os === "windows") return ["dnnl.dll"];
  return ["libdnnl.so.3", "libdnnl.so.2", "libdnnl.so"];
}

/** OpenMP runtimes a oneDNN build may use, for the thread count. */
const OPENMP_LIBRARIES = Deno.build.os === "darwin"
  ? ["libomp.dylib", "libiomp5.dylib"]
  : ["libgomp.so.1", "libiomp5.so", "libomp.so.5", "libomp.so"];

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

/**
 * The library names tried in order: oneDNN, then CBLAS libraries; `SELFSUP_BLAS` (a path or a
 * name), when set, is the only one (a oneDNN library when its name contains `dnnl`).
 */
export function blasCandidates(): string[] {
  const names: string[] = [];
  const fromEnv = env("SELFSUP_BLAS");
  // An explicit choice is the only candidate: silently using another BLAS would hide a typo.
  if (fromEnv) return [fromEnv];
  names.push(...dnnlCandidates());
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
    if (/dnnl/i.test(name)) {
      const dnnl = tryDnnl(name, failures);
      if (dnnl) return loaded = dnnl;
      continue;
    }
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
    `No BLAS with cblas_sgemm could be loaded (${failures.join("; ")}). Install oneDNN or ` +
      "OpenBLAS (Debian/Ubuntu: apt-get install libdnnl2 or libopenblas0-pthread; macOS: brew " +
      "install onednn or openblas) or point SELFSUP_BLAS at a BLAS library",
  );
}

function permissionError(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied;
}

/**
 * Spins (`GOMP_SPINCOUNT`) an idle OpenMP worker does before it sleeps, when the user set neither
 * `OMP_WAIT_POLICY` nor `GOMP_SPINCOUNT`: about 0.2 ms by libgomp's estimate of 100,000 spins per
 * ms. A sleeping worker is woken for every parallel region; measured with 2 threads at load ~8
 * (another process on the second core), a small oneDNN primitive took 340-470 us a call with
 * workers that never spin against 54-82 us with this spin count (40 us on one thread), and the
 * reference step has about 100 parallel regions.
 */
export const OMP_SPIN_COUNT = 20000;

/**
 * Sets OpenMP's wait policy for the oneDNN that loads next (libgomp reads it once, when it
 * loads): passive with a short spin, unless the user set `OMP_WAIT_POLICY` or `GOMP_SPINCOUNT`.
 * Workers that spin long between calls steal the core the JS thread needs for everything between
 * them (measured with libgomp's default of ~3 ms: reference step 3.3 s with 2 threads, 0.84 s
 * passive, on 2 cores at load ~10); a spin of ~0.2 ms bridges the gaps between the kernels of a
 * step and wastes at most that much after its last one.
 */
export function setOpenMpWaitPolicy(): void {
  try {
    if (
      Deno.env.get("OMP_WAIT_POLICY") === undefined && Deno.env.get("GOMP_SPINCOUNT") === undefined
    ) {
      Deno.env.set("OMP_WAIT_POLICY", "PASSIVE");
      Deno.env.set("GOMP_SPINCOUNT", String(OMP_SPIN_COUNT));
    }
  } catch {
    // No --allow-env: OpenMP keeps its default policy.
  }
}

/** Opens a oneDNN library for `dnnl_sgemm`, or records why it could not. */
function tryDnnl(name: string, failures: string[]): Blas | undefined {
  setOpenMpWaitPolicy();
  let lib: Deno.DynamicLibrary<typeof DNNL_SYMBOLS>;
  try {
    lib = Deno.dlopen(name, DNNL_SYMBOLS);
  } catch (error) {
    if (permissionError(error)) {
      throw new BackendUnavailableError(
        "native",
        "FFI permission is not granted (run Deno with --allow-ffi, or -A)",
      );
    }
    failures.push(`${name}: ${String(error).split("\n")[0]}`);
    return undefined;
  }
  const threads = setOpenMpThreads(threadCount());
  const sgemmFn = lib.symbols.dnnl_sgemm;
  return {
    library: name,
    threads,
    sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      if (m === 0 || n === 0) return;
      const status = sgemmFn(
        transA ? CHAR_T : CHAR_N,
        transB ? CHAR_T : CHAR_N,
        BigInt(m),
        BigInt(n),
        BigInt(k),
        alpha,
        a as Float32Array<ArrayBuffer>,
        BigInt(lda),
        b as Float32Array<ArrayBuffer>,
        BigInt(ldb),
        beta,
        c as Float32Array<ArrayBuffer>,
        BigInt(ldc),
      );
      if (status !== 0) {
        throw new RangeError(
          `Cannot multiply: dnnl_sgemm returned status ${status} for m=${m} n=${n} k=${k} ` +
            `lda=${lda} ldb=${ldb} ldc=${ldc}`,
        );
      }
    },
  };
}

/** Sets the OpenMP thread count oneDNN uses (the JS thread is the one that calls it). */
function setOpenMpThreads(threads: number): number {
  for (const name of OPENMP_LIBRARIES) {
    try {
      const lib = Deno.dlopen(name, {
        omp_set_num_threads: { parameters: ["i32"], result: "void" },
      });
      lib.symbols.omp_set_num_threads(threads);
      return threads;
    } catch {
      // Not this runtime: try the next.
    }
  }
  return 0;
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
