/**
 * Jigsaw's defaults, head, labels and refusals (issue 17, fourth mutation pass on
 * methods/jigsaw.ts; its loss is pinned in `loss_pin_test.ts` and its views in
 * `jigsaw_paper_test.ts`): 100 permutations chosen by the "maximal" rule, a 64-unit Dense per
 * tile position (named per position) joined into a 256-unit BN-ReLU layer, the puzzle labels the
 * seeded draw `randomLabels(B, count, seed + 1)`, `tileSize` passed to the tiler, metrics against
 * references, trainable variables, and each refusal's exact message.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import { jigsaw } from "../../../methods/jigsaw.ts";
import { hammingPermutations } from "../../../methods/pretext/hamming_permutations.ts";
import { randomLabels } from "../../../methods/pretext/classify.ts";
import { zStd } from "../../../methods/_common.ts";
import type { StepContext } from "../../../methods/mod.ts";
import { assertTensorClose, setupBackend } from "../../_utils.ts";
import { toySequenceEncoder } from "../_helpers.ts";

await setupBackend();

const AT: StepContext = { progress: 0, step: 0, epoch: 0 };
const BASE = {
  encoder: "convnet" as const,
  inputShape: [12, 12, 1] as [number, number, number],
  seed: 4,
  widths: [2],
};

Deno.test("jigsaw defaults: 100 'maximal' permutations, 64 units per tile position, a 256-unit hidden layer", () => {
  const setup = jigsaw(BASE);
  const want = hammingPermutations(100, { seed: 4, selection: "maximal" });
  assert.deepEqual(setup.method.permutations, want.permutations);
  assert.equal(setup.method.minDistance, want.minDistance);
  assert.equal(setup.method.meanDistance, want.meanDistance);
  assert.equal(setup.method.name, "jigsaw");
  const head = setup.nets.head;
  assert.equal(head.name, "jigsaw_head");
  assert.equal(head.inputs.length, 9);
  const d = setup.nets.encoder.outputs[0].shape[1] as number;
  for (let p = 0; p < 9; p++) {
    const fc = head.getLayer(`jigsaw_tile_fc_${p}`);
    assert.deepEqual(fc.getWeights()[0].shape, [d, 64], `tile ${p}`);
  }
  const mlp = head.getLayer("jigsaw_mlp") as unknown as {
    layers: { getClassName(): string; getWeights(): tf.Tensor[] }[];
  };
  assert.deepEqual(
    mlp.layers.map((l) => l.getClassName()),
    ["InputLayer", "Dense", "BatchNormalization", "ReLU", "Dense"],
  );
  assert.deepEqual(mlp.layers[1].getWeights()[0].shape, [9 * 64, 256]);
  assert.deepEqual(head.outputs[0].shape, [null, 100]);
  const ids = (vs: tf.Variable[]) => vs.map((v) => v.id).sort();
  const vars = [...setup.nets.encoder.trainableWeights, ...head.trainableWeights].map(
    (w) => (w as unknown as { val: tf.Variable }).val,
  );
  assert.deepEqual(ids(setup.method.trainable(setup.nets)), ids(vars));
  assert.equal(setup.encoder, setup.nets.encoder);
  // another rule, another set
  const minimal = jigsaw({ ...BASE, permutations: 10, selection: "minimal" });
  assert.deepEqual(
    minimal.method.permutations,
    hammingPermutations(10, { seed: 4, selection: "minimal" }).permutations,
  );
});

Deno.test("jigsaw views: labels are randomLabels(B, count, seed + 1); tileSize reaches the tiler; metrics against references", () => {
  const setup = jigsaw({ ...BASE, permutations: 8, tileUnits: 3, hiddenDim: 5, tileSize: 3 });
  const x = tf.randomUniform([4, 12, 12, 1], 0, 1, "float32", 3) as tf.Tensor4D;
  const views = setup.method.views(x, 20);
  const [shuffled, labelView] = views;
  const want = randomLabels(4, 8, 21);
  assert.deepEqual(Array.from(labelView.dataSync()), Array.from(want.dataSync()));
  assert.deepEqual(shuffled.shape, [36, 3, 3, 1]);
  const features = setup.nets.encoder.apply(shuffled, { training: true }) as tf.Tensor2D;
  const byPosition = tf.unstack(tf.reshape(features, [4, 9, -1]), 1);
  const logits = setup.nets.head.apply(byPosition, { training: true }) as tf.Tensor2D;
  const rows = logits.arraySync();
  const labels = Array.from(want.dataSync());
  const top1 = rows.filter((r, i) => r.indexOf(Math.max(...r)) === labels[i]).length / rows.length;
  const out = setup.method.step(setup.nets, views, setup.state, AT);
  assert.ok(Math.abs(out.metrics.top1.dataSync()[0] - top1) < 1e-6);
  assertTensorClose(out.metrics.zStd, zStd(features), { rtol: 1e-5, atol: 1e-6 });
  assert.deepEqual(Object.keys(out.metrics).sort(), ["top1", "zStd"]);
  assert.equal(out.state, setup.state);
  tf.dispose([x, ...views, want, features, ...byPosition, logits, out.loss]);
  tf.dispose(Object.values(out.metrics));
});

Deno.test("jigsaw refuses a sequence encoder and a zero count, tile width or hidden size, naming each", () => {
  assert.throws(
    () => jigsaw({ ...BASE, encoder: toySequenceEncoder([12, 12, 1]) }),
    {
      name: "TypeError",
      message: "Cannot build jigsaw: expected an encoder with [B, D] output, received [B, L, D]",
    },
  );
  for (const name of ["permutations", "tileUnits", "hiddenDim"]) {
    assert.throws(() => jigsaw({ ...BASE, [name]: 0 }), {
      name: "RangeError",
      message: `Cannot build jigsaw: ${name} must be a positive integer, received 0`,
    });
  }
});
