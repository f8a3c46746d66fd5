/**
 * Backend selection and the kernels a backend lacks for training.
 *
 * @module
 */
export { tf } from "./tf.ts";
export {
  BACKEND_ORDER,
  type BackendName,
  useBackend,
  type UseBackendOptions,
} from "./use_backend.ts";
export { BackendUnavailableError } from "./errors.ts";
export { releaseIdleBuffers } from "./release_idle_buffers.ts";
export { stopGradient } from "./stop_gradient.ts";
export { withSeed } from "./with_seed.ts";
