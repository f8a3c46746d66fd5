import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { convNet, resnet18, sequenceEncoder } from "../../models/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";

await setupBackend();

async function roundTrip(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler((artifacts) => {
    saved = artifacts;
    return Promise.resolve({
      modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" },
    });
  }));
  return await tfl.loadLayersModel(tf.io.fromMemory(saved!));
}

Deno.test("resnet18 has the CIFAR stem, 8 basic blocks and reloads with plain tfjs", async () => {
  const net = resnet18({ inputShape: [8, 8, 3], widths: [4, 4, 8, 8] });
  const convs = net.layers.filter((l) => l.getClassName() === "Conv2D");
  // stem + 8 blocks x 2 convs + 3 projection shortcuts (stages 2-4)
  assert.equal(convs.length, 1 + 16 + 3);
  const stem = convs[0].getConfig();
  assert.deepEqual([stem.kernelSize, stem.strides], [[3, 3], [1, 1]]);
  assert.equal(net.layers.some((l) => l.getClassName() === "MaxPooling2D"), false);
  const x = tf.randomNormal([2, 8, 8, 3], 0, 1, "float32", 1);
  const y = net.predict(x) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 8]);
  const back = await roundTrip(net);
  assertTensorClose(back.predict(x) as tf.Tensor, y, { rtol: 1e-5, atol: 1e-6 });
  tf.dispose([x, y]);
});

Deno.test("resnet18 with a null spatial shape accepts several crop sizes", () => {
  const net = resnet18({ inputShape: [null, null, 3], widths: [2, 2, 4, 4], blocks: [1, 1, 1, 1] });
  assert.deepEqual((net.predict(tf.zeros([1, 16, 16, 3])) as tf.Tensor).shape, [1, 4]);
  assert.deepEqual((net.predict(tf.zeros([1, 8, 8, 3])) as tf.Tensor).shape, [1, 4]);
});

Deno.test("convNet maps 28x28 images to features of the last width", () => {
  const net = convNet({ widths: [4, 8] });
  assert.deepEqual((net.predict(tf.zeros([3, 28, 28, 1])) as tf.Tensor).shape, [3, 8]);
});

Deno.test("sequenceEncoder emits [B, W/4, D] frames and each frame sees its own columns", async () => {
  const net = sequenceEncoder({ inputShape: [32, 128, 1], widths: [4, 4, 8, 8], featureDim: 6 });
  const x = tf.randomUniform([2, 32, 128, 1], 0, 1, "float32", 2);
  const y = net.predict(x) as tf.Tensor3D;
  assert.deepEqual(y.shape, [2, 32, 6]);
  // change the rightmost 8 pixel columns: early frames must not move (locality along width)
  const x2 = tf.concat([tf.slice(x, [0, 0, 0, 0], [2, 32, 120, 1]), tf.zeros([2, 32, 8, 1])], 2);
  const y2 = net.predict(x2) as tf.Tensor3D;
  assertTensorClose(tf.slice(y2, [0, 0, 0], [2, 20, 6]), tf.slice(y, [0, 0, 0], [2, 20, 6]), {
    rtol: 1e-5,
    atol: 1e-6,
  });
  const back = await roundTrip(net);
  assertTensorClose(back.predict(x) as tf.Tensor, y, { rtol: 1e-5, atol: 1e-6 });
});

Deno.test("sequenceEncoder with an unknown width follows the input width", () => {
  const net = sequenceEncoder({ inputShape: [16, null, 1], widths: [4, 4, 4] });
  assert.deepEqual((net.predict(tf.zeros([1, 16, 64, 1])) as tf.Tensor).shape, [1, 16, 4]);
  assert.deepEqual((net.predict(tf.zeros([1, 16, 32, 1])) as tf.Tensor).shape, [1, 8, 4]);
});

Deno.test("encoders reject bad shapes and widths with TypeError/RangeError", () => {
  assert.throws(
    () => resnet18({ inputShape: [8, 8] as unknown as [number, number, number] }),
    TypeError,
  );
  assert.throws(() => resnet18({ inputShape: [8, 8, 3], widths: [4, 4, 8] }), TypeError);
  assert.throws(() => convNet({ widths: [4, 0] }), RangeError);
  assert.throws(
    () => sequenceEncoder({ inputShape: [null as unknown as number, 32, 1] }),
    /known height/,
  );
});
