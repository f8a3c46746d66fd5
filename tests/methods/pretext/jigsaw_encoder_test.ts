/**
 * Jigsaw's encoder is built for any input size (issue 17, sixth mutation pass on
 * methods/jigsaw.ts: `buildEncoder(options, true)` -> `false` survived, since the step only calls
 * `apply`, which does not check spatial sizes; relative-patch has the same check in
 * `relative_patch_pin_test.ts`): `predict`, which checks them, takes a tile as the views cut it and
 * the whole image the encoder is used on downstream.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import { jigsaw } from "../../../methods/jigsaw.ts";
import { setupBackend } from "../../_utils.ts";
import { seededImages } from "../_helpers.ts";

await setupBackend();

Deno.test("jigsaw: the encoder's predict takes a tile and the whole image", () => {
  const setup = jigsaw({
    encoder: "convnet",
    inputShape: [12, 12, 1],
    seed: 4,
    widths: [2],
    permutations: 10,
  });
  const images = seededImages([1, 12, 12, 1], 3);
  const views = setup.method.views(images, 5);
  const tile = views[0].shape.slice(1, 3) as [number, number];
  assert.ok(tile[0] < 12, `tiles are smaller than the image: ${tile}`);
  const d = setup.nets.encoder.outputs[0].shape[1] as number;
  for (const [h, w] of [tile, [12, 12]]) {
    const y = tf.tidy(() => setup.nets.encoder.predict(tf.zeros([2, h, w, 1])) as tf.Tensor);
    assert.deepEqual(y.shape, [2, d], `${h}x${w}`);
    y.dispose();
  }
  tf.dispose([images, ...views]);
});
