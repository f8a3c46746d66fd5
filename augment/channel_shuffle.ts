import { tf } from "../backend/tf.ts";
import { type Augmentation, channelMatmul, checkImages, rngFor } from "./_common.ts";

/**
 * Channel shuffle (颜色通道转化, color-channel conversion): each sample's channels are put in a
 * random order other than the original one (uniform over the `C! - 1` other permutations; RGB
 * may become BGR, GBR, ...). Values only move, so shape and range are kept exactly; 1-channel
 * images are returned unchanged.
 *
 * @returns an augmentation `(images [B, H, W, C], seed) => [B, H, W, C]`
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { channelShuffle } from "./channel_shuffle.ts";
 * import assert from "node:assert/strict";
 * const x = tf.tensor4d([0.1, 0.2, 0.3], [1, 1, 1, 3]);
 * const y = Array.from(channelShuffle()(x, 0).dataSync());
 * assert.notDeepEqual(y, Array.from(x.dataSync()));
 * assert.deepEqual([...y].sort(), Array.from(x.dataSync()));
 * ```
 */
export function channelShuffle(): Augmentation {
  return (images, seed) => {
    const [b, , , c] = checkImages(images, "channelShuffle");
    const prng = rngFor(seed, "channelShuffle");
    if (c === 1) return tf.clone(images);
    const m = new Float32Array(b * c * c);
    const perm = new Array<number>(c);
    for (let i = 0; i < b; i++) {
      do {
        for (let k = 0; k < c; k++) perm[k] = k;
        for (let k = c - 1; k > 0; k--) { // Fisher-Yates
          const j = Math.floor(prng() * (k + 1));
          [perm[k], perm[j]] = [perm[j], perm[k]];
        }
      } while (perm.every((v, k) => v === k)); // rejection keeps the others uniform
      // output channel k takes input channel perm[k]: m[perm[k], k] = 1
      for (let k = 0; k < c; k++) m[i * c * c + perm[k] * c + k] = 1;
    }
    return tf.tidy(() => channelMatmul(images, m));
  };
}
