import assert from "node:assert/strict";
import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { createMethod, simclr } from "../../methods/mod.ts";
import { ntXent } from "../../losses/mod.ts";
import { assertNoLeak, setupBackend } from "../_utils.ts";
import { firstLast, noiseAugment, runSteps, toyEncoder, toySequenceEncoder } from "./_helpers.ts";

await setupBackend();
// created per test: another test file's setupBackend may reset the engine between files
const makeImages = () => tf.randomUniform([8, 6, 6, 1], 0, 1, "float32", 7) as tf.Tensor4D;

for (const loss of ["nt-xent", "info-nce"] as const) {
  Deno.test(`simclr (${loss}) loss falls and top1 rises on tiny data`, () => {
    const images = makeImages();
    const setup = simclr({
      encoder: toyEncoder([6, 6, 1]),
      inputShape: [6, 6, 1],
      seed: 1,
      loss,
      projectionDim: 8,
      augment: noiseAugment(0.1),
    });
    const run = runSteps(setup, images, 30, tf.train.adam(0.01));
    const [first, last] = firstLast(run.losses);
    assert.ok(last < first - 0.1, `loss ${first} -> ${last}`);
    const [top0, top1] = firstLast(run.metrics.top1);
    assert.ok(top1 >= top0 && top1 > 0.8, `top1 ${top0} -> ${top1}`);
    assert.ok(run.metrics.zStd.every((v) => v > 0 && v <= 1));
  });
}

Deno.test("simclr in sequence mode: per-frame head and featureFlat make frames the instances", () => {
  const setup = createMethod("simclr", {
    encoder: toySequenceEncoder([4, 12, 1], 6),
    inputShape: [4, 12, 1],
    seed: 2,
    projectionDim: 5,
    augment: noiseAugment(0.05),
  });
  assert.deepEqual(setup.nets, {
    encoder: setup.encoder,
    head: (setup.nets as { head: unknown }).head,
  });
  // source head by default in sequence mode: Dense(no bias) -> LeakyReLU -> Dense
  const head = (setup.nets as { head: { layers: { getClassName(): string }[] } }).head;
  assert.deepEqual(head.layers.map((l) => l.getClassName()), [
    "InputLayer",
    "Dense",
    "LeakyReLU",
    "Dense",
  ]);
  const x = tf.randomUniform([3, 4, 12, 1], 0, 1, "float32", 3) as tf.Tensor4D;
  const views = setup.method.views(x, 0);
  assert.deepEqual(views[0].shape, views[1].shape);
  const r = setup.method.step(setup.nets, views, setup.state, { progress: 0, step: 0, epoch: 0 });
  // 3 lines x ceil(12/5) = 9 frame instances, accuracy averaged over both directions:
  // top1 is a multiple of 1/18
  const top1 = r.metrics.top1.dataSync()[0];
  assert.ok(Math.abs(top1 * 18 - Math.round(top1 * 18)) < 1e-4, `top1 ${top1}`);
  const run = runSteps(setup, x, 25, tf.train.adam(0.01));
  const [first, last] = firstLast(run.losses);
  assert.ok(last < first, `loss ${first} -> ${last}`);
});

Deno.test("simclr step leaves no tensors behind and does not touch its inputs", async () => {
  const images = makeImages();
  const setup = simclr({
    encoder: toyEncoder([6, 6, 1]),
    inputShape: [6, 6, 1],
    seed: 1,
    projectionDim: 4,
  });
  const views = setup.method.views(images, 3);
  const before = views[0].dataSync().slice();
  await assertNoLeak(() =>
    setup.method.step(setup.nets, views, setup.state, { progress: 0, step: 0, epoch: 0 })
  );
  assert.deepEqual(views[0].dataSync(), before);
  tf.dispose(views);
});

