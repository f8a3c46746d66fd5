/**
 * `textAugment` with its options, where `seeded_reference_test.ts` checks the defaults: the
 * documented line crop (widths, heights) and the steps after it at probability `p` (channel
 * shuffle and grayscale at `p / 2`, the grayscale then always applied), against the composition
 * written out here with a float64 reference of the crop's draws.
 *
 * @module
 */
import { tf } from "../../backend/tf.ts";
import {
  type Augmentation,
  brightness,
  channelShuffle,
  compose,
  contrast,
  gaussianBlur,
  gaussianNoise,
  randomAffine,
  randomGrayscale,
  textAugment,
} from "../../augment/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { images, lineCrop } from "./_helpers.ts";

await setupBackend();

function text(width: [number, number], height: [number, number], p: number): Augmentation {
  return compose(
    lineCrop(width, height),
    [randomAffine({ degrees: 2, shear: 5, scale: [0.95, 1.05], translate: [0.05, 0.01] }), p],
    [gaussianBlur({ sigma: [0.1, 1.5] }), p],
    [contrast({ factor: 0.5 }), p],
    [brightness({ delta: 0.2 }), p],
    [channelShuffle(), p / 2],
    [randomGrayscale({ p: 1 }), p / 2],
    [gaussianNoise({ std: [0, 0.05] }), p],
  );
}

Deno.test("textAugment with its options is the documented crop, then the steps at p", () => {
  const x = images([4, 20, 40, 3], 12); // 20 rows: the blur kernel is 3 (a no-op 1 below 20)
  const cases: [string, Augmentation, Augmentation][] = [
    [
      "width, height, p 1",
      textAugment({ width: [0.8, 0.9], height: [0.5, 0.7], p: 1 }),
      text([0.8, 0.9], [0.5, 0.7], 1),
    ],
    ["p 0: the crop alone", textAugment({ p: 0 }), compose(lineCrop([0.96, 1], [0.6, 1]))],
    ["p 0.3", textAugment({ p: 0.3 }), text([0.96, 1], [0.6, 1], 0.3)],
  ];
  for (const [what, got, want] of cases) {
    for (const seed of [1, 2]) {
      const [a, b] = [got(x, seed), want(x, seed)];
      assertTensorClose(a, b, { rtol: 0, atol: 1e-6 }, `${what}, seed ${seed}:`);
      tf.dispose([a, b]);
    }
  }
  x.dispose();
});
