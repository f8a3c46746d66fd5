/**
 * SwAV's default crop pipeline, sequence-mode views, name and trainable variables (issue 17: the
 * survivors the second mutation pass left open at methods/swav.ts 217-222, 226, 239 and 288). The
 * views are compared with the composition the source documents, drawn at the same seed: on
 * 3-channel images flip, colour jitter with p 0.8, grayscale p 0.2 and blur p 0.5; on one channel
 * flip and blur only; in sequence mode the text preset's two views. The images are 20 pixels
 * wide: the blur's default kernel (2 floor(side / 20) + 1) is the identity below that.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  colorJitter,
  compose,
  gaussianBlur,
  horizontalFlip,
  multiCrop,
  randomGrayscale,
  simclrAugment,
  textAugment,
  twoViews,
} from "../../augment/mod.ts";
import { swav } from "../../methods/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { seededImages, toyEncoder, toySequenceEncoder } from "./_helpers.ts";

await setupBackend();

const EXACT = { rtol: 0, atol: 0 };
const CROPS = {
  global: { count: 2, size: [20, 20] as [number, number] },
  local: { count: 2, size: 5 },
};

function rgbSwav(channels: number) {
  const shape: [number, number, number] = [20, 20, channels];
  return swav({
    encoder: toyEncoder(shape, 8, 3),
    inputShape: shape,
    seed: 2,
    preset: "small",
    prototypes: 5,
    projectionDim: 4,
    hiddenDim: 6,
    localSize: 5,
  });
}

Deno.test("swav views on RGB: flip, colour jitter p 0.8, grayscale p 0.2, blur p 0.5 on every crop", () => {
  const images = seededImages([3, 20, 20, 3], 7);
  const s = rgbSwav(3);
  const pipeline = compose(
    horizontalFlip(),
    [colorJitter(), 0.8],
    randomGrayscale({ p: 0.2 }),
    [gaussianBlur(), 0.5],
  );
  // without the jitter or the grayscale step, or with a probability changed, some crop of these
  // seeds differs (randomGrayscale's own default p is 0.2: \`{ p: 0.2 }\` -> \`{}\` is equivalent)
  const others = [
    compose(horizontalFlip(), [gaussianBlur(), 0.5]),
    compose(horizontalFlip(), [colorJitter(), 0.8], [gaussianBlur(), 0.5]),
    compose(horizontalFlip(), [colorJitter(), 0.8], randomGrayscale({ p: 0.5 }), [
      gaussianBlur(),
      0.5,
    ]),
    compose(horizontalFlip(), colorJitter(), randomGrayscale({ p: 0.2 }), [gaussianBlur(), 0.5]),
    compose(horizontalFlip(), [colorJitter(), 0.8], randomGrayscale({ p: 0.2 }), gaussianBlur()),
  ];
  for (const seed of [0, 1, 2, 3, 4, 5]) {
    const got = s.method.views(images, seed);
    const want = multiCrop(images, CROPS, seed, pipeline);
    assert.equal(got.length, 4);
    got.forEach((g, i) => assertTensorClose(g, want[i], EXACT, `seed ${seed} crop ${i}:`));
    tf.dispose([...got, ...want]);
  }
  others.forEach((other, j) => {
    let differs = false;
    for (const seed of [0, 1, 2, 3, 4, 5]) {
      const got = s.method.views(images, seed);
      const alt = multiCrop(images, CROPS, seed, other);
      differs ||= got.some((g, i) => tf.tidy(() => tf.any(tf.notEqual(g, alt[i])).dataSync()[0]));
      tf.dispose([...got, ...alt]);
    }
    assert.ok(differs, `pipeline ${j} gave the same crops as the documented one`);
  });
  tf.dispose(images);
});

Deno.test("swav views on one channel: flip and blur p 0.5 only", () => {
  const images = seededImages([3, 20, 20, 1], 8);
  const s = rgbSwav(1);
  const pipeline = compose(horizontalFlip(), [gaussianBlur(), 0.5]);
  for (const seed of [0, 1, 2, 3]) {
    const got = s.method.views(images, seed);
    const want = multiCrop(images, CROPS, seed, pipeline);
    got.forEach((g, i) => assertTensorClose(g, want[i], EXACT, `seed ${seed} crop ${i}:`));
    tf.dispose([...got, ...want]);
  }
  tf.dispose(images);
});

Deno.test("swav in sequence mode: the text preset's two views (not simclr's), or the user's augmentation", () => {
  const shape: [number, number, number] = [8, 16, 1];
  const images = seededImages([2, ...shape], 9);
  const base = {
    encoder: toySequenceEncoder(shape, 6),
    inputShape: shape,
    seed: 1,
    preset: "small" as const,
    projectionDim: 4,
    prototypes: 5,
  };
  const s = swav(base);
  let simclrDiffers = false;
  for (const seed of [0, 3, 11]) {
    const got = s.method.views(images, seed);
    const want = twoViews(images, textAugment(), seed);
    const simclr = twoViews(images, simclrAugment(), seed);
    assert.equal(got.length, 2);
    got.forEach((g, i) => assertTensorClose(g, want[i], EXACT, `seed ${seed} view ${i}:`));
    simclrDiffers ||= got.some((g, i) =>
      tf.tidy(() => tf.any(tf.notEqual(g, simclr[i])).dataSync()[0])
    );
    tf.dispose([...got, ...want, ...simclr]);
  }
  assert.ok(simclrDiffers, "the text and simclr presets gave the same views");
  const augment = (x: tf.Tensor4D) => tf.tidy(() => tf.sub(1, x)) as tf.Tensor4D;
  const user = swav({ ...base, augment }).method.views(images, 4);
  const want = twoViews(images, augment, 4);
  user.forEach((g, i) => assertTensorClose(g, want[i], EXACT, `user view ${i}:`));
  tf.dispose([images, ...user, ...want]);
});

Deno.test("swav: its name, and trainable = encoder, projector and prototypes, in that order", () => {
  const s = rgbSwav(1);
  assert.equal(s.method.name, "swav");
  const want = [s.nets.encoder, s.nets.projector, s.nets.prototypes]
    .flatMap((m) => m.trainableWeights.map((w) => w.read() as tf.Variable));
  const got = s.method.trainable(s.nets);
  assert.equal(got.length, want.length);
  assert.ok(want.length > 0);
  got.forEach((v, i) => assert.equal(v, want[i], `variable ${i}: ${v.name} vs ${want[i].name}`));
  assert.equal(new Set(got).size, got.length, "no variable twice");
});
