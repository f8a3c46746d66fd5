import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  type Augmentation,
  colorJitter,
  compose,
  type ComposeStep,
  gaussianBlur,
  horizontalFlip,
  PAPER_AUGMENT_NAMES,
  paperAugment,
  type PaperAugmentName,
  randomGrayscale,
  randomResizedCrop,
  solarize,
} from "../../augment/mod.ts";
import { assertNoLeak, assertTensorClose, setupBackend, thrown } from "../_utils.ts";
import { images } from "./_helpers.ts";

await setupBackend();

Deno.test("paperAugment: every pipeline keeps the shape and [0, 1], repeats per seed, leaks nothing", async () => {
  const x = tf.randomUniform([6, 20, 20, 3], 0, 1, "float32", 3) as tf.Tensor4D;
  for (const name of PAPER_AUGMENT_NAMES) {
    const aug = paperAugment(name);
    const a = aug(x, 7), b = aug(x, 7);
    assert.deepEqual(a.shape, [6, 20, 20, 3], name);
    assertTensorClose(a, b, { rtol: 0, atol: 0 }, `${name} repeats`);
    const [lo, hi] = [tf.min(a).dataSync()[0], tf.max(a).dataSync()[0]];
    assert.ok(lo >= 0 && hi <= 1, `${name} range [${lo}, ${hi}]`);
    tf.dispose([a, b]);
    await assertNoLeak(() => aug(x, 8), name);
  }
  assert.throws(() => paperAugment("bogus" as "simclr"), TypeError);
  x.dispose();
});

Deno.test("paperAugment: BYOL's second view solarizes some images, the first never (Table 6: p 0 / 0.2)", () => {
  // a flat bright image: the center pixel stays >= 0.5 through crop, flip, jitter, grayscale and
  // blur; only solarization brings it below
  const x = tf.fill([64, 16, 16, 3], 0.95) as tf.Tensor4D;
  const below = (name: "byol-1" | "byol-2") =>
    tf.tidy(() => {
      const center = tf.slice(paperAugment(name)(x, 11), [0, 8, 8, 0], [-1, 1, 1, 1]);
      return tf.sum(tf.cast(tf.less(center, 0.5), "float32")).dataSync()[0];
    });
  assert.equal(below("byol-1"), 0);
  const n = below("byol-2");
  assert.ok(n >= 4 && n <= 24, `byol-2 solarized ${n} of 64 (expected ~13)`);
  x.dispose();
});

Deno.test("paperAugment: each pipeline is exactly the composition its docs list", () => {
  const x = images([4, 20, 20, 3], 6); // 20 px: the blur kernel is 3 (1, a no-op, below 20)
  const crop = (lo: number, size?: number) => randomResizedCrop({ size, scale: [lo, 1] });
  const flip = horizontalFlip({ p: 0.5 });
  const gray = randomGrayscale({ p: 0.2 });
  const jitter = (b: number, c: number, s: number, h: number) =>
    colorJitter({ brightness: b, contrast: c, saturation: s, hue: h });
  const blur = (p: number): ComposeStep => [gaussianBlur({ sigma: [0.1, 2] }), p];
  const byol = (size?: number): ComposeStep[] => [
    crop(0.08, size),
    flip,
    [jitter(0.4, 0.4, 0.2, 0.1), 0.8],
    gray,
  ];
  const cases: [PaperAugmentName, number | undefined, Augmentation][] = [
    [
      "simclr",
      undefined,
      compose(crop(0.08), flip, [jitter(0.8, 0.8, 0.8, 0.2), 0.8], gray, [gaussianBlur(), 0.5]),
    ],
    ["moco-v1", 10, compose(crop(0.2, 10), gray, jitter(0.4, 0.4, 0.4, 0.4), flip)],
    [
      "moco-v2",
      undefined,
      compose(crop(0.2), [jitter(0.4, 0.4, 0.4, 0.1), 0.8], gray, blur(0.5), flip),
    ],
    ["byol-1", 22, compose(...byol(22), blur(1))],
    ["byol-2", undefined, compose(...byol(), blur(0.1), [solarize({ threshold: 0.5 }), 0.2])],
  ];
  assert.deepEqual(cases.map(([name]) => name), [...PAPER_AUGMENT_NAMES]);
  for (const [name, size, want] of cases) {
    const got = paperAugment(name, size === undefined ? {} : { size });
    for (const seed of [1, 2]) {
      const [a, b] = [got(x, seed), want(x, seed)];
      assertTensorClose(a, b, { rtol: 0, atol: 0 }, `${name}, seed ${seed}:`);
      tf.dispose([a, b]);
    }
  }
  const e = thrown(() => paperAugment("bogus" as "simclr"));
  assert.equal(e.name, "TypeError");
  assert.equal(
    e.message,
    'Unknown paper augmentation: expected one of simclr, moco-v1, moco-v2, byol-1, byol-2, received "bogus"',
  );
  x.dispose();
});
