/**
 * Kernels that tfjs backends lack for training (or have only in a slow form), and the gradients
 * tfjs-core lacks; `useBackend` registers them.
 *
 * @module
 */
export * from "./register_training_kernels.ts";
