import assert from "node:assert/strict";
import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { withSeed } from "../../backend/with_seed.ts";
import { barlowTwinsLoss, vicregLoss } from "../../losses/mod.ts";
import { barlowTwins, createMethod, vicreg } from "../../methods/mod.ts";
import { assertNoLeak, assertTensorClose, setupBackend } from "../_utils.ts";
import { firstLast, noiseAugment, runSteps, toyEncoder } from "./_helpers.ts";

await setupBackend();
// created per test: another test file's setupBackend may reset the engine between files
const makeImages = () => tf.randomUniform([32, 6, 6, 1], 0, 1, "float32", 71) as tf.Tensor4D;
const AT = { progress: 0, step: 0, epoch: 0 };

function setup(name: "barlow-twins" | "vicreg", extra: Record<string, number> = {}) {
  const common = {
    encoder: toyEncoder([6, 6, 1], 16, 9),
    inputShape: [6, 6, 1] as [number, number, number],
    seed: 4,
    projectionDim: 32,
    hiddenDim: 32,
    augment: noiseAugment(0.2),
  };
  return name === "barlow-twins" ? barlowTwins({ ...common, ...extra }) : vicreg({
    ...common,
    ...extra,
  });
}

/** Mean over dimensions of the batch std of the projections (VICReg's variance term's std). */
function projectionStd(s: ReturnType<typeof setup>, images: tf.Tensor4D): number {
  return tf.tidy(() => {
    const f = s.nets.encoder.apply(images, { training: true }) as tf.Tensor2D;
    const z = s.nets.projector.apply(f, { training: true }) as tf.Tensor2D;
    return tf.mean(tf.sqrt(tf.moments(z, 0).variance)).dataSync()[0];
  });
}

/** Mean over feature dimensions of the batch std of the encoder's features. */
function featureStd(s: ReturnType<typeof setup>, images: tf.Tensor4D): number {
  return tf.tidy(() => {
    const f = s.nets.encoder.apply(images, { training: false }) as tf.Tensor2D;
    return tf.mean(tf.sqrt(tf.moments(f, 0).variance)).dataSync()[0];
  });
}

for (const name of ["barlow-twins", "vicreg"] as const) {
  Deno.test(`${name}: the step's loss is the loss function of the nets' outputs of the two views`, async () => {
    const s = setup(name);
    const images = makeImages();
    const views = s.method.views(images, 5);
    assert.equal(views.length, 2);
    const got = s.method.step(s.nets, views, s.state, AT);
    const want = tf.tidy(() => {
      const z = views.map((v) =>
        s.nets.projector.apply(s.nets.encoder.apply(v, { training: true }), {
          training: true,
        }) as tf.Tensor2D
      );
      return name === "barlow-twins" ? barlowTwinsLoss(z[0], z[1]) : vicregLoss(z[0], z[1]);
    });
    assertTensorClose(got.loss, want, { rtol: 1e-5, atol: 1e-5 }, `${name} loss`);
    tf.dispose([got.loss, want, ...Object.values(got.metrics)]);
    await assertNoLeak(() => {
      const r = s.method.step(s.nets, views, s.state, AT);
      tf.dispose([r.loss, ...Object.values(r.metrics)]);
    });
    tf.dispose([images, ...views]);
  });

  Deno.test(`${name}: trains without collapse on a small set (feature std above a floor)`, () => {
    const images = makeImages();
    const s = setup(name);
    const std0 = featureStd(s, images);
    const run = runSteps(s, images, 50, tf.train.adam(0.01));
    const [first, last] = firstLast(run.losses);
    assert.ok(last < first * 0.9, `loss ${first} -> ${last}`);
    const std = featureStd(s, images);
    assert.ok(std > 0.25 * std0, `encoder feature std ${std} (at init ${std0})`);
    const z = firstLast(run.metrics.zStd)[1];
    assert.ok(z > 0.5 / Math.sqrt(32), `zStd ${z} (1/sqrt(d) = ${1 / Math.sqrt(32)})`);
    images.dispose();
  });
}

