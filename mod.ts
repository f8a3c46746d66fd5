/**
 * selfsup: self-supervised visual representation learning for Deno and TypeScript on
 * TensorFlow.js. Pretext tasks, pair losses, SimCLR, MoCo, SwAV, SimSiam, BYOL and a sequence mode
 * for text-line recognizers, with one training loop and an evaluation protocol.
 *
 * @example
 * ```ts
 * import { stopGradient, tf, useBackend } from "./mod.ts";
 * await useBackend("cpu");
 * const x = tf.tensor2d([[1, 2]]);
 * stopGradient(x).print();
 * ```
 *
 * @module
 */
export * from "./backend/mod.ts";
export * from "./losses/mod.ts";
export * from "./augment/mod.ts";
export * from "./data/mod.ts";
export * from "./models/mod.ts";
export * from "./methods/mod.ts";
export * from "./train/mod.ts";
export * from "./eval/mod.ts";
export * from "./distributed/mod.ts";
