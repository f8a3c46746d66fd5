import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { PAPER_AUGMENT_NAMES, paperAugment } from "../../augment/mod.ts";
import { assertNoLeak, assertTensorClose, setupBackend } from "../_utils.ts";

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
