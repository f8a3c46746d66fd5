// renderGrid draws a gray column beside colour ones (the pretext preview's grids mix them: the
// L input beside the colorized prediction), so both previews share one grid.
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { renderGrid } from "../../cli/preview.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

Deno.test("renderGrid: a gray column beside a colour one is drawn gray in every channel", () => {
  const gray = tf.tensor4d([0.2, 0.6], [1, 1, 2, 1]);
  const rgb = tf.tensor4d([1, 0, 0, 0, 0, 1], [1, 1, 2, 3]);
  const g = renderGrid([gray, rgb], { gap: 0, separator: 0, background: 9 });
  assert.deepEqual([g.width, g.height, g.channels], [4, 1, 3]);
  assert.deepEqual([...g.data], [51, 51, 51, 153, 153, 153, 255, 0, 0, 0, 0, 255]);
  // two channels are neither gray nor the colour columns' three
  const two = tf.zeros([1, 1, 1, 2]) as tf.Tensor4D;
  assert.throws(() => renderGrid([rgb, two]), /\[1, H, W, 3 or 1\], received \[1,1,1,2\]/);
  tf.dispose([gray, rgb, two]);
});
