import assert from "node:assert/strict";
import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import {
  applyHead,
  cloneModel,
  mocoV3Predictor,
  mocoV3Projector,
  normalizePrototypes,
  simclrHead,
  simsiamPredictor,
  sourcePredictor,
  sourceProjector,
  sourceSimclrHead,
  swavPrototypes,
} from "../../models/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";

await setupBackend();

/** The layer sequence of a head: class plus the settings that define it. */
function describe(model: tfl.LayersModel): string[] {
  return model.layers.slice(1).map((l) => {
    const c = l.getConfig() as Record<string, unknown>;
    switch (l.getClassName()) {
      case "Dense": {
        const reg = c.kernelRegularizer as { config?: { l2?: number } } | null;
        return `Dense(${c.units}${c.useBias ? "" : ",nobias"}${
          reg?.config?.l2 ? `,l2=${reg.config.l2.toPrecision(2)}` : ""
        })`;
      }
      case "BatchNormalization":
        return l.trainable ? "BN" : "BN(nonaffine)";
      case "LeakyReLU":
        return `LeakyReLU(${(c.alpha as number).toFixed(2)})`;
      default:
        return l.getClassName();
    }
  });
}

Deno.test("the source's heads are exactly as the source gives them", () => {
  assert.deepEqual(describe(sourceProjector(8, { projectionDim: 4 })), [
    "Dense(4,nobias,l2=0.0010)",
    "BN",
    "LeakyReLU(0.18)",
    "Dense(4)",
    "BN",
  ]);
  assert.deepEqual(describe(sourcePredictor(4, { projectionDim: 4, hiddenDim: 2 })), [
    "Dense(2,nobias,l2=0.0010)",
    "LeakyReLU(0.18)",
    "BN",
    "Dense(4)",
  ]);
  assert.deepEqual(describe(sourceSimclrHead(8, { projectionDim: 4 })), [
    "Dense(4,nobias)",
    "LeakyReLU(0.18)",
    "Dense(4)",
  ]);
});

Deno.test("paper heads: MoCo v3 ResNet heads (2-layer projector, predictor without last BN), SimSiam's predictor has no output BN", () => {
  // facebookresearch/moco-v3 MoCo_ResNet: _build_mlp(2, ...) and _build_mlp(2, ..., last_bn=False)
  assert.deepEqual(describe(mocoV3Projector(8, { hiddenDim: 6, projectionDim: 4 })), [
    "Dense(6,nobias)",
    "BN",
    "ReLU",
    "Dense(4,nobias)",
    "BN(nonaffine)",
  ]);
  assert.deepEqual(describe(mocoV3Predictor(4, { hiddenDim: 6, projectionDim: 4 })), [
    "Dense(6,nobias)",
    "BN",
    "ReLU",
    "Dense(4,nobias)",
  ]);
  // google-research/simclr projection_head: linear_layer(use_bn=True) for both layers
  assert.deepEqual(describe(simclrHead(8, { projectionDim: 4 })), [
    "Dense(8,nobias)",
    "BN",
    "ReLU",
    "Dense(4,nobias)",
    "BN",
  ]);
  assert.deepEqual(describe(simclrHead(8, { projectionDim: 4, batchNorm: false })), [
    "Dense(8)",
    "ReLU",
    "Dense(4)",
  ]);
  assert.deepEqual(describe(simsiamPredictor(2048)), [
    "Dense(512,nobias)",
    "BN",
    "ReLU",
    "Dense(2048)",
  ]);
  assert.equal(describe(simclrHead(8, { layers: 3 })).filter((d) => d === "BN").length, 3);
  assert.throws(() => simclrHead(8, { layers: 4 as 2 }), RangeError);
});

Deno.test("applyHead acts per frame: Dense on the last axis, BatchNorm over all B*L frames", () => {
  const head = sourceProjector(5, { projectionDim: 3 });
  const x = tf.randomNormal([4, 6, 5], 0, 1, "float32", 3) as tf.Tensor3D;
  const perFrame = applyHead(head, x);
  assert.deepEqual(perFrame.shape, [4, 6, 3]);
  const flat = head.apply(tf.reshape(x, [24, 5]), { training: true }) as tf.Tensor;
  assertTensorClose(perFrame, tf.reshape(flat, [4, 6, 3]), { rtol: 1e-5, atol: 1e-5 });
  // last BN in training mode: every feature has mean ~0 over all frames (not per sample)
  const mean = tf.mean(tf.reshape(perFrame, [24, 3]), 0);
  assertTensorClose(mean, [0, 0, 0], { rtol: 0, atol: 1e-4 });
  assert.throws(() => applyHead(head, tf.ones([2]) as unknown as tf.Tensor2D), TypeError);
});

Deno.test("cloneModel copies weights and can freeze the clone's BN statistics", () => {
  const a = sourceProjector(4, { projectionDim: 3 });
  const frozen = cloneModel(a, { freezeBatchNormStatistics: true });
  const live = cloneModel(a);
  const x = tf.randomNormal([8, 4], 2, 1, "float32", 4);
  const before = frozen.getWeights().map((w) => w.dataSync().slice());
  frozen.apply(x, { training: true });
  live.apply(x, { training: true });
  frozen.getWeights().forEach((w, i) => assertTensorClose(w, before[i], { rtol: 0, atol: 0 }));
  const movingMean = live.layers.find((l) => l.getClassName() === "BatchNormalization")!
    .getWeights()[2];
  assert.ok(tf.max(tf.abs(movingMean)).dataSync()[0] > 1e-3, "live clone's statistics moved");
});

Deno.test("swavPrototypes keeps unit-norm prototype columns", () => {
  const c = swavPrototypes(4, { prototypes: 7, seed: 3 });
  c.setWeights([tf.mul(c.getWeights()[0], 3)]);
  normalizePrototypes(c);
  assertTensorClose(tf.norm(c.getWeights()[0], 2, 0), new Array(7).fill(1), {
    rtol: 1e-5,
    atol: 1e-6,
  });
});
