import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { sgd, train } from "../../train/mod.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

Deno.test("train lrGroups: a constant group moves at the peak lr, a scaled group at scale x the schedule", async () => {
  const w = [0, 1, 2].map((i) => tf.variable(tf.tensor2d([[0]]), true, `lr_groups_w${i}`));
  const method = {
    name: "toy",
    views: (x: tf.Tensor4D) => [tf.clone(x)],
    // d loss / d w_i = 1 for every variable
    step: (nets: tf.Variable[], _views: tf.Tensor4D[], state: null) => ({
      loss: tf.tidy(() => tf.addN(nets.map((v) => tf.sum(v)))) as tf.Scalar,
      metrics: {},
      state,
    }),
    trainable: (nets: tf.Variable[]) => nets,
  };
  const batches = Array.from({ length: 2 }, () => ({ images: tf.ones([1, 1, 1, 1]) }));
  await train({ method, nets: w, state: null }, batches as never, {
    steps: 2,
    lr: 0.1,
    momentum: 0,
    schedule: "cosine",
    progress: false,
    lrGroups: [{ variables: [w[1]], constant: true }, { variables: [w[2]], scale: 0.5 }],
  });
  // cosine over 2 steps: 0.1 then 0.05
  const got = w.map((v) => v.dataSync()[0]);
  const want = [-(0.1 + 0.05), -(0.1 + 0.1), -0.5 * (0.1 + 0.05)];
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-6, `w${i}: ${g} vs ${want[i]}`));
  tf.dispose([...w, ...batches.map((b) => b.images)]);
});

Deno.test("optimizer.apply takes one rate per variable and checks their number", () => {
  const a = tf.variable(tf.tensor1d([1])), b = tf.variable(tf.tensor1d([1]));
  const opt = sgd([a, b], { momentum: 0 });
  const g = tf.tensor1d([1]);
  opt.apply([g, g], [0.5, 0.25]);
  assert.deepEqual([a.dataSync()[0], b.dataSync()[0]], [0.5, 0.75]);
  assert.throws(() => opt.apply([g, g], [0.5]), { name: "TypeError", message: /2 learning rates/ });
  assert.throws(() => opt.apply([g, g], [0.5, -1]), RangeError);
  opt.dispose();
  tf.dispose([a, b, g]);
});
