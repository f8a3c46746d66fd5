/**
 * selfsup models: encoders (ResNet-18 with the CIFAR stem, a small ConvNet, a CRNN-style
 * sequence encoder) and heads (the source's projector/predictor/SimCLR head, the papers' heads,
 * SwAV prototypes), all functional `tf.LayersModel`s that save and reload with plain tfjs.
 *
 * @example
 * ```ts
 * import { convNet, simclrHead } from "./mod.ts";
 * const encoder = convNet({ widths: [8, 16] });
 * const head = simclrHead(16, { projectionDim: 8 });
 * ```
 *
 * @module
 */
export * from "./resnet18.ts";
export * from "./conv_net.ts";
export * from "./sequence_encoder.ts";
export * from "./mlp_head.ts";
export * from "./source_heads.ts";
export * from "./paper_heads.ts";
export * from "./swav_prototypes.ts";
export * from "./apply_head.ts";
export * from "./clone_model.ts";
export * from "./decoder.ts";
export * from "./dcgan.ts";
