/**
 * selfsup methods: SimCLR, MoCo v1/v2/v3, SwAV, SimSiam, BYOL, Barlow Twins and VICReg, the pretext tasks (rotation,
 * relative patch, jigsaw, colorization, denoising autoencoder, GAN), each data plus a pure step
 * (`views`, `step`, `trainable`, `afterUpdate`), and `createMethod` to build one by name.
 *
 * @example
 * ```ts
 * import { createMethod, METHOD_NAMES } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.ok(METHOD_NAMES.includes("simclr"));
 * const { method } = createMethod("simclr", {
 *   encoder: "convnet", inputShape: [8, 8, 1], seed: 0, widths: [4], projectionDim: 4,
 * });
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./dispose_state.ts";
export * from "./momentum_update.ts";
export * from "./queue.ts";
export * from "./simclr.ts";
export * from "./simsiam.ts";
export * from "./moco.ts";
export * from "./byol.ts";
export * from "./barlow_twins.ts";
export * from "./vicreg.ts";
export * from "./recipes.ts";
export * from "./recipe_lr_groups.ts";
export * from "./swav.ts";
export * from "./rotation.ts";
export * from "./relative_patch.ts";
export * from "./jigsaw.ts";
export * from "./colorization.ts";
export * from "./denoising_autoencoder.ts";
export * from "./gan.ts";
export * from "./pretext/mod.ts";
export * from "./create_method.ts";