Deno.test("barlow-twins: scaleLoss multiplies the step's loss and its gradients (solo-learn's scale_loss)", () => {
  const images = makeImages();
  const plain = withSeed(4, () => setup("barlow-twins"));
  const scaled = withSeed(4, () => setup("barlow-twins", { scaleLoss: 0.1 }));
  const views = plain.method.views(images, 5);
  // the same seed draws the same nets: the scaled loss is 0.1 x the plain one, gradients too
  const lossAndGrads = (s: ReturnType<typeof setup>) => {
    const vars = s.method.trainable(s.nets);
    const { value, grads } = tf.variableGrads(
      () => s.method.step(s.nets, views, s.state, AT).loss,
      vars,
    );
    const norm = tf.tidy(() =>
      tf.norm(tf.concat(vars.map((v) => tf.reshape(grads[v.name], [-1]))))
    );
    const out = [value.dataSync()[0], norm.dataSync()[0]];
    tf.dispose([value, norm, ...Object.values(grads)]);
    return out;
  };
  const [l1, g1] = lossAndGrads(plain);
  const [l2, g2] = lossAndGrads(scaled);
  assert.ok(l1 > 1, `plain loss ${l1}`);
  assert.ok(Math.abs(l2 / l1 - 0.1) < 1e-4, `loss ratio ${l2 / l1}`);
  assert.ok(Math.abs(g2 / g1 - 0.1) < 1e-3, `gradient norm ratio ${g2 / g1}`);
  assert.throws(() => setup("barlow-twins", { scaleLoss: 0 }), RangeError);
  assert.throws(() => setup("barlow-twins", { scaleLoss: Number.NaN }), RangeError);
  // an infinite scale would turn every loss into inf or NaN: refused like 0
  assert.throws(() => setup("barlow-twins", { scaleLoss: Infinity }), /scaleLoss must be in \(0, /);
  tf.dispose([images, ...views]);
});

Deno.test("vicreg: the variance term keeps the projections' std near 1; without it and the covariance term they collapse", () => {
  const images = makeImages();
  const healthy = setup("vicreg");
  runSteps(healthy, images, 50, tf.train.adam(0.01));
  const h = projectionStd(healthy, images);
  assert.ok(h > 0.7, `VICReg projection std ${h}`);
  const bare = setup("vicreg", { variance: 0, covariance: 0 });
  runSteps(bare, images, 50, tf.train.adam(0.01));
  const c = projectionStd(bare, images);
  assert.ok(c < 0.3 * h, `invariance alone: projection std ${c} (with the variance term ${h})`);
  images.dispose();
});

Deno.test("barlow-twins / vicreg: projectors as the papers' code (3 layers, last Dense without bias), scaled to 4x the features", () => {
  const layers = (m: { layers: { getClassName(): string }[] }) =>
    m.layers.slice(1).map((l) => l.getClassName());
  const expected = [
    "Dense",
    "BatchNormalization",
    "ReLU",
    "Dense",
    "BatchNormalization",
    "ReLU",
    "Dense",
  ];
  const base = { encoder: "convnet" as const, inputShape: [8, 8, 1] as [number, number, number] };
  const bt = createMethod("barlow-twins", { ...base, seed: 0, widths: [4], scaledProjector: true });
  const vc = createMethod("vicreg", { ...base, seed: 0, widths: [4], scaledProjector: true });
  for (const s of [bt, vc]) {
    const p = (s.nets as { projector: tfl.LayersModel }).projector;
    assert.deepEqual(layers(p), expected);
    assert.deepEqual(p.outputs[0].shape, [null, 16]); // 4 x the 4 features
    const dense = p.layers.filter((l) => l.getClassName() === "Dense");
    assert.equal((dense.at(-1)!.getConfig() as { useBias: boolean }).useBias, false);
  }
  // Barlow Twins' hidden Dense layers have no bias (BN follows); VICReg's do
  const bias = (s: typeof bt) =>
    (s.nets as { projector: tfl.LayersModel }).projector.layers
      .filter((l) => l.getClassName() === "Dense")
      .map((l) => (l.getConfig() as { useBias: boolean }).useBias);
  assert.deepEqual(bias(bt), [false, false, false]);
  assert.deepEqual(bias(vc), [true, true, false]);
  assert.throws(
    () => createMethod("vicreg", { ...base, seed: 0, lambda: 1 } as never),
    /unknown option lambda/,
  );
  assert.throws(() => barlowTwins({ ...base, seed: 0, lambda: -1 }), RangeError);
});
