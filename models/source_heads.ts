import type * as tfl from "@tensorflow/tfjs-layers";
import { mlpHead } from "./mlp_head.ts";

/** Options for the source's heads. */
export interface SourceHeadOptions {
  /** Projection size P (the source's `PROJECT_DIM`, not given there). @default {128} */
  projectionDim?: number;
  /** Predictor hidden size H (the source's `LATENT_DIM`, not given there). @default {64} */
  hiddenDim?: number;
  /** Model name. */
  name?: string;
}

/**
 * The source's SimSiam projector: Dense(P, no bias, L2 1e-3) -> BatchNorm -> LeakyReLU(0.18) ->
 * Dense(P) -> BatchNorm ("model collapses: add batchnorm").
 *
 * @param inputDim feature size D
 * @param options projection size
 * @returns the head, `[B, D] -> [B, P]`
 *
 * @example
 * ```ts
 * import { sourceProjector } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(sourceProjector(8, { projectionDim: 4 }).outputs[0].shape, [null, 4]);
 * ```
 */
export function sourceProjector(
  inputDim: number,
  options: SourceHeadOptions = {},
): tfl.LayersModel {
  const { projectionDim: p = 128, name = "source_projector" } = options;
  return mlpHead(inputDim, [
    { units: p, useBias: false, l2: 1e-3, after: ["bn", "leaky"] },
    { units: p, after: ["bn"] },
  ], { name, batchNormMomentum: 0.99 });
}

/**
 * The source's SimSiam predictor: Dense(H, no bias, L2 1e-3) -> LeakyReLU(0.18) -> BatchNorm ->
 * Dense(P), with no BatchNorm on the output.
 *
 * @param inputDim projection size P
 * @param options hidden and output sizes
 * @returns the head, `[B, P] -> [B, P]`
 *
 * @example
 * ```ts
 * import { sourcePredictor } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const p = sourcePredictor(4, { projectionDim: 4, hiddenDim: 2 });
 * assert.deepEqual(p.outputs[0].shape, [null, 4]);
 * ```
 */
export function sourcePredictor(
  inputDim: number,
  options: SourceHeadOptions = {},
): tfl.LayersModel {
  const { projectionDim: p = 128, hiddenDim: h = 64, name = "source_predictor" } = options;
  return mlpHead(inputDim, [
    { units: h, useBias: false, l2: 1e-3, after: ["leaky", "bn"] },
    { units: p },
  ], { name, batchNormMomentum: 0.99 });
}

/**
 * The source's SimCLR head (`predictor_model_clr`): Dense(P, no bias) -> LeakyReLU(0.18) ->
 * Dense(P).
 *
 * @param inputDim feature size D
 * @param options projection size
 * @returns the head, `[B, D] -> [B, P]`
 *
 * @example
 * ```ts
 * import { sourceSimclrHead } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(sourceSimclrHead(8, { projectionDim: 4 }).layers.length, 4);
 * ```
 */
export function sourceSimclrHead(
  inputDim: number,
  options: SourceHeadOptions = {},
): tfl.LayersModel {
  const { projectionDim: p = 128, name = "source_simclr_head" } = options;
  return mlpHead(inputDim, [
    { units: p, useBias: false, after: ["leaky"] },
    { units: p },
  ], { name });
}
