import { fileURLToPath } from "node:url";
import { tf } from "./tf.ts";
import { BackendUnavailableError } from "./errors.ts";
import { registerTrainingKernels } from "./kernels/mod.ts";

/** A backend `useBackend` can select. */
export type BackendName = "tensorflow" | "native" | "webgpu" | "wasm" | "cpu";

/** The backends in the order `auto` tries them: fastest first. */
export const BACKEND_ORDER: readonly BackendName[] = [
  "tensorflow",
  "native",
  "webgpu",
  "wasm",
  "cpu",
];

/** Options for {@linkcode useBackend}. */
export interface UseBackendOptions {
  /**
   * Where the one-line notice of the choice goes (`auto` only).
   * @default console.error
   */
  log?: (line: string) => void;
  /**
   * Print nothing.
   * @default false
   */
  quiet?: boolean;
  /**
   * Under `auto`, say in the notice why each faster backend was skipped (one short line names
   * them otherwise).
   * @default false
   */
  verbose?: boolean;
  /**
   * Under `auto`, accept a software (fallback) WebGPU adapter such as Mesa's lavapipe. It is
   * correct but much slower than wasm on a CPU, so `auto` skips it unless asked.
   * @default false
   */
  allowSoftwareGpu?: boolean;
}

function envBackend(): string | undefined {
  try {
    return Deno.env.get("SELFSUP_BACKEND") || undefined;
  } catch {
    return undefined; // no --allow-env: the override simply does not apply
  }
}

function isBackendName(name: string): name is BackendName | "auto" {
  return name === "auto" || (BACKEND_ORDER as readonly string[]).includes(name);
}

/**
 * Selects the TensorFlow.js backend and resolves to the name of the one in use.
 *
 * - `tensorflow`: `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node` (libtensorflow; CUDA
 *   11.2 + cuDNN 8.1 for the GPU build), imported dynamically only when asked for, or under `auto`
 *   when installed in `node_modules`.
 * - `native`: tfjs kernels on a BLAS (OpenBLAS, MKL, BLIS, Accelerate) through Deno FFI; needs
 *   `--allow-ffi`.
 * - `webgpu`: `@tensorflow/tfjs-backend-webgpu` on `navigator.gpu` (run Deno with
 *   `--unstable-webgpu`).
 * - `wasm`: XNNPACK with SIMD, loaded from the installed package, plus the training kernels it
 *   lacks.
 * - `cpu`: the pure-JS fallback, plus a fast weight-gradient kernel.
 * - `auto` (the default): the first of these that works, with a one-line notice of the choice.
 *
 * With no argument the `SELFSUP_BACKEND` environment variable, when set, names the backend.
 *
 * @param name the backend to use
 * @param options where the notice goes
 * @returns the backend in use
 * @throws {BackendUnavailableError} when a backend named explicitly cannot be used here
 * @throws {RangeError} for an unknown name
 *
 * @example
 * ```ts
 * import { tf, useBackend } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await useBackend("cpu"), "cpu");
 * assert.equal(tf.getBackend(), "cpu");
 * ```
 */
export async function useBackend(
  name?: BackendName | "auto",
  options: UseBackendOptions = {},
): Promise<BackendName> {
  const {
    log = (line: string) => console.error(line),
    quiet = false,
    verbose = false,
    allowSoftwareGpu = false,
  } = options;
  const asked = name ?? envBackend() ?? "auto";
  if (!isBackendName(asked)) {
    throw new RangeError(
      `Cannot select backend: expected one of auto, ${
        BACKEND_ORDER.join(", ")
      }, received "${asked}"`,
    );
  }
  if (asked !== "auto") {
    await activate(asked, { auto: false, allowSoftwareGpu: true });
    return asked;
  }
  const skipped: string[] = [];
  const names: string[] = [];
  for (const candidate of BACKEND_ORDER) {
    try {
      await activate(candidate, { auto: true, allowSoftwareGpu });
      if (!quiet) {
        const why = skipped.length === 0
          ? ""
          : verbose
          ? ` (${skipped.join("; ")})`
          : ` (${names.join(", ")} unavailable; --verbose says why)`;
        log(`selfsup: using the ${candidate} backend${why}`);
      }
      return candidate;
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      skipped.push(`${candidate}: ${error.message}`);
      names.push(candidate);
    }
  }
  // cpu is always registered, so this is unreachable unless tfjs itself is broken.
  throw new BackendUnavailableError("auto", `No backend could be used: ${skipped.join("; ")}`);
}

interface ActivateOptions {
  auto: boolean;
  allowSoftwareGpu: boolean;
}

