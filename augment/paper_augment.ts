import type { Augmentation } from "./_common.ts";
import { compose } from "./compose.ts";
import { colorJitter } from "./color_jitter.ts";
import { gaussianBlur } from "./gaussian_blur.ts";
import { horizontalFlip } from "./horizontal_flip.ts";
import { randomGrayscale } from "./random_grayscale.ts";
import { randomResizedCrop } from "./random_resized_crop.ts";
import { solarize } from "./solarize.ts";
import { simclrAugment } from "./simclr_augment.ts";

/** The papers' view pipelines {@linkcode paperAugment} builds. */
export const PAPER_AUGMENT_NAMES = [
  "simclr",
  "moco-v1",
  "moco-v2",
  "byol-1",
  "byol-2",
] as const;

/** A paper's view pipeline (BYOL's two views differ: `byol-1` and `byol-2`). */
export type PaperAugmentName = typeof PAPER_AUGMENT_NAMES[number];

/** Options for {@linkcode paperAugment}. */
export interface PaperAugmentOptions {
  /**
   * Output side or `[height, width]` of the random resized crop.
   * @default the input's size
   */
  size?: number | [number, number];
}

/**
 * A paper's view pipeline, at every image size (no size-dependent switches):
 * - `simclr`: SimCLR's ImageNet views (arXiv:2002.05709): crop 0.08-1, flip, jitter 0.8 p 0.8,
 *   grayscale p 0.2, blur p 0.5.
 * - `moco-v1`: MoCo v1 (arXiv:1911.05722, facebookresearch/moco `main_moco.py`): crop 0.2-1,
 *   grayscale p 0.2, jitter (0.4, 0.4, 0.4, 0.4) always, flip.
 * - `moco-v2`: MoCo v2's aug-plus (arXiv:2003.04297), also SimSiam's: crop 0.2-1, jitter
 *   (0.4, 0.4, 0.4, 0.1) p 0.8, grayscale p 0.2, blur sigma 0.1-2 p 0.5, flip.
 * - `byol-1` / `byol-2`: BYOL's asymmetric views (arXiv:2006.07733, Table 6), also MoCo v3's,
 *   Barlow Twins' and VICReg's: crop 0.08-1, flip, jitter (0.4, 0.4, 0.2, 0.1) p 0.8, grayscale
 *   p 0.2, blur p 1.0 / 0.1, solarize p 0 / 0.2.
 *
 * @param name the pipeline
 * @param options output size
 * @returns the augmentation
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { paperAugment } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const x = tf.randomUniform([2, 16, 16, 3]) as tf.Tensor4D;
 * assert.deepEqual(paperAugment("moco-v2")(x, 1).shape, [2, 16, 16, 3]);
 * ```
 */
export function paperAugment(
  name: PaperAugmentName,
  options: PaperAugmentOptions = {},
): Augmentation {
  const { size } = options;
  switch (name) {
    case "simclr":
      return simclrAugment({ size, blur: true });
    case "moco-v1":
      return compose(
        randomResizedCrop({ size, scale: [0.2, 1] }),
        randomGrayscale({ p: 0.2 }),
        colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.4 }),
        horizontalFlip({ p: 0.5 }),
      );
    case "moco-v2":
      return compose(
        randomResizedCrop({ size, scale: [0.2, 1] }),
        [colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 }), 0.8],
        randomGrayscale({ p: 0.2 }),
        [gaussianBlur({ sigma: [0.1, 2] }), 0.5],
        horizontalFlip({ p: 0.5 }),
      );
    case "byol-1":
    case "byol-2": {
      const first = name === "byol-1";
      const steps = [
        randomResizedCrop({ size, scale: [0.08, 1] }),
        horizontalFlip({ p: 0.5 }),
        [colorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.2, hue: 0.1 }), 0.8] as [
          Augmentation,
          number,
        ],
        randomGrayscale({ p: 0.2 }),
        [gaussianBlur({ sigma: [0.1, 2] }), first ? 1 : 0.1] as [Augmentation, number],
      ];
      return first ? compose(...steps) : compose(...steps, [solarize({ threshold: 0.5 }), 0.2]);
    }
    default:
      throw new TypeError(
        `Unknown paper augmentation: expected one of ${
          PAPER_AUGMENT_NAMES.join(", ")
        }, received "${name}"`,
      );
  }
}
