import { tf } from "../backend/tf.ts";
import { type Augmentation, checkImages, checkNumber, childSeed, rngFor } from "./_common.ts";
import { randomResizedCrop } from "./random_resized_crop.ts";

/** One group of crops in {@linkcode multiCrop}. */
export interface CropGroup {
  /**
   * How many crops of this kind.
   * @default 2 (global), 6 (local)
   */
  count?: number;
  /**
   * Output side or `[height, width]`.
   * @default the input's size (global), about 3/7 of it (local: 96 for 224 in SwAV)
   */
  size?: number | [number, number];
  /**
   * Range of the crop's area fraction.
   * @default [0.14, 1] (global), [0.05, 0.14] (local)
   */
  scale?: [number, number];
}

/** Options for {@linkcode multiCrop}. */
export interface MultiCropOptions {
  /** The large crops. [0] SwAV, Caron et al. 2020, arXiv:2006.09882 (2x224, scale 0.14-1). */
  global?: CropGroup;
  /** The small crops. [0] SwAV (6x96, scale 0.05-0.14). */
  local?: CropGroup;
}

/**
 * SwAV's multi-crop: `global.count` large and `local.count` small random resized crops of every
 * image, each crop then passed through `pipeline` (e.g. flips and color jitter) with its own
 * seed. Globals come first in the returned list.
 *
 * @param images float32 images, shape `[B, H, W, C]`, values in [0, 1]
 * @param options the two groups of crops
 * @param seed the seed of this call
 * @param pipeline applied to every crop after cropping (shape-preserving)
 * @returns `global.count + local.count` tensors `[B, size_g or size_l, C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { multiCrop } from "./multi_crop.ts";
 * import assert from "node:assert/strict";
 * const x = tf.randomUniform([2, 32, 32, 3]) as tf.Tensor4D;
 * const views = multiCrop(x, { global: { size: 32 }, local: { size: 16 } }, 0);
 * assert.equal(views.length, 8);
 * assert.deepEqual(views[7].shape, [2, 16, 16, 3]);
 * ```
 */
export function multiCrop(
  images: tf.Tensor4D,
  options: MultiCropOptions,
  seed: number,
  pipeline?: Augmentation,
): tf.Tensor4D[] {
  const [, h, w] = checkImages(images, "multiCrop");
  const { global = {}, local = {} } = options ?? {};
  const localSide: [number, number] = [
    Math.max(1, Math.round(h * 3 / 7)),
    Math.max(1, Math.round(w * 3 / 7)),
  ];
  const groups = [
    { count: global.count ?? 2, size: global.size ?? [h, w], scale: global.scale ?? [0.14, 1] },
    { count: local.count ?? 6, size: local.size ?? localSide, scale: local.scale ?? [0.05, 0.14] },
  ];
  for (const g of groups) {
    checkNumber(g.count, "count", "multiCrop", 0, 1e4);
    if (!Number.isInteger(g.count)) {
      throw new RangeError(`Cannot apply multiCrop: count must be an integer, received ${g.count}`);
    }
  }
  const crops = groups.map((g) =>
    randomResizedCrop({
      size: g.size as number | [number, number],
      scale: g.scale as [number, number],
    })
  );
  const prng = rngFor(seed, "multiCrop");
  const views: tf.Tensor4D[] = [];
  groups.forEach((g, gi) => {
    for (let i = 0; i < g.count; i++) {
      const cropSeed = childSeed(prng), pipeSeed = childSeed(prng);
      views.push(tf.tidy(() => {
        const crop = crops[gi](images, cropSeed);
        return pipeline ? pipeline(crop, pipeSeed) : crop;
      }));
    }
  });
  return views;
}
