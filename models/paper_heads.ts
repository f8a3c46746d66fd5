import type * as tfl from "@tensorflow/tfjs-layers";
import { mlpHead } from "./mlp_head.ts";

/** Sizes of a paper's head. */
export interface PaperHeadOptions {
  /** Hidden size. Defaults per head, from its paper. */
  hiddenDim?: number;
  /** Output size. Defaults per head, from its paper. */
  projectionDim?: number;
  /** Model name. */
  name?: string;
}

/** Options for {@linkcode simclrHead}. */
export interface SimclrHeadOptions extends PaperHeadOptions {
  /**
   * 2: SimCLR v1's Dense -> BatchNorm -> ReLU -> Dense -> BatchNorm; 3: SimCLR v2's three Dense
   * layers with BatchNorm after each and ReLU between (google-research/simclr `projection_head`).
   * @default {2}
   */
  layers?: 2 | 3;
  /**
   * BatchNorm after each Dense layer (Dense without bias), as the official code's
   * `linear_layer(..., use_bn=True)`; false: the paper's text, Dense -> ReLU -> Dense with biases.
   * The official last BatchNorm has no shift (center=False); tfjs-layers' BatchNormalization
   * cannot run without one, so it is affine here.
   * @default {true}
   */
  batchNorm?: boolean;
}

/**
 * SimCLR's projection head g(.) (Chen et al. 2020, arXiv:2002.05709; v2: arXiv:2006.10029).
 * Hidden size defaults to the input size, output to 128.
 *
 * @param inputDim feature size D
 * @param options depth and sizes
 * @returns the head
 *
 * @example
 * ```ts
 * import { simclrHead } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(simclrHead(8, { layers: 3, projectionDim: 4 }).outputs[0].shape, [null, 4]);
 * ```
 */
export function simclrHead(inputDim: number, options: SimclrHeadOptions = {}): tfl.LayersModel {
  const {
    layers = 2,
    hiddenDim: h = inputDim,
    projectionDim: p = 128,
    name = "simclr_head",
    batchNorm = true,
  } = options;
  if (layers !== 2 && layers !== 3) {
    throw new RangeError(`Cannot build simclrHead: layers must be 2 or 3, received ${layers}`);
  }
  if (!batchNorm) {
    const hidden = Array.from(
      { length: layers - 1 },
      () => ({ units: h, after: ["relu" as const] }),
    );
    return mlpHead(inputDim, [...hidden, { units: p }], { name });
  }
  return layers === 2
    ? mlpHead(inputDim, [
      { units: h, useBias: false, after: ["bn", "relu"] },
      { units: p, useBias: false, after: ["bn"] },
    ], { name })
    : mlpHead(inputDim, [
      { units: h, useBias: false, after: ["bn", "relu"] },
      { units: h, useBias: false, after: ["bn", "relu"] },
      { units: p, useBias: false, after: ["bn"] },
    ], { name });
}

/**
 * MoCo v1's head: one linear layer to 128 (He et al. 2019, arXiv:1911.05722).
 *
 * @param inputDim feature size D
 * @param options output size (128)
 * @returns the head
 *
 * @example
 * ```ts
 * import { mocoV1Head } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(mocoV1Head(8).outputs[0].shape, [null, 128]);
 * ```
 */
export function mocoV1Head(inputDim: number, options: PaperHeadOptions = {}): tfl.LayersModel {
  const { projectionDim: p = 128, name = "moco_v1_head" } = options;
  return mlpHead(inputDim, [{ units: p }], { name });
}

/**
 * MoCo v2's MLP head: Dense(hidden) -> ReLU -> Dense(128) (Chen et al. 2020, arXiv:2003.04297);
 * hidden defaults to the input size (2048 for ResNet-50).
 *
 * @param inputDim feature size D
 * @param options sizes
 * @returns the head
 *
 * @example
 * ```ts
 * import { mocoV2Head } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(mocoV2Head(8, { projectionDim: 4 }).layers.length, 4);
 * ```
 */
export function mocoV2Head(inputDim: number, options: PaperHeadOptions = {}): tfl.LayersModel {
  const { hiddenDim: h = inputDim, projectionDim: p = 128, name = "moco_v2_head" } = options;
  return mlpHead(inputDim, [{ units: h, after: ["relu"] }, { units: p }], { name });
}

