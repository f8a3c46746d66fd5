/**
 * SwAV's options for effect (issue 17, survivors of `deno task mutate methods/swav.ts`): the
 * queue's loss once full recomputed in float64 with the queued embeddings, the freeze in epochs
 * (and the presets' defaults), the crops a preset asks for, and the messages of every option the
 * method checks.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { multiCrop } from "../../augment/mod.ts";
import { swav, type SwavOptions, type SwavState } from "../../methods/mod.ts";
import type { StepContext } from "../../methods/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { type Matrix, normalize, refSwav } from "../losses/_reference.ts";
import { seededImages, toyEncoder, toySequenceEncoder } from "./_helpers.ts";

await setupBackend();

const AT: StepContext = { progress: 0, step: 0, epoch: 0 };
const TOL = { rtol: 1e-4, atol: 1e-5 };
const IMG: [number, number, number] = [6, 6, 1];

const view = seededImages;

function make(extra: Partial<SwavOptions> = {}) {
  return swav({
    encoder: toyEncoder(IMG, 8, 21),
    inputShape: IMG,
    seed: 6,
    preset: "small",
    prototypes: 5,
    globalCrops: 2,
    localCrops: 0,
    temperature: 0.2,
    epsilon: 0.07,
    sinkhornIterations: 4,
    projectionDim: 6,
    hiddenDim: 12,
    ...extra,
  });
}

/** Normalized projections of each view and their prototype scores, float64. */
function scoresOf(setup: ReturnType<typeof make>, views: tf.Tensor4D[]) {
  const n = setup.nets;
  const c = n.prototypes.getWeights()[0].arraySync() as Matrix; // [d, K]
  const score = (zs: Matrix) =>
    zs.map((z) => c[0].map((_, k) => z.reduce((s, zd, d) => s + zd * c[d][k], 0)));
  const z = views.map((x) =>
    tf.tidy(() =>
      (n.projector.apply(n.encoder.apply(x, { training: true }), { training: true }) as tf.Tensor)
        .arraySync() as Matrix
    ).map(normalize)
  );
  return { z, scores: z.map(score), score };
}

function lossOf(r: { loss: tf.Scalar; metrics: Record<string, tf.Scalar> }): number {
  const v = r.loss.dataSync()[0];
  tf.dispose([r.loss, ...Object.values(r.metrics)]);
  return v;
}

Deno.test("swav queue: nothing queued before queueStartEpoch; pushes newest first up to queueLength; once full the codes see the queue (float64)", () => {
  const setup = make({ queueLength: 16, queueStartEpoch: 1 });
  const { method, nets } = setup;
  const a = [view([8, ...IMG], 1), view([8, ...IMG], 2)];
  const b = [view([8, ...IMG], 3), view([8, ...IMG], 4)];
  const r0 = method.step(nets, a, setup.state, AT);
  assert.equal(r0.state.pending, null, "epoch 0 < queueStartEpoch: nothing to push");
  lossOf(r0);
  let s: SwavState = method.afterUpdate!(nets, r0.state, AT);
  assert.deepEqual([s.queues, s.filled], [null, 0]);
  const at1 = { ...AT, epoch: 1 };
  const pushes: Matrix[][] = [];
  for (const v of [a, b]) {
    const r = method.step(nets, v, s, at1);
    // half full (8 of 16) the queue is not used: the loss is the plain one
    if (pushes.length === 1) {
      const sc = scoresOf(setup, v).scores;
      assertTensorClose(r.loss, refSwav(sc, [], 0.2, 4, 0.07), TOL, "half-full queue:");
    }
    assert.equal(r.state.pending!.length, 2, "both global crops are queued");
    pushes.push(r.state.pending!.map((p) => p.arraySync()));
    assertTensorClose(r.state.pending![0], scoresOf(setup, v).z[0], TOL, "queued rows:");
    lossOf(r);
    const next = method.afterUpdate!(nets, r.state, at1);
    tf.dispose(r.state.pending!);
    if (s.queues) tf.dispose(s.queues);
    s = next;
  }
  assert.equal(s.filled, 16);
  // newest first: b's rows, then a's
  const queued = s.queues!.map((q) => q.arraySync());
  [0, 1].forEach((i) =>
    assertTensorClose(queued[i], [...pushes[1][i], ...pushes[0][i]], TOL, `queue ${i}:`)
  );
  const c = [view([8, ...IMG], 5), view([8, ...IMG], 6)];
  const r = method.step(nets, c, s, at1);
  const { scores, score } = scoresOf(setup, c);
  const want = refSwav(scores, [], 0.2, 4, 0.07, queued.map(score));
  assertTensorClose(r.loss, want, TOL, "full queue:");
  lossOf(r);
  // a third push keeps filled at queueLength
  const after = method.afterUpdate!(nets, r.state, at1);
  assert.equal(after.filled, 16);
  tf.dispose([...a, ...b, ...c, ...s.queues!, ...after.queues!, ...r.state.pending!]);
  // a queue shorter than one step's rows is refused
  const short = make({ queueLength: 4, queueStartEpoch: 0 });
  const rs = short.method.step(short.nets, a.map(() => view([8, ...IMG], 9)), short.state, AT);
  lossOf(rs);
  assert.throws(() => short.method.afterUpdate!(short.nets, rs.state, AT), {
    name: "RangeError",
    message:
      "Cannot update the SwAV queue: queueLength must be at least the embeddings per step, received 4 and 8",
  });
});

