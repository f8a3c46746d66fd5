/**
 * MoCo's and SimSiam's options for effect (issue 17, survivors of `deno task mutate` on
 * methods/moco.ts and methods/simsiam.ts): the paper's views per version, the key nets' momentum
 * update (constant for v1/v2, cosine for v3) and the queue push, the initial queue, SimSiam's
 * stop-gradient in the gradient itself, and the messages of every option checked.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { stopGradient } from "../../backend/stop_gradient.ts";
import { paperAugment, twoViews } from "../../augment/mod.ts";
import { cosineMomentum, moco, type MocoOptions, simsiam } from "../../methods/mod.ts";
import type { StepContext } from "../../methods/mod.ts";
import { pcg32 } from "../../data/prng.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { seededImages, toyEncoder } from "./_helpers.ts";

await setupBackend();

const AT: StepContext = { progress: 0, step: 0, epoch: 0 };
const IMG: [number, number, number] = [6, 6, 1];
const EXACT = { rtol: 0, atol: 0 };

const view = seededImages;

function make(extra: Partial<MocoOptions> = {}) {
  return moco({
    encoder: toyEncoder(IMG, 8, 61),
    inputShape: IMG,
    seed: 2,
    projectionDim: 6,
    hiddenDim: 12,
    ...extra,
  });
}

const weights = (...ms: { getWeights(): tf.Tensor[] }[]) =>
  ms.flatMap((m) => m.getWeights().map((w) => Array.from(w.dataSync())));

Deno.test("moco views: v1 and v2 the paper's symmetric pairs, v3 BYOL's asymmetric pair (3-channel images)", () => {
  const images = view([2, 12, 12, 3], 1);
  const rgb = (version: 1 | 2 | 3) =>
    moco({
      encoder: toyEncoder([12, 12, 3], 8, 62),
      inputShape: [12, 12, 3],
      seed: 1,
      version,
      queueSize: 8,
      projectionDim: 4,
      hiddenDim: 4,
    });
  for (const [version, name] of [[1, "moco-v1"], [2, "moco-v2"]] as const) {
    const got = rgb(version).method.views(images, 9);
    const want = twoViews(images, paperAugment(name), 9);
    got.forEach((g, i) => assertTensorClose(g, want[i], EXACT, `v${version} view ${i}:`));
    tf.dispose([...got, ...want]);
  }
  const got = rgb(3).method.views(images, 9);
  const prng = pcg32(9);
  const s1 = Math.floor(prng() * 2 ** 31), s2 = Math.floor(prng() * 2 ** 31);
  const want = [paperAugment("byol-1")(images, s1), paperAugment("byol-2")(images, s2)];
  got.forEach((g, i) => assertTensorClose(g, want[i], EXACT, `v3 view ${i}:`));
  tf.dispose([images, ...got, ...want]);
});

Deno.test("moco afterUpdate: key nets move by the constant momentum (v2) or its cosine schedule (v3); keys pushed newest first", () => {
  for (const version of [2, 3] as const) {
    const setup = make({ version, momentum: 0.8, queueSize: version === 2 ? 8 : 0 });
    const n = setup.nets;
    // online nets away from the key nets, as after optimizer steps
    n.encoder.setWeights(n.encoder.getWeights().map((w) => tf.mul(w, 1.5)));
    n.projector.setWeights(n.projector.getWeights().map((w) => tf.add(w, 0.25)));
    const key = weights(n.keyEncoder, n.keyProjector);
    const online = weights(n.encoder, n.projector);
    const progress = 0.5;
    const m = version === 3 ? cosineMomentum(0.8, progress) : 0.8;
    if (version === 3) assert.ok(Math.abs(m - 0.9) < 1e-12); // 1 - 0.2 (cos(pi/2) + 1) / 2
    const next = setup.method.afterUpdate!(n, setup.state, { ...AT, progress });
    const got = weights(n.keyEncoder, n.keyProjector);
    got.forEach((w, i) =>
      assertTensorClose(w, key[i].map((k, j) => m * k + (1 - m) * online[i][j]), {
        rtol: 1e-5,
        atol: 1e-6,
      }, `v${version} weight ${i}:`)
    );
    if (version === 3) assert.deepEqual(next, { queue: null, keys: null });
  }
  const setup = make({ version: 2, queueSize: 8 });
  const queue = setup.state.queue!;
  const q = queue.arraySync();
  // the initial queue: unit rows [queueSize, projectionDim]
  assert.deepEqual(queue.shape, [8, 6]);
  q.forEach((row) => assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-5));
  const keys = tf.tensor2d([[1, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0]]);
  const pushed = setup.method.afterUpdate!(setup.nets, { queue, keys }, AT);
  assertTensorClose(pushed.queue!, [...keys.arraySync(), ...q.slice(0, 6)], EXACT, "queue:");
  assert.equal(pushed.keys, null);
  // no keys waiting: the queue stays
  const same = setup.method.afterUpdate!(setup.nets, { queue, keys: null }, AT);
  assert.equal(same.queue, queue);
  tf.dispose([keys, pushed.queue!, queue]);
});

Deno.test("moco refuses bad options and batches with messages naming them", () => {
  const bad = (options: Partial<MocoOptions>, name: string, message: string) =>
    assert.throws(() => make(options), { name, message });
  bad(
    { version: 4 as never },
    "RangeError",
    "Cannot build moco: version must be 1, 2 or 3, received 4",
  );
  bad(
    { temperature: 0 },
    "RangeError",
    "Cannot build moco-v2: temperature must be in (0, Infinity], received 0",
  );
  bad(
    { version: 3, momentum: 1.5 },
    "RangeError",
    "Cannot build moco-v3: momentum must be in [0, 1], received 1.5",
  );
  bad(
    { queueSize: -1 },
    "RangeError",
    "Cannot build moco-v2: queueSize must be a non-negative integer, received -1",
  );
  bad(
    { shuffleBnSplits: 0 },
    "RangeError",
    "Cannot build moco-v2: shuffleBnSplits must be a positive integer, received 0",
  );
  bad(
    { version: 1, queueSize: 0 },
    "RangeError",
    "Cannot build moco-v1: queueSize must be positive for v1/v2, received 0",
  );
  const names = ([1, 2, 3] as const).map((version) => make({ version, queueSize: 8 }).method.name);
  assert.deepEqual(names, ["moco-v1", "moco-v2", "moco-v3"]);
  // v1/v2 split the batch in 2 BN groups by default; v3 does not
  const odd = [view([5, ...IMG], 3), view([5, ...IMG], 4)];
  const v2 = make({ version: 2, queueSize: 10 });
  assert.throws(() => v2.method.step(v2.nets, odd, v2.state, AT), {
    name: "RangeError",
    message:
      "Cannot run moco-v2: the batch size must be divisible by shuffleBnSplits 2, received 5",
  });
  const v3 = make({ version: 3 });
  assert.equal(v3.state.queue, null, "v3 has no queue by default");
  const r = v3.method.step(v3.nets, odd, v3.state, AT);
  tf.dispose([r.loss, ...Object.values(r.metrics)]);
  const even = [view([4, ...IMG], 5), view([4, ...IMG], 6)];
  const v1 = make({ version: 1, queueSize: 10 });
  assert.throws(() => v1.method.step(v1.nets, even, v1.state, AT), {
    name: "RangeError",
    message:
      "Cannot run moco-v1: queueSize must be divisible by the keys per step, received 10 and 4",
  });
  tf.dispose([...odd, ...even, v1.state.queue!, v2.state.queue!]);
});

Deno.test("simsiam: the gradient stops at the targets z (the paper's stop-gradient); without it, it flows through both branches", () => {
  const v = [view([6, ...IMG], 7), view([6, ...IMG], 8)];
  const run = (stop?: boolean) => {
    const setup = simsiam({
      encoder: toyEncoder(IMG, 8, 63),
      inputShape: IMG,
      seed: 3,
      projectionDim: 6,
      hiddenDim: 12, // wide enough that no row of p is all zero (ReLU)
      ...(stop === undefined ? {} : { stopGradient: stop }),
    });
    assert.equal(setup.method.name, "simsiam");
    const { encoder, projector, predictor } = setup.nets;
    const vars = setup.method.trainable(setup.nets);
    const grads = (f: () => tf.Scalar) =>
      tf.tidy(() => {
        const { grads, value } = tf.variableGrads(f, vars);
        const out = vars.map((x) => Array.from(grads[x.name].dataSync()));
        return { value: value.dataSync()[0], grads: out };
      });
    const got = grads(() => {
      const r = setup.method.step(setup.nets, v, setup.state, AT);
      tf.dispose(Object.values(r.metrics));
      return r.loss;
    });
    // D(p, z) = -mean cos(p, sg(z)), written here from the paper
    const d = (p: tf.Tensor2D, z: tf.Tensor2D) => {
      const unit = (x: tf.Tensor2D) => tf.div(x, tf.norm(x, 2, 1, true));
      return tf.neg(tf.mean(tf.sum(tf.mul(unit(p), unit(stopGradient(z))), 1)));
    };
    const stopped = grads(() => {
      const z = v.map((x) =>
        projector.apply(encoder.apply(x, { training: true }), { training: true }) as tf.Tensor2D
      );
      const p = z.map((zi) => predictor.apply(zi, { training: true }) as tf.Tensor2D);
      return tf.add(tf.mul(d(p[0], z[1]), 0.5), tf.mul(d(p[1], z[0]), 0.5)) as tf.Scalar;
    });
    const predictorVars = new Set(
      predictor.trainableWeights.map((w) => (w.read() as tf.Variable).name),
    );
    return { got, stopped, isPredictor: vars.map((x) => predictorVars.has(x.name)) };
  };
  const on = run(true), off = run(false), byDefault = run();
  assertTensorClose(on.got.value, on.stopped.value, { rtol: 1e-5, atol: 1e-6 }, "loss:");
  byDefault.got.grads.forEach((g, i) =>
    assertTensorClose(
      g,
      byDefault.stopped.grads[i],
      { rtol: 1e-3, atol: 1e-6 },
      `default, var ${i}:`,
    )
  );
  assertTensorClose(off.got.value, off.stopped.value, { rtol: 1e-5, atol: 1e-6 }, "loss:");
  on.got.grads.forEach((g, i) =>
    assertTensorClose(g, on.stopped.grads[i], { rtol: 1e-3, atol: 1e-6 }, `stopped, var ${i}:`)
  );
  // without stop-gradient: the predictor's gradient is the same (it sits on p only), every
  // encoder and projector gradient gains the path through z
  const diffs = off.got.grads.map((g, i) =>
    Math.max(...g.map((x, j) => Math.abs(x - off.stopped.grads[i][j])))
  );
  diffs.forEach((diff, i) => {
    if (off.isPredictor[i]) assert.ok(diff < 1e-5, `predictor var ${i} changed by ${diff}`);
  });
  const rest = diffs.filter((_, i) => !off.isPredictor[i]);
  assert.ok(Math.max(...rest) > 1e-3, `no gradient through z: ${rest}`);
  tf.dispose(v);
});

Deno.test("moco: a step leaves the key nets' BatchNorm statistics alone (they move only by the momentum update)", () => {
  const setup = make({ version: 3 });
  const n = setup.nets;
  const stats = (m: { layers: { getClassName(): string; getWeights(): tf.Tensor[] }[] }) =>
    m.layers.filter((l) => l.getClassName() === "BatchNormalization")
      .flatMap((l) => l.getWeights().slice(-2).map((w) => Array.from(w.dataSync())));
  const keyStats = () => [...stats(n.keyEncoder), ...stats(n.keyProjector)];
  assert.ok(stats(n.keyProjector).length > 0, "v3's key projector has BatchNorm");
  const before = keyStats();
  const v = [view([4, ...IMG], 11), view([4, ...IMG], 12)];
  const r = setup.method.step(n, v, setup.state, AT);
  tf.dispose([r.loss, ...Object.values(r.metrics), ...v]);
  assert.deepEqual(keyStats(), before, "key BatchNorm statistics moved");
});
