/**
 * The `native` backend: tfjs kernels on a BLAS through Deno FFI.
 *
 * @module
 */
import { BackendUnavailableError } from "../errors.ts";

/**
 * Registers the `native` backend with tfjs, or throws `BackendUnavailableError` saying why not.
 */
export function registerNativeBackend(): Promise<void> {
  return Promise.reject(
    new BackendUnavailableError("native", "The native backend is not built yet"),
  );
}
