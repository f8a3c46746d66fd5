import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { horizontalFlip, multiCrop, simclrAugment, twoViews } from "../../augment/mod.ts";
import { assertNoLeak, setupBackend } from "../_utils.ts";
import { images, values } from "./_helpers.ts";

await setupBackend();

Deno.test("twoViews gives two different views that repeat under the same seed", async () => {
  const x = images([4, 16, 16, 3]);
  const pipeline = simclrAugment({ strength: 0.5 });
  const [a, b] = twoViews(x, pipeline, 7);
  const [c, d] = twoViews(x, pipeline, 7);
  const [e] = twoViews(x, pipeline, 8);
  assert.deepEqual(a.shape, [4, 16, 16, 3]);
  assert.deepEqual(b.shape, [4, 16, 16, 3]);
  assert.notDeepEqual(values(a), values(b), "the two views differ");
  assert.deepEqual(values(a), values(c));
  assert.deepEqual(values(b), values(d));
  assert.notDeepEqual(values(a), values(e));
  await assertNoLeak(() => twoViews(x, pipeline, 9));
  assert.throws(() => twoViews(x, 3 as unknown as never, 0), TypeError);
  tf.dispose([x, a, b, c, d, e]);
});

Deno.test("multiCrop returns the asked counts and sizes, globals first", async () => {
  const x = images([3, 32, 32, 3]);
  const views = multiCrop(x, {}, 1);
  assert.equal(views.length, 8);
  assert.deepEqual(views.map((v) => v.shape), [
    ...new Array(2).fill([3, 32, 32, 3]),
    ...new Array(6).fill([3, 14, 14, 3]),
  ]);
  const custom = multiCrop(
    x,
    { global: { count: 1, size: 24 }, local: { count: 3, size: [8, 12] } },
    1,
    horizontalFlip(),
  );
  assert.deepEqual(custom.map((v) => v.shape), [
    [3, 24, 24, 3],
    [3, 8, 12, 3],
    [3, 8, 12, 3],
    [3, 8, 12, 3],
  ]);
  // every crop is different, and the call repeats under its seed
  const again = multiCrop(x, {}, 1);
  views.forEach((v, i) => assert.deepEqual(values(v), values(again[i])));
  assert.notDeepEqual(values(views[2]), values(views[3]));
  assert.ok(values(views[4]).every((v) => v >= 0 && v <= 1));
  await assertNoLeak(() => multiCrop(x, {}, 2, horizontalFlip()));
  assert.throws(() => multiCrop(x, { local: { count: 1.5 } }, 0), RangeError);
  tf.dispose([x, ...views, ...custom, ...again]);
});

Deno.test("multiCrop local crops cover a small area: their content matches a zoomed window", () => {
  // a horizontal ramp: a crop of area fraction a and ratio r spans about sqrt(a r) of the width,
  // so the value range across a local crop row is at most sqrt(0.14 * 4/3) ~ 0.43
  const ramp = tf.tidy(() =>
    tf.tile(tf.reshape(tf.div(tf.range(0, 64), 63), [1, 1, 64, 1]), [4, 64, 1, 1])
  ) as tf.Tensor4D;
  const views = multiCrop(ramp, { global: { count: 0 }, local: { count: 4, size: 16 } }, 3);
  for (const v of views) {
    const vv = values(v);
    for (let s = 0; s < 4; s++) {
      const span = vv[s * 256 + 15] - vv[s * 256];
      assert.ok(span > 0.1 && span < 0.45, `span ${span}`);
    }
  }
  tf.dispose([ramp, ...views]);
});