Deno.test("swav: prototypes frozen for freezePrototypesEpochs epochs (the preset's by default: cifar 2); zStd of the first crop", () => {
  const v = [view([8, ...IMG], 11), view([8, ...IMG], 12)];
  const gradNorm = (setup: ReturnType<typeof make>, epoch: number) =>
    tf.tidy(() => {
      const kernel = setup.nets.prototypes.trainableWeights[0].read() as tf.Variable;
      const { grads, value } = tf.variableGrads(() => {
        const r = setup.method.step(setup.nets, v, setup.state, { ...AT, epoch, step: 100 });
        tf.dispose(Object.values(r.metrics));
        return r.loss;
      }, [kernel]);
      value.dispose();
      return tf.norm(grads[kernel.name]).dataSync()[0];
    });
  const cifar = make({ preset: "cifar" });
  assert.equal(gradNorm(cifar, 1), 0, "cifar preset: epoch 1 frozen");
  assert.ok(gradNorm(cifar, 2) > 1e-6, "cifar preset: epoch 2 learns");
  const one = make({ freezePrototypesEpochs: 1 });
  assert.equal(gradNorm(one, 0), 0);
  assert.ok(gradNorm(one, 1) > 1e-6);
  assert.ok(gradNorm(make({ freezePrototypesEpochs: 0 }), 0) > 1e-6);
  const r = one.method.step(one.nets, v, one.state, AT);
  const z = scoresOf(one, v).z[0];
  const mean = z[0].map((_, d) => z.reduce((s, row) => s + row[d], 0) / z.length);
  const std = z[0].map((_, d) =>
    Math.sqrt(z.reduce((s, row) => s + (row[d] - mean[d]) ** 2, 0) / z.length)
  );
  assertTensorClose(r.metrics.zStd, std.reduce((a, x) => a + x, 0) / std.length, TOL, "zStd:");
  lossOf(r);
  tf.dispose(v);
});

Deno.test("swav views: the preset's local crops (small 2, imagenet 6, cifar 0) at 96/224 of the height, the user's augmentation on every crop", () => {
  const images = view([2, 28, 28, 1], 13);
  const base = {
    encoder: "convnet" as const,
    inputShape: [28, 28, 1] as [number, number, number],
    widths: [2],
    seed: 1,
    prototypes: 5,
    projectionDim: 4,
    hiddenDim: 4,
  };
  const sizes = (preset: SwavOptions["preset"]) => {
    const vs = swav({ ...base, preset }).method.views(images, 3);
    const out = vs.map((x) => x.shape[1]);
    tf.dispose(vs);
    return out;
  };
  assert.deepEqual(sizes("small"), [28, 28, 12, 12]); // round(28 * 96 / 224) = 12
  assert.deepEqual(sizes("imagenet"), [28, 28, 12, 12, 12, 12, 12, 12]);
  assert.deepEqual(sizes("cifar"), [28, 28]);
  // the user's augmentation replaces the crop pipeline: views = multiCrop with it
  const augment = (x: tf.Tensor4D) => tf.tidy(() => tf.sub(1, x)) as tf.Tensor4D;
  const s = swav({
    ...base,
    preset: "small",
    localCrops: 1,
    localSize: 5,
    globalCrops: 3,
    augment,
  });
  const got = s.method.views(images, 4);
  const want = multiCrop(
    images,
    { global: { count: 3, size: [28, 28] }, local: { count: 1, size: 5 } },
    4,
    augment,
  );
  assert.equal(got.length, 4);
  got.forEach((g, i) => assertTensorClose(g, want[i], { rtol: 0, atol: 0 }, `crop ${i}:`));
  assert.throws(() => s.method.step(s.nets, got.slice(1), s.state, AT), {
    name: "TypeError",
    message: "Cannot run swav: expected 4 views, received 3",
  });
  // gray images: flip and blur only (a colour jitter on one channel would fail)
  const gray = swav({ ...base, preset: "small" }).method.views(images, 5);
  assert.ok(gray.every((x) => x.shape[3] === 1));
  tf.dispose([images, ...got, ...want, ...gray]);
});

