/**
 * The `native` backend: tfjs kernels on a GEMM library (oneDNN, OpenBLAS, MKL, BLIS, Accelerate)
 * through Deno FFI.
 * Select it with `useBackend("native")`; `useBackend("auto")` prefers it when a BLAS loads and
 * `--allow-ffi` is granted.
 *
 * @module
 */
export { type NativeBackendInfo, registerNativeBackend } from "./register_native_backend.ts";