/**
 * MoCo v3's ResNet projector (Chen, Xie, He 2021, arXiv:2104.02057; facebookresearch/moco-v3
 * `MoCo_ResNet._build_projector_and_predictor_mlps`): two Dense layers (no bias), BatchNorm and
 * ReLU after the first, a non-affine BatchNorm after the last. 4096 hidden, 256 out. (The ViT
 * projector has three layers.)
 *
 * @param inputDim feature size D
 * @param options sizes
 * @returns the head
 *
 * @example
 * ```ts
 * import { mocoV3Projector } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const head = mocoV3Projector(8, { hiddenDim: 8, projectionDim: 4 });
 * assert.deepEqual(head.outputs[0].shape, [null, 4]);
 * ```
 */
export function mocoV3Projector(inputDim: number, options: PaperHeadOptions = {}): tfl.LayersModel {
  const { hiddenDim: h = 4096, projectionDim: p = 256, name = "moco_v3_projector" } = options;
  return mlpHead(inputDim, [
    { units: h, useBias: false, after: ["bn", "relu"] },
    { units: p, useBias: false, after: ["bn-nonaffine"] },
  ], { name });
}

/**
 * MoCo v3's predictor: Dense -> BatchNorm -> ReLU -> Dense (no bias, no BatchNorm on the output:
 * `_build_mlp(2, dim, mlp_dim, dim, last_bn=False)` in facebookresearch/moco-v3), 4096 hidden,
 * 256 out (arXiv:2104.02057).
 *
 * @param inputDim projection size
 * @param options sizes
 * @returns the head
 *
 * @example
 * ```ts
 * import { mocoV3Predictor } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(mocoV3Predictor(4, { hiddenDim: 8, projectionDim: 4 }).outputs[0].shape, [null, 4]);
 * ```
 */
export function mocoV3Predictor(inputDim: number, options: PaperHeadOptions = {}): tfl.LayersModel {
  const { hiddenDim: h = 4096, projectionDim: p = 256, name = "moco_v3_predictor" } = options;
  return mlpHead(inputDim, [
    { units: h, useBias: false, after: ["bn", "relu"] },
    { units: p, useBias: false },
  ], { name });
}

/**
 * SimSiam's projector (Chen & He 2020, arXiv:2011.10566): three Dense layers (no bias) with
 * BatchNorm after each (the last non-affine) and ReLU between; 2048 wide.
 *
 * @param inputDim feature size D
 * @param options `projectionDim` (2048) is also the hidden size unless `hiddenDim` is given
 * @returns the head
 *
 * @example
 * ```ts
 * import { simsiamProjector } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(simsiamProjector(8, { projectionDim: 4 }).outputs[0].shape, [null, 4]);
 * ```
 */
export function simsiamProjector(
  inputDim: number,
  options: PaperHeadOptions = {},
): tfl.LayersModel {
  const { projectionDim: p = 2048, name = "simsiam_projector" } = options;
  const { hiddenDim: h = p } = options;
  return mlpHead(inputDim, [
    { units: h, useBias: false, after: ["bn", "relu"] },
    { units: h, useBias: false, after: ["bn", "relu"] },
    { units: p, useBias: false, after: ["bn-nonaffine"] },
  ], { name });
}

/**
 * SimSiam's bottleneck predictor h: Dense(512, no bias) -> BatchNorm -> ReLU -> Dense(2048), with
 * no BatchNorm on its output (arXiv:2011.10566, 2048-512-2048).
 *
 * @param inputDim projection size (2048)
 * @param options `hiddenDim` (512), `projectionDim` (the input size)
 * @returns the head
 *
 * @example
 * ```ts
 * import { simsiamPredictor } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(simsiamPredictor(8, { hiddenDim: 2 }).outputs[0].shape, [null, 8]);
 * ```
 */
export function simsiamPredictor(
  inputDim: number,
  options: PaperHeadOptions = {},
): tfl.LayersModel {
  const { hiddenDim: h = 512, projectionDim: p = inputDim, name = "simsiam_predictor" } = options;
  return mlpHead(inputDim, [
    { units: h, useBias: false, after: ["bn", "relu"] },
    { units: p },
  ], { name });
}

/**
 * BYOL's MLP, used for both projector and predictor (Grill et al. 2020, arXiv:2006.07733):
 * Dense(4096) -> BatchNorm -> ReLU -> Dense(256). SwAV's projection head has the same shape
 * (2048 hidden, 128 out).
 *
 * @param inputDim input size
 * @param options sizes
 * @returns the head
 *
 * @example
 * ```ts
 * import { byolHead } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(byolHead(8, { hiddenDim: 8, projectionDim: 4 }).outputs[0].shape, [null, 4]);
 * ```
 */
export function byolHead(inputDim: number, options: PaperHeadOptions = {}): tfl.LayersModel {
  const { hiddenDim: h = 4096, projectionDim: p = 256, name = "byol_head" } = options;
  return mlpHead(inputDim, [{ units: h, after: ["bn", "relu"] }, { units: p }], { name });
}
