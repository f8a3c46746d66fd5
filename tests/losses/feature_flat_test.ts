import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { featureFlat } from "../../losses/mod.ts";
import {
  assertNoLeak,
  assertTensorClose,
  checkGradient,
  pcg32,
  randomNormal,
  setupBackend,
} from "../_utils.ts";
import { refFeatureFlat } from "./_reference.ts";

await setupBackend();

function random3d(b: number, l: number, d: number, prng: () => number): number[][][] {
  const v = randomNormal(b * l * d, prng as never);
  return Array.from(
    { length: b },
    (_, i) =>
      Array.from(
        { length: l },
        (_, t) => Array.from({ length: d }, (_, c) => v[(i * l + t) * d + c]),
      ),
  );
}

Deno.test("featureFlat matches TensorFlow AvgPool1D 'same' (padded cells excluded) for many L and pool sizes", () => {
  const prng = pcg32(401);
  for (const pool of [1, 2, 3, 5, 7]) {
    for (let L = 1; L <= 13; L++) {
      const x = random3d(2, L, 3, prng);
      tf.tidy(() => {
        const got = featureFlat(tf.tensor3d(x), { poolSize: pool });
        assert.deepEqual(got.shape, [2 * Math.ceil(L / pool), 3]);
        assertTensorClose(
          got,
          refFeatureFlat(x, pool),
          { rtol: 1e-5, atol: 1e-6 },
          `L=${L} pool=${pool}:`,
        );
      });
    }
  }
});

Deno.test("featureFlat agrees with tfjs avgPool 'same' (an independent implementation)", () => {
  const prng = pcg32(402);
  const x = random3d(3, 64, 8, prng);
  tf.tidy(() => {
    const t = tf.tensor3d(x);
    const pooled = tf.avgPool(tf.reshape(t, [3, 1, 64, 8]) as tf.Tensor4D, [1, 5], [1, 5], "same");
    assertTensorClose(featureFlat(t), tf.reshape(pooled, [3 * 13, 8]), { rtol: 1e-5, atol: 1e-6 });
  });
});

Deno.test("featureFlat on the source's sizes: [96, 64, 512] -> [96·13, 512], last frame averages 4 cells", () => {
  tf.tidy(() => {
    // frame value = its index t, so every pooled value is the mean of the real indices
    const x = tf.tile(tf.reshape(tf.range(0, 64), [1, 64, 1]), [96, 1, 512]) as tf.Tensor3D;
    const y = featureFlat(x);
    assert.deepEqual(y.shape, [96 * 13, 512]);
    const rows = tf.slice(y, [0, 0], [13, 1]).dataSync();
    // pad = 65 - 64 = 1, all on the right: frames 0..11 are full, frame 12 = mean(60..63)
    const expected = Array.from({ length: 13 }, (_, j) => (j < 12 ? 5 * j + 2 : 61.5));
    assertTensorClose(rows, expected, { rtol: 0, atol: 1e-5 });
  });
});

Deno.test("featureFlat gradients match finite differences (pool 5, L = 7: pads on both sides)", () => {
  const prng = pcg32(403);
  const x = tf.tensor3d(random3d(2, 7, 3, prng));
  const w = tf.tensor2d(random3d(1, 4, 3, prng)[0]);
  checkGradient((t) => tf.sum(tf.mul(featureFlat(t as tf.Tensor3D), w)) as tf.Scalar, x, {
    eps: 1e-2,
    rtol: 1e-2,
    atol: 1e-3,
  });
  tf.dispose([x, w]);
});

Deno.test("featureFlat validates inputs and leaks nothing", async () => {
  const x = tf.ones([2, 6, 3]) as tf.Tensor3D;
  assert.throws(() => featureFlat(tf.ones([6, 3]) as unknown as tf.Tensor3D), TypeError);
  assert.throws(() => featureFlat(tf.ones([2, 0, 3]) as tf.Tensor3D), RangeError);
  assert.throws(() => featureFlat(x, { poolSize: 0 }), RangeError);
  assert.throws(() => featureFlat(x, { poolSize: 2.5 }), RangeError);
  await assertNoLeak(() => featureFlat(x));
  await assertNoLeak(() => tf.grad((t: tf.Tensor) => tf.sum(featureFlat(t as tf.Tensor3D)))(x));
  x.dispose();
});
