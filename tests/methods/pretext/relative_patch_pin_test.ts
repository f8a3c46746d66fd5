/**
 * Relative patch's step pinned to its loss (issue 17, fourth mutation pass on
 * methods/relative_patch.ts; the geometry of `patchPairs` is tested in
 * `relative_patch_geometry_test.ts`): `step().loss` is the cross-entropy of the head applied to
 * [f(centre), f(neighbour)] (in that order, one encoder pass over both) against the direction
 * labels, computed here in float64 from the nets' own outputs; top1 and zStd against references;
 * the colour-dropped views are `dropColors` with the seeds the method documents; the head's
 * default size, the name, and the refusals.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import { relativePatch } from "../../../methods/relative_patch.ts";
import { patchPairs } from "../../../methods/pretext/patch_pairs.ts";
import { dropColors } from "../../../methods/pretext/tiles.ts";
import { zStd } from "../../../methods/_common.ts";
import type { StepContext } from "../../../methods/mod.ts";
import { assertTensorClose, setupBackend } from "../../_utils.ts";
import { toySequenceEncoder } from "../_helpers.ts";

await setupBackend();

const AT: StepContext = { progress: 0, step: 0, epoch: 0 };

function crossEntropy(logits: number[][], labels: number[]): number {
  let sum = 0;
  logits.forEach((row, i) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    sum += lse - row[labels[i]];
  });
  return sum / logits.length;
}

Deno.test("relative-patch step: CE of head([f(centre), f(neighbour)]) against the direction labels; top1 and zStd", () => {
  const setup = relativePatch({
    encoder: "convnet",
    inputShape: [28, 28, 1],
    seed: 3,
    widths: [2],
    hiddenDim: 6,
  });
  const x = tf.randomUniform([6, 28, 28, 1], 0, 1, "float32", 8) as tf.Tensor4D;
  const views = setup.method.views(x, 4);
  const [c, n, l] = views;
  const labels = Array.from(l.dataSync()).map(Math.round);
  // the nets' own outputs, before the step (training-mode BatchNorm: batch statistics)
  const f = setup.nets.encoder.apply(tf.concat([c, n], 0), { training: true }) as tf.Tensor2D;
  const b = c.shape[0];
  const [f1, f2] = tf.split(f, [b, b], 0);
  const logits = setup.nets.head.apply(tf.concat([f1, f2], 1), { training: true }) as tf.Tensor2D;
  const rows = logits.arraySync();
  const out = setup.method.step(setup.nets, views, setup.state, AT);
  assert.ok(
    Math.abs(out.loss.dataSync()[0] - crossEntropy(rows, labels)) < 1e-5,
    `${out.loss.dataSync()[0]} vs ${crossEntropy(rows, labels)}`,
  );
  // swapping the pair gives another loss: the order is what the labels describe
  const swapped = setup.nets.head.apply(tf.concat([f2, f1], 1), { training: true }) as tf.Tensor2D;
  assert.ok(
    Math.abs(crossEntropy(swapped.arraySync(), labels) - crossEntropy(rows, labels)) > 1e-4,
  );
  const top1 = rows.filter((r, i) => r.indexOf(Math.max(...r)) === labels[i]).length / rows.length;
  assert.ok(Math.abs(out.metrics.top1.dataSync()[0] - top1) < 1e-6);
  assertTensorClose(out.metrics.zStd, zStd(f), { rtol: 1e-5, atol: 1e-6 });
  assert.deepEqual(Object.keys(out.metrics).sort(), ["top1", "zStd"]);
  assert.equal(out.state, setup.state);
  tf.dispose([x, ...views, f, f1, f2, logits, swapped, out.loss, ...Object.values(out.metrics)]);
});

Deno.test("relative-patch views on RGB: dropColors of patchPairs' centres with seed + 2 and neighbours with seed + 3", () => {
  const setup = relativePatch({
    encoder: "convnet",
    inputShape: [28, 28, 3],
    seed: 1,
    widths: [2],
    hiddenDim: 4,
  });
  const x = tf.randomUniform([4, 28, 28, 3], 0, 1, "float32", 2) as tf.Tensor4D;
  const [c, n] = setup.method.views(x, 11);
  const ref = patchPairs(x, 11);
  const wantC = dropColors(ref.centres, 13), wantN = dropColors(ref.neighbours, 14);
  assertTensorClose(c, wantC, { rtol: 0, atol: 0 });
  assertTensorClose(n, wantN, { rtol: 0, atol: 0 });
  tf.dispose([x, c, n, ref.centres, ref.neighbours, wantC, wantN]);
});

Deno.test("relative-patch: head [2D] -> 256 (BN, ReLU) -> 8 by default; name, trainable; refusals", () => {
  const setup = relativePatch({
    encoder: "convnet",
    inputShape: [28, 28, 1],
    seed: 1,
    widths: [2],
  });
  const d = setup.nets.encoder.outputs[0].shape[1] as number;
  assert.equal(setup.method.name, "relative-patch");
  assert.equal(setup.nets.head.name, "relative_patch_head");
  assert.deepEqual(
    setup.nets.head.layers.map((l) => l.getClassName()),
    ["InputLayer", "Dense", "BatchNormalization", "ReLU", "Dense"],
  );
  assert.deepEqual(setup.nets.head.layers[1].getWeights()[0].shape, [2 * d, 256]);
  assert.deepEqual(setup.nets.head.outputs[0].shape, [null, 8]);
  const ids = (vs: tf.Variable[]) => vs.map((v) => v.id).sort();
  const want = [...setup.nets.encoder.trainableWeights, ...setup.nets.head.trainableWeights].map(
    (w) => (w as unknown as { val: tf.Variable }).val,
  );
  assert.deepEqual(ids(setup.method.trainable(setup.nets)), ids(want));
  assert.equal(setup.encoder, setup.nets.encoder);
  // the encoder is built for any size: predict (which checks shapes) takes a patch and the image
  for (const size of [9, 28]) {
    const y = tf.tidy(() => setup.nets.encoder.predict(tf.zeros([1, size, size, 1])) as tf.Tensor);
    assert.deepEqual(y.shape, [1, d], `size ${size}`);
    y.dispose();
  }
  assert.throws(
    () =>
      relativePatch({ encoder: toySequenceEncoder([28, 28, 1]), inputShape: [28, 28, 1], seed: 0 }),
    {
      name: "TypeError",
      message:
        "Cannot build relative-patch: expected an encoder with [B, D] output, received [B, L, D]",
    },
  );
  assert.throws(
    () =>
      relativePatch({
        encoder: "convnet",
        inputShape: [28, 28, 1],
        seed: 0,
        widths: [2],
        hiddenDim: 0,
      }),
    {
      name: "RangeError",
      message: "Cannot build relative-patch: hiddenDim must be a positive integer, received 0",
    },
  );
});
