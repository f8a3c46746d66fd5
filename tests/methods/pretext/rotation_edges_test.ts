/**
 * Rotation's head, metrics, trainable variables and refusals (issue 17, fourth mutation pass on
 * methods/rotation.ts): the loss is pinned elsewhere (`loss_pin_test.ts`); here the optional
 * hidden layer, the top-1 against the turn labels, zStd of the encoder's features, the variables
 * trained, the name, and the exact message for non-square images or a sequence encoder.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import { rotation } from "../../../methods/rotation.ts";
import { zStd } from "../../../methods/_common.ts";
import type { StepContext } from "../../../methods/mod.ts";
import { setupBackend } from "../../_utils.ts";
import { seededImages, toyEncoder, toySequenceEncoder } from "../_helpers.ts";

await setupBackend();

const AT: StepContext = { progress: 0, step: 0, epoch: 0 };
const SHAPE: [number, number, number] = [4, 4, 1];

Deno.test("rotation: a 4-way linear head by default, Dense-BN-ReLU-Dense with hiddenDim; name and trainable", () => {
  const plain = rotation({ encoder: toyEncoder(SHAPE, 8, 3), inputShape: SHAPE, seed: 1 });
  assert.equal(plain.method.name, "rotation");
  assert.equal(plain.nets.head.name, "rotation_head");
  assert.deepEqual(plain.nets.head.weights.map((w) => w.shape), [[8, 4], [4]]);
  const deep = rotation({
    encoder: toyEncoder(SHAPE, 8, 3),
    inputShape: SHAPE,
    seed: 1,
    hiddenDim: 5,
  });
  assert.deepEqual(
    deep.nets.head.layers.map((l) => l.getClassName()),
    ["InputLayer", "Dense", "BatchNormalization", "ReLU", "Dense"],
  );
  assert.deepEqual(deep.nets.head.outputs[0].shape, [null, 4]);
  assert.equal(deep.nets.head.layers[1].getWeights()[0].shape[1], 5);
  const ids = (vs: tf.Variable[]) => vs.map((v) => v.id).sort();
  const want = [...deep.nets.encoder.trainableWeights, ...deep.nets.head.trainableWeights].map(
    (w) => (w as unknown as { val: tf.Variable }).val,
  );
  assert.deepEqual(ids(deep.method.trainable(deep.nets)), ids(want));
  assert.equal(plain.encoder, plain.nets.encoder);
  assert.deepEqual(plain.state, {});
});

Deno.test("rotation: top1 is the accuracy against the turn labels, zStd that of the encoder's features", () => {
  const setup = rotation({ encoder: toyEncoder(SHAPE, 8, 5), inputShape: SHAPE, seed: 2 });
  const x = seededImages([3, ...SHAPE], 7);
  const [v] = setup.method.views(x, 0);
  const out = setup.method.step(setup.nets, [v], setup.state, AT);
  const features = setup.nets.encoder.apply(v, { training: true }) as tf.Tensor2D;
  const logits = setup.nets.head.apply(features, { training: true }) as tf.Tensor2D;
  const pred = Array.from(tf.argMax(logits, 1).dataSync());
  const top1 = pred.filter((p, i) => p === Math.floor(i / 3)).length / pred.length;
  assert.ok(Math.abs(out.metrics.top1.dataSync()[0] - top1) < 1e-6);
  assert.ok(Math.abs(out.metrics.zStd.dataSync()[0] - zStd(features).dataSync()[0]) < 1e-5);
  assert.deepEqual(Object.keys(out.metrics).sort(), ["top1", "zStd"]);
  assert.equal(out.state, setup.state);
  tf.dispose([x, v, features, logits, out.loss, ...Object.values(out.metrics)]);
});

Deno.test("rotation refuses non-square images and a sequence encoder, naming the shape", () => {
  const message = (shape: number[]) =>
    `Cannot build rotation: expected square images and a [B, D] encoder, received inputShape [${shape}]`;
  assert.throws(
    () => rotation({ encoder: toyEncoder([4, 6, 1]), inputShape: [4, 6, 1], seed: 0 }),
    { name: "TypeError", message: message([4, 6, 1]) },
  );
  assert.throws(
    () => rotation({ encoder: toySequenceEncoder(SHAPE), inputShape: SHAPE, seed: 0 }),
    { name: "TypeError", message: message([4, 4, 1]) },
  );
});