async function activate(name: BackendName, options: ActivateOptions): Promise<void> {
  switch (name) {
    case "cpu":
      await setBackend("cpu");
      registerTrainingKernels("cpu");
      // The cpu backend prints a banner recommending tfjs-node on first use: we chose it knowingly.
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      return;
    case "wasm":
      await loadWasm();
      await setBackend("wasm");
      registerTrainingKernels("wasm");
      return;
    case "webgpu":
      await loadWebGpu(options);
      await setBackend("webgpu");
      registerTrainingKernels("webgpu");
      return;
    case "native": {
      const { registerNativeBackend } = await import("./native/mod.ts");
      await registerNativeBackend();
      await setBackend("native");
      registerTrainingKernels("native");
      return;
    }
    case "tensorflow":
      await loadTensorflow();
      await setBackend("tensorflow");
      registerTrainingKernels("tensorflow");
      return;
  }
}

async function setBackend(name: string): Promise<void> {
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (error) {
    throw new BackendUnavailableError(name, `tfjs could not start it: ${String(error)}`);
  }
  if (!ok) throw new BackendUnavailableError(name, "tfjs could not initialize it");
  await tf.ready();
}

let wasmLoaded = false;

async function loadWasm(): Promise<void> {
  if (wasmLoaded) return;
  try {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    // Load the .wasm binaries from the installed package, never from the network. The package is
    // in the module graph now, so import.meta.resolve gives its file URL in every layout (a
    // checkout, a path import, JSR; nodeModulesDir auto, manual or none); `deno publish`
    // rewrites the literal to npm:@tensorflow/tfjs-backend-wasm@... .
    const dist = import.meta.resolve("@tensorflow/tfjs-backend-wasm/dist/");
    if (!dist.startsWith("file:")) {
      throw new Error(`the package resolved to ${dist}, not to files on disk`);
    }
    // tfjs reads the binary with node:fs when the path is not http(s): a plain path.
    const dir = fileURLToPath(dist).replace(/[/\\]?$/, "/");
    // Without read access tfjs only says "could not initialize": name the cause first.
    if (Deno.permissions.querySync({ name: "read", path: dir }).state !== "granted") {
      throw new Error(`it reads its .wasm binaries from ${dir}: run with --allow-read (or -A)`);
    }
    wasm.setWasmPaths(dir);
    wasmLoaded = true;
  } catch (error) {
    const message = String((error as Error)?.message ?? error).split("\n")[0];
    throw new BackendUnavailableError(
      "wasm",
      `@tensorflow/tfjs-backend-wasm could not load: ${message}`,
    );
  }
}

let webgpuLoaded = false;

async function loadWebGpu(options: ActivateOptions): Promise<void> {
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (!gpu) {
    throw new BackendUnavailableError(
      "webgpu",
      "navigator.gpu is missing (run Deno with --unstable-webgpu)",
    );
  }
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new BackendUnavailableError(
      "webgpu",
      "no WebGPU adapter (install a Vulkan driver, e.g. Debian's mesa-vulkan-drivers)",
    );
  }
  const software = (adapter.info as { isFallbackAdapter?: boolean } | undefined)
    ?.isFallbackAdapter;
  if (options.auto && software && !options.allowSoftwareGpu) {
    throw new BackendUnavailableError(
      "webgpu",
      "only a software adapter, slower than wasm on a CPU",
    );
  }
  if (!webgpuLoaded) {
    await import("@tensorflow/tfjs-backend-webgpu");
    webgpuLoaded = true;
  }
}

const TENSORFLOW_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const;

function installedLocally(pkg: string): boolean {
  try {
    Deno.statSync(`node_modules/${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

async function loadTensorflow(): Promise<void> {
  if (tf.findBackend("tensorflow")) return;
  const failures: string[] = [];
  for (const pkg of TENSORFLOW_PACKAGES) {
    // Never trigger an npm download at run time: only use what is already installed.
    if (!installedLocally(pkg)) {
      failures.push(`${pkg} is not installed`);
      continue;
    }
    try {
      const specifier = `npm:${pkg}@4.22.0`; // a variable, so type-checking never resolves it
      await import(specifier);
      if (tf.findBackend("tensorflow")) return;
      failures.push(`${pkg} loaded but registered no tensorflow backend`);
    } catch (error) {
      failures.push(`${pkg}: ${String(error).split("\n")[0]}`);
    }
  }
  throw new BackendUnavailableError(
    "tensorflow",
    `libtensorflow bindings unavailable (${failures.join("; ")}). Install them with ` +
      "`deno install --allow-scripts=npm:@tensorflow/tfjs-node npm:@tensorflow/tfjs-node@4.22.0` " +
      "(or tfjs-node-gpu, which needs CUDA 11.2 and cuDNN 8.1); their installer downloads " +
      "libtensorflow, and the binding must then exist under lib/napi-v8/",
  );
}
