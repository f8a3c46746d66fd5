import * as tfl from "@tensorflow/tfjs-layers";
import { apply, BN_MOMENTUM, checkInputShape, checkWidths, convBn, type Sym } from "./_layers.ts";

/** Options for {@linkcode resnet18}. */
export interface ResNet18Options {
  /** Input `[height, width, channels]`; height and width may be `null` (any size). */
  inputShape: [number | null, number | null, number];
  /**
   * Channels of the four stages.
   * @default {[64, 128, 256, 512]} (He et al. 2016, arXiv:1512.03385)
   */
  widths?: number[];
  /**
   * Basic blocks per stage.
   * @default {[2, 2, 2, 2]}
   */
  blocks?: number[];
  /**
   * BatchNorm momentum in Keras' convention (0.9 is PyTorch's 0.1).
   * @default {0.9}
   */
  batchNormMomentum?: number;
  /** Model name. @default {"resnet18"} */
  name?: string;
}

/**
 * ResNet-18 with the CIFAR stem: a 3x3 convolution with stride 1 and no max-pool (the stem SimCLR,
 * MoCo and SimSiam use on 32x32 images), four stages of basic blocks with strides 1, 2, 2, 2, and
 * global average pooling. Output: features `[B, widths[3]]`.
 *
 * @param options input shape, widths, blocks
 * @returns a functional `tf.LayersModel` (saves and reloads with plain tfjs)
 *
 * @example
 * ```ts
 * import { resnet18 } from "./mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const net = resnet18({ inputShape: [8, 8, 3], widths: [4, 4, 8, 8] });
 * const y = net.predict(tf.zeros([2, 8, 8, 3])) as tf.Tensor;
 * assert.deepEqual(y.shape, [2, 8]);
 * ```
 */
export function resnet18(options: ResNet18Options): tfl.LayersModel {
  const {
    inputShape,
    widths = [64, 128, 256, 512],
    blocks = [2, 2, 2, 2],
    batchNormMomentum: momentum = BN_MOMENTUM,
    name = "resnet18",
  } = options;
  checkInputShape("resnet18", inputShape);
  checkWidths("resnet18", widths, 4);
  checkWidths("resnet18 (blocks)", blocks, 4);
  const input = tfl.input({ shape: inputShape });
  let x = convBn(input, widths[0], { momentum });
  let channels = widths[0];
  for (let stage = 0; stage < 4; stage++) {
    for (let b = 0; b < blocks[stage]; b++) {
      const strides = stage > 0 && b === 0 ? 2 : 1;
      x = basicBlock(x, channels, widths[stage], strides, momentum);
      channels = widths[stage];
    }
  }
  const out = apply(tfl.layers.globalAveragePooling2d({}), x);
  return tfl.model({ inputs: input, outputs: out, name });
}

function basicBlock(x: Sym, inC: number, outC: number, strides: number, momentum: number): Sym {
  let y = convBn(x, outC, { strides, momentum });
  y = convBn(y, outC, { relu: false, momentum });
  const shortcut = strides !== 1 || inC !== outC
    ? convBn(x, outC, { kernel: 1, strides, relu: false, momentum })
    : x;
  return apply(tfl.layers.reLU(), apply(tfl.layers.add(), [y, shortcut]));
}
