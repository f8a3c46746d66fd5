/**
 * `simclrAugment` where `presets_test.ts`, `seeded_reference_test.ts` and `simclr_range_test.ts`
 * do not look: the blur switch at an output side of 96 (from the input's size or from `size`, on
 * the smaller side), the hue capped at 0.5 for strengths above 2.5, and the value range checked on
 * the first batch only.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  type Augmentation,
  colorJitter,
  compose,
  type ComposeStep,
  gaussianBlur,
  horizontalFlip,
  randomGrayscale,
  randomResizedCrop,
  simclrAugment,
} from "../../augment/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { images } from "./_helpers.ts";

await setupBackend();

/** SimCLR's steps as its docs list them, at strength s, with or without the blur step. */
function simclr(blur: boolean, s = 1, size?: [number, number]): Augmentation {
  const hue = s <= 2.5 ? 0.2 * s : 0.5;
  const jitter = colorJitter({ brightness: 0.8 * s, contrast: 0.8 * s, saturation: 0.8 * s, hue });
  const steps: ComposeStep[] = [
    randomResizedCrop({ size, scale: [0.08, 1] }),
    horizontalFlip({ p: 0.5 }),
    [jitter, 0.8],
    randomGrayscale({ p: 0.2 }),
  ];
  return compose(...steps, ...(blur ? [[gaussianBlur(), 0.5] as ComposeStep] : []));
}

function same(got: Augmentation, want: Augmentation, x: tf.Tensor4D, what: string): void {
  for (const seed of [1, 2]) {
    const [a, b] = [got(x, seed), want(x, seed)];
    assertTensorClose(a, b, { rtol: 0, atol: 0 }, `${what}, seed ${seed}:`);
    tf.dispose([a, b]);
  }
}

Deno.test("simclrAugment blurs from an output side of 96 up, on the smaller side, unless told", () => {
  // from the input's size: 96 x 96 is blurred, 95 x 96 is not
  const big = images([2, 96, 96, 1], 4);
  same(simclrAugment(), simclr(true), big, "96 x 96 input");
  const tall = images([2, 96, 95, 1], 5);
  same(simclrAugment(), simclr(false), tall, "96 x 95 input");
  // from size: the smaller side decides
  const x = images([2, 8, 8, 3], 6);
  same(simclrAugment({ size: [96, 97] }), simclr(true, 1, [96, 97]), x, "size [96, 97]");
  same(simclrAugment({ size: [95, 120] }), simclr(false, 1, [95, 120]), x, "size [95, 120]");
  // told: blur false at 96, true below (at 24 px, where the default kernel is 3, not a no-op 1)
  same(simclrAugment({ blur: false }), simclr(false), big, "blur false at 96");
  const small = images([2, 24, 24, 3], 7);
  same(simclrAugment({ blur: true }), simclr(true), small, "blur true at 24");
  tf.dispose([big, tall, x, small]);
});

Deno.test("simclrAugment's hue is 0.2 s up to its cap 0.5 (s = 3)", () => {
  const x = images([4, 10, 10, 3], 7);
  same(simclrAugment({ strength: 3 }), simclr(false, 3), x, "strength 3");
  x.dispose();
});

Deno.test("simclrAugment checks the value range on the first batch only", () => {
  const unit = images([2, 8, 8, 3], 8);
  const bytes = images([2, 8, 8, 3], 8, 0, 255);
  const augment = simclrAugment();
  tf.dispose(augment(unit, 1));
  // the read-back is not repeated: a later batch is not checked (the docs' trade-off)
  tf.dispose(augment(bytes, 2));
  assert.throws(() => simclrAugment()(bytes, 2), RangeError);
  tf.dispose([unit, bytes]);
});