Deno.test("createMethod rejects unknown names and options", () => {
  const base = {
    encoder: toyEncoder([6, 6, 1]),
    inputShape: [6, 6, 1] as [number, number, number],
    seed: 0,
  };
  // @ts-expect-error a misspelled name fails deno check as well (MethodName)
  assert.throws(() => createMethod("simclrr", base), /Unknown method/);
  assert.throws(
    // @ts-expect-error simclr takes no stopGradient: deno check refuses it as well
    () => createMethod("simclr", { ...base, stopGradient: false }),
    /unknown option stopGradient/,
  );
  assert.throws(() => createMethod("simclr", { ...base, temperature: 0 }), RangeError);
  assert.throws(
    () =>
      createMethod("simclr", {
        ...base,
        inputShape: [6, 6] as unknown as [number, number, number],
      }),
    TypeError,
  );
});

Deno.test("simclr normalizes both views in one BatchNorm batch of 2N (the official code), or one per view", () => {
  // a real convnet has BatchNorm: the step's loss must equal NT-Xent of one forward over the
  // concatenated views (shared batch statistics), and differ from two separate forwards
  const images = makeImages();
  const build = (sharedBatchNorm?: boolean) =>
    createMethod("simclr", {
      encoder: "convnet",
      inputShape: [6, 6, 1],
      seed: 4,
      widths: [4],
      projectionDim: 8,
      augment: noiseAugment(0.1),
      ...(sharedBatchNorm === undefined ? {} : { sharedBatchNorm }),
    });
  const ctx = { progress: 0, step: 0, epoch: 0 };
  for (const shared of [undefined, true, false]) {
    const setup = build(shared);
    const nets = setup.nets as { encoder: tfl.LayersModel; head: tfl.LayersModel };
    const views = setup.method.views(images, 3);
    const forward = (x: tf.Tensor) =>
      nets.head.apply(nets.encoder.apply(x, { training: true }), { training: true }) as tf.Tensor2D;
    const expected = tf.tidy(() => {
      if (shared === false) {
        return ntXent(forward(views[0]), forward(views[1]), { temperature: 0.5 });
      }
      const z = forward(tf.concat(views, 0));
      return ntXent(tf.slice(z, [0, 0], [8, -1]), tf.slice(z, [8, 0], [8, -1]), {
        temperature: 0.5,
      });
    });
    const other = tf.tidy(() => {
      if (shared !== false) {
        return ntXent(forward(views[0]), forward(views[1]), { temperature: 0.5 });
      }
      const z = forward(tf.concat(views, 0));
      return ntXent(tf.slice(z, [0, 0], [8, -1]), tf.slice(z, [8, 0], [8, -1]), {
        temperature: 0.5,
      });
    });
    const { loss, metrics } = setup.method.step(nets, views, setup.state, ctx);
    const [l, e, o] = [loss.dataSync()[0], expected.dataSync()[0], other.dataSync()[0]];
    assert.ok(Math.abs(l - e) <= 1e-5 * Math.abs(e), `shared ${shared}: loss ${l} vs ${e}`);
    assert.ok(Math.abs(l - o) > 1e-3, `shared ${shared}: the other BN batching gives ${o} too`);
    tf.dispose([loss, expected, other, ...Object.values(metrics), ...views]);
  }
  images.dispose();
});

Deno.test("simclr headBatchNorm false builds the paper's plain head, true the official BN head", () => {
  const layers = (headBatchNorm: boolean) => {
    const setup = createMethod("simclr", {
      encoder: toyEncoder([6, 6, 1]),
      inputShape: [6, 6, 1],
      seed: 1,
      projectionDim: 4,
      headBatchNorm,
    });
    const head = (setup.nets as { head: tfl.LayersModel }).head;
    return head.layers.map((l) => l.getClassName());
  };
  assert.deepEqual(layers(false), ["InputLayer", "Dense", "ReLU", "Dense"]);
  assert.deepEqual(layers(true), [
    "InputLayer",
    "Dense",
    "BatchNormalization",
    "ReLU",
    "Dense",
    "BatchNormalization",
  ]);
});