Deno.test("swav refuses bad options with messages naming them", () => {
  const base = { encoder: toyEncoder(IMG, 8, 22), inputShape: IMG, seed: 1, preset: "small" };
  const count = (name: string, value: number, kind = "positive") =>
    assert.throws(() => swav({ ...base, [name]: value } as SwavOptions), {
      name: "RangeError",
      message: `Cannot build swav: ${name} must be a ${kind} integer, received ${value}`,
    });
  count("prototypes", 0);
  count("queueLength", -1, "non-negative");
  count("queueStartEpoch", 1.5, "non-negative");
  count("freezePrototypesEpochs", -1, "non-negative");
  count("freezePrototypesIterations", -2, "non-negative");
  count("globalCrops", 0);
  count("localCrops", -1, "non-negative");
  count("localSize", 0);
  count("sinkhornIterations", 0);
  for (const name of ["temperature", "epsilon"]) {
    assert.throws(() => swav({ ...base, [name]: 0 } as SwavOptions), {
      name: "RangeError",
      message: `Cannot build swav: ${name} must be in (0, Infinity], received 0`,
    });
  }
  assert.throws(() => swav({ ...base, preset: "bogus" } as never), {
    name: "TypeError",
    message:
      "Cannot build swav: preset must be one of imagenet, imagenet-bs4096, cifar, small, received bogus",
  });
  assert.throws(() => swav({ ...base, globalCrops: 1, localCrops: 0 } as SwavOptions), {
    name: "RangeError",
    message: "Cannot build swav: at least 2 crops are needed, received 1",
  });
  assert.throws(
    () =>
      swav({
        encoder: toySequenceEncoder([4, 10, 1], 6),
        inputShape: [4, 10, 1],
        seed: 1,
        globalCrops: 3,
      }),
    {
      name: "RangeError",
      message: "Cannot build swav: sequence mode uses 2 global crops, received 3",
    },
  );
  // sequence mode has no local crops, whatever the preset: 2 views
  const seq = swav({
    encoder: toySequenceEncoder([4, 10, 1], 6),
    inputShape: [4, 10, 1],
    seed: 1,
    preset: "imagenet",
    prototypes: 5,
    projectionDim: 4,
  });
  const x = view([2, 4, 10, 1], 7);
  const vs = seq.method.views(x, 0);
  assert.equal(vs.length, 2);
  tf.dispose([x, ...vs]);
});

Deno.test("swav presets, each field for effect: prototypes, local crops, queue length and start, freeze epochs", () => {
  // SwAV's configs (Caron et al. 2020, swav/scripts): imagenet with a 3840 queue from epoch 15,
  // the bs4096 run without a queue, CIFAR without local crops, and the small preset
  const presets = {
    imagenet: [3000, 6, 3840, 15, 1],
    "imagenet-bs4096": [3000, 6, 0, 0, 1],
    cifar: [3000, 0, 3840, 50, 2],
    small: [100, 2, 0, 0, 1],
  } as const;
  const x = view([2, 8, 8, 1], 31);
  for (const [preset, [k, local, queueLength, start, freeze]] of Object.entries(presets)) {
    const options = {
      encoder: "convnet" as const, // any crop size: the local crops are 3x3 (round(8 * 96 / 224))
      inputShape: [8, 8, 1] as [number, number, number],
      widths: [2],
      seed: 1,
      preset: preset as keyof typeof presets,
      projectionDim: 4,
      hiddenDim: 4,
    };
    const full = swav(options).nets.prototypes;
    assert.equal(full.getWeights()[0].shape[1], k, `${preset} prototypes`);
    // the steps with 5 prototypes (Sinkhorn over 3000 costs seconds); the other fields stay
    const setup = swav({ ...options, prototypes: 5 });
    const { method, nets } = setup;
    const views = method.views(x, 1);
    assert.equal(views.length, 2 + local, `${preset} crops`);
    const kernel = nets.prototypes.trainableWeights[0].read() as tf.Variable;
    const at = (epoch: number) => {
      let pending: tf.Tensor2D[] | null = null;
      const { grads, value } = tf.variableGrads(() => {
        const r = method.step(nets, views, setup.state, { ...AT, epoch, step: 1000 });
        tf.dispose(Object.values(r.metrics));
        pending = r.state.pending?.map((p) => tf.keep(p.clone())) ?? null;
        return r.loss;
      }, [kernel]);
      const norm = tf.tidy(() => tf.norm(grads[kernel.name]).dataSync()[0]);
      tf.dispose([value, ...Object.values(grads)]);
      const pushed = pending !== null;
      if (pending) tf.dispose(pending);
      return { frozen: norm === 0, pushed };
    };
    const epochs = [...new Set([freeze - 1, freeze, start - 1, start, 100].filter((e) => e >= 0))];
    const seen = new Map(epochs.map((e) => [e, at(e)]));
    assert.equal(seen.get(freeze - 1)!.frozen, true, `${preset}: frozen in epoch ${freeze - 1}`);
    assert.equal(seen.get(freeze)!.frozen, false, `${preset}: learns in epoch ${freeze}`);
    if (queueLength > 0) {
      assert.equal(seen.get(start - 1)!.pushed, false, `${preset}: no queue before epoch ${start}`);
      assert.equal(seen.get(start)!.pushed, true, `${preset}: queue from epoch ${start}`);
    } else {
      assert.equal(seen.get(100)!.pushed, false, `${preset}: never a queue`);
    }
    tf.dispose(views);
  }
  x.dispose();
});
