/** Issue 13: a two-view step given the wrong views says so instead of failing inside tfjs. */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { createMethod } from "../../methods/mod.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

const TWO_VIEW_METHODS = [
  "simclr",
  "simsiam",
  "byol",
  "moco-v2",
  "moco-v3",
  "barlow-twins",
  "vicreg",
] as const;

Deno.test("two-view steps refuse one view, three views and views of different shapes", () => {
  const context = { progress: 0, step: 0, epoch: 0 };
  for (const name of TWO_VIEW_METHODS) {
    const { method, nets, state } = createMethod(name, {
      encoder: "convnet",
      inputShape: [8, 8, 1],
      seed: 0,
      widths: [4],
      projectionDim: 8,
      hiddenDim: 8,
    } as never);
    const a = tf.zeros([2, 8, 8, 1]) as tf.Tensor4D;
    const b = tf.zeros([3, 8, 8, 1]) as tf.Tensor4D;
    const step = (views: tf.Tensor4D[]) =>
      (method.step as (n: unknown, v: tf.Tensor4D[], s: unknown, c: unknown) => unknown)(
        nets,
        views,
        state,
        context,
      );
    assert.throws(() => step([a]), {
      name: "TypeError",
      message: new RegExp(`^Cannot run a ${name} step: expected 2 views, received 1$`),
    });
    assert.throws(() => step([a, a, a]), { name: "TypeError", message: /received 3$/ });
    assert.throws(() => step([a, b]), {
      name: "TypeError",
      message: /every view must have the same shape, received \[2,8,8,1\] and \[3,8,8,1\]$/,
    });
    tf.dispose([a, b]);
  }
});
