/**
 * Batched, seeded image augmentations on float32 `[B, H, W, C]` tensors in [0, 1], and the view
 * builders of contrastive learning: `compose`, `twoViews`, `multiCrop`, and the presets
 * `simclrAugment`, `textAugment`, `mnistAugment`. Each op is a factory returning an
 * {@linkcode Augmentation} `(images, seed) => images`: the same seed repeats exactly on every
 * backend, since all random parameters come from a seeded PCG32 on the JS side.
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { simclrAugment, twoViews } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const images = tf.randomUniform([8, 32, 32, 3]) as tf.Tensor4D;
 * const [v1, v2] = twoViews(images, simclrAugment({ strength: 0.5 }), 42);
 * assert.deepEqual(v1.shape, [8, 32, 32, 3]);
 * assert.deepEqual(v2.shape, [8, 32, 32, 3]);
 * ```
 *
 * @module
 */
export { type Augmentation, LUMA } from "./_common.ts";
export { brightness, type BrightnessOptions } from "./brightness.ts";
export { channelShuffle } from "./channel_shuffle.ts";
export { colorJitter, type ColorJitterOptions } from "./color_jitter.ts";
export { compose, type ComposeStep } from "./compose.ts";
export { contrast, type ContrastOptions } from "./contrast.ts";
export { cutout, type CutoutOptions } from "./cutout.ts";
export { gaussianBlur, type GaussianBlurOptions } from "./gaussian_blur.ts";
export { gaussianNoise, type GaussianNoiseOptions } from "./gaussian_noise.ts";
export { horizontalFlip, type HorizontalFlipOptions } from "./horizontal_flip.ts";
export { type CropGroup, multiCrop, type MultiCropOptions } from "./multi_crop.ts";
export { fashionAugment, type FashionAugmentOptions } from "./fashion_augment.ts";
export { mnistAugment, type MnistAugmentOptions } from "./mnist_augment.ts";
export {
  PAPER_AUGMENT_NAMES,
  paperAugment,
  type PaperAugmentName,
  type PaperAugmentOptions,
} from "./paper_augment.ts";
export { randomAffine, type RandomAffineOptions } from "./random_affine.ts";
export { randomGrayscale, type RandomGrayscaleOptions } from "./random_grayscale.ts";
export { randomResizedCrop, type RandomResizedCropOptions } from "./random_resized_crop.ts";
export { randomScale, type RandomScaleOptions } from "./random_scale.ts";
export { simclrAugment, type SimclrAugmentOptions } from "./simclr_augment.ts";
export { solarize, type SolarizeOptions } from "./solarize.ts";
export { textAugment, type TextAugmentOptions } from "./text_augment.ts";
export { twoViews } from "./two_views.ts";
