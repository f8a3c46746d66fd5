/**
 * Each method's `step().loss` pinned to its documented loss, recomputed in float64 from the
 * method's own networks applied to fixed views. Learning bars ("the loss falls") accept a step
 * that uses the wrong views, ignores an option or skips the sequence pooling; these do not.
 *
 * @module
 */
import assert from "node:assert/strict";
import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { byol, jigsaw, moco, rotation, simclr, simsiam, swav } from "../../methods/mod.ts";
import type { MethodSetup, StepContext } from "../../methods/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import {
  dot,
  logSumExp,
  type Matrix,
  normalize,
  refFeatureFlat,
  refInfoNce,
  refMoco,
  refNegativeCosine,
  refNtXent,
  refSwav,
} from "../losses/_reference.ts";
import { mocoV3Toy, seededImages, seededTest, toyEncoder, toySequenceEncoder } from "./_helpers.ts";

await setupBackend();

const AT: StepContext = { progress: 0, step: 0, epoch: 0 };
const TOL = { rtol: 1e-4, atol: 1e-5 };

const view = seededImages;

/** A model's training-mode output as rows. */
function rows(model: tfl.LayersModel, x: tf.Tensor | tf.Tensor[]): Matrix {
  return tf.tidy(() => (model.apply(x, { training: true }) as tf.Tensor).arraySync() as Matrix);
}

/** `heads` applied after `encoder`, training mode; a plain forward pass, no method code. */
function forward(encoder: tfl.LayersModel, heads: tfl.LayersModel[], x: tf.Tensor4D): Matrix {
  return tf.tidy(() => {
    let y = encoder.apply(x, { training: true }) as tf.Tensor;
    for (const head of heads) y = head.apply(y, { training: true }) as tf.Tensor;
    return y.arraySync() as Matrix;
  });
}

function lossOf(r: { loss: tf.Scalar; metrics: Record<string, tf.Scalar>; state: unknown }) {
  const value = r.loss.dataSync()[0];
  tf.dispose([r.loss, ...Object.values(r.metrics)]);
  return value;
}

/** Softmax cross-entropy of logits rows against integer labels, mean. */
function refCrossEntropy(logits: Matrix, labels: number[]): number {
  return logits.reduce((s, row, i) => s + logSumExp(row) - row[labels[i]], 0) / logits.length;
}

/** MoCo v3's ctr(q, k) = 2 tau CE(q k^T / tau, diagonal), q and k normalized here. */
function refCtr(q: Matrix, k: Matrix, tau: number): number {
  const qn = q.map(normalize), kn = k.map(normalize);
  const logits = qn.map((qi) => kn.map((kj) => dot(qi, kj) / tau));
  return 2 * tau * refCrossEntropy(logits, qn.map((_, i) => i));
}

const IMG: [number, number, number] = [6, 6, 1];

seededTest(
  "simclr: the step's loss is NT-Xent or InfoNCE of its own projections at the asked temperature",
  () => {
    for (
      const [loss, temperature, ref] of [
        ["nt-xent", 0.3, refNtXent],
        ["info-nce", 0.7, refInfoNce],
      ] as const
    ) {
      for (const sharedBatchNorm of [true, false]) {
        const setup = simclr({
          encoder: toyEncoder(IMG, 8, 3),
          inputShape: IMG,
          seed: 1,
          loss,
          temperature,
          sharedBatchNorm,
          projectionDim: 6,
          hiddenDim: 12,
        });
        const v = [view([8, ...IMG], 1), view([8, ...IMG], 2)];
        const { encoder, head } = setup.nets;
        const got = lossOf(setup.method.step(setup.nets, v, setup.state, AT));
        // shared: both views as one BatchNorm batch of 16 (the official code); else one each
        const both = tf.concat(v, 0) as tf.Tensor4D;
        const [z1, z2] = sharedBatchNorm
          ? (() => {
            const z = forward(encoder, [head], both);
            return [z.slice(0, 8), z.slice(8)];
          })()
          : [forward(encoder, [head], v[0]), forward(encoder, [head], v[1])];
        assertTensorClose(
          got,
          ref(z1, z2, temperature),
          TOL,
          `simclr ${loss} tau ${temperature} shared BN ${sharedBatchNorm}:`,
        );
        tf.dispose([...v, both]);
      }
    }
  },
);

seededTest("simclr in sequence mode pools every 5 frames (featureFlat) before InfoNCE", () => {
  const shape: [number, number, number] = [4, 12, 1];
  const setup = simclr({
    encoder: toySequenceEncoder(shape, 8),
    inputShape: shape,
    seed: 1,
    projectionDim: 6,
  });
  const v = [view([3, ...shape], 3), view([3, ...shape], 4)];
  const { encoder, head } = setup.nets;
  // per frame: [B, L, D] -> rows [B * L, D] -> head -> [B, L, P] -> average pools of 5 (SAME);
  // both views go through as one batch (shared BatchNorm, the default)
  const frames = (x: tf.Tensor4D) =>
    tf.tidy(() => {
      const f = encoder.apply(x, { training: true }) as tf.Tensor3D;
      const [b, l, d] = f.shape;
      const z = head.apply(tf.reshape(f, [b * l, d]), { training: true }) as tf.Tensor2D;
      return refFeatureFlat(tf.reshape(z, [b, l, -1]).arraySync() as number[][][], 5);
    });
  const both = tf.concat(v, 0) as tf.Tensor4D;
  const z = frames(both);
  const f = Math.ceil(12 / 5);
  assert.equal(z.length, 2 * 3 * f);
  const got = lossOf(setup.method.step(setup.nets, v, setup.state, AT));
  assertTensorClose(
    got,
    refInfoNce(z.slice(0, 3 * f), z.slice(3 * f), 0.1),
    TOL,
    "sequence simclr:",
  );
  tf.dispose([...v, both]);
});

/** Every split of 8 images into two BN groups of 4 (70 of them), as index lists. */
function halves(n = 8): number[][] {
  const out: number[][] = [];
  for (let mask = 0; mask < 1 << n; mask++) {
    const a = Array.from({ length: n }, (_, i) => i).filter((i) => mask & (1 << i));
    if (a.length === n / 2 && a.includes(0)) out.push(a);
  }
  return out;
}

seededTest(
  "moco v1/v2: the loss is InfoNCE over [key, queue]; keys come back in image order after shuffle-BN",
  () => {
    for (const version of [1, 2] as const) {
      const temperature = version === 1 ? 0.11 : 0.3;
      const setup = moco({
        encoder: toyEncoder(IMG, 8, 5),
        inputShape: IMG,
        seed: 2,
        version,
        temperature,
        queueSize: 16,
        shuffleBnSplits: 2,
        projectionDim: 6,
        hiddenDim: 12,
      });
      const n = setup.nets;
      const v = [view([8, ...IMG], 5), view([8, ...IMG], 6)];
      const groups: string[] = [];
      let state = setup.state;
      for (let step = 0; step < 3; step++) {
        const r = setup.method.step(n, v, state, { ...AT, step });
        // queries: the batch in two BN groups of 4, in order
        const q = [
          ...forward(n.encoder, [n.projector], tf.slice(v[0], 0, 4)),
          ...forward(n.encoder, [n.projector], tf.slice(v[0], 4, 4)),
        ];
        // keys: whichever split into two groups of 4 the shuffle chose, row i must be image i's key
        const keys = r.state.keys!.arraySync();
        const pick = (idx: number[]) =>
          forward(n.keyEncoder, [n.keyProjector], tf.gather(v[1], idx) as tf.Tensor4D);
        let found: number[] | undefined;
        for (const a of halves()) {
          const b = [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => !a.includes(i));
          const [ka, kb] = [pick(a), pick(b)];
          const ref: Matrix = [];
          a.forEach((img, j) => ref[img] = normalize(ka[j]));
          b.forEach((img, j) => ref[img] = normalize(kb[j]));
          const close = ref.every((row, i) => row.every((x, d) => Math.abs(x - keys[i][d]) < 1e-5));
          if (close) {
            found = a;
            break;
          }
        }
        assert.ok(
          found,
          `moco v${version} step ${step}: keys are no image-ordered shuffle-BN keys`,
        );
        groups.push(found.join(""));
        const want = refMoco(q, keys, state.queue!.arraySync(), temperature);
        assertTensorClose(lossOf(r), want, TOL, `moco v${version} step ${step}:`);
        r.state.keys!.dispose();
        state = { ...state, keys: null };
      }
      // the shuffle changes the groups between steps (plain halves would be "0123" every step)
      assert.ok(new Set(groups).size > 1 || groups[0] !== "0123", `groups ${groups}`);
      tf.dispose([...v, state.queue!]);
    }
  },
);

seededTest(
  "moco in sequence mode: each image's pooled frame keys come back in frame order after shuffle-BN",
  () => {
    const shape: [number, number, number] = [3, 12, 1];
    const setup = moco({
      encoder: toySequenceEncoder(shape, 8),
      inputShape: shape,
      seed: 9,
      version: 2,
      queueSize: 24,
      shuffleBnSplits: 2,
      projectionDim: 6,
    });
    const n = setup.nets;
    const v = [view([4, ...shape], 23), view([4, ...shape], 24)];
    const f = Math.ceil(12 / 5); // pooled frames per image
    // the frames of the images in idx, as one BN group: encoder, projector per frame, pools of 5
    const groupKeys = (idx: number[]) =>
      tf.tidy(() => {
        const frames = n.keyEncoder.apply(tf.gather(v[1], idx), { training: true }) as tf.Tensor3D;
        const [b, l, d] = frames.shape;
        const z = n.keyProjector.apply(tf.reshape(frames, [b * l, d]), { training: true });
        const pooled = refFeatureFlat(
          tf.reshape(z as tf.Tensor, [b, l, -1]).arraySync() as number[][][],
          5,
        );
        return pooled.map(normalize);
      });
    for (let step = 0; step < 3; step++) {
      const r = setup.method.step(n, v, setup.state, { ...AT, step });
      const keys = r.state.keys!.arraySync();
      assert.equal(keys.length, 4 * f);
      const matches = [[0, 1], [0, 2], [0, 3]].filter((a) => {
        const b = [0, 1, 2, 3].filter((i) => !a.includes(i));
        const ref: Matrix = [];
        for (const group of [a, b]) {
          const rowsOf = groupKeys(group);
          group.forEach((img, j) => {
            for (let t = 0; t < f; t++) ref[img * f + t] = rowsOf[j * f + t];
          });
        }
        return ref.every((row, i) => row.every((x, d) => Math.abs(x - keys[i][d]) < 1e-5));
      });
      assert.equal(matches.length, 1, `step ${step}: keys are no frame-ordered shuffle-BN keys`);
      lossOf(r);
      r.state.keys!.dispose();
    }
    tf.dispose([...v, setup.state.queue!]);
  },
);

seededTest(
  "moco v3: the loss is ctr(q1, k2) + ctr(q2, k1) with the predictor on the queries",
  () => {
    const temperature = 0.4;
    const setup = mocoV3Toy(IMG, 7, temperature);
    const n = setup.nets;
    const v = [view([6, ...IMG], 7), view([6, ...IMG], 8)];
    const q1 = forward(n.encoder, [n.projector, n.predictor!], v[0]);
    const q2 = forward(n.encoder, [n.projector, n.predictor!], v[1]);
    const k1 = forward(n.keyEncoder, [n.keyProjector], v[0]);
    const k2 = forward(n.keyEncoder, [n.keyProjector], v[1]);
    const got = lossOf(setup.method.step(n, v, setup.state, AT));
    const want = refCtr(q1, k2, temperature) + refCtr(q2, k1, temperature);
    assertTensorClose(got, want, TOL, "moco v3:");
    tf.dispose(v);
  },
);

seededTest("simsiam: the loss is D(p1, z2) / 2 + D(p2, z1) / 2 with D the negative cosine", () => {
  const setup = simsiam({
    encoder: toyEncoder(IMG, 8, 9),
    inputShape: IMG,
    seed: 4,
    projectionDim: 6,
    hiddenDim: 3,
  });
  const { encoder, projector, predictor } = setup.nets;
  const v = [view([6, ...IMG], 9), view([6, ...IMG], 10)];
  const z1 = forward(encoder, [projector], v[0]), z2 = forward(encoder, [projector], v[1]);
  const p1 = forward(encoder, [projector, predictor], v[0]);
  const p2 = forward(encoder, [projector, predictor], v[1]);
  const got = lossOf(setup.method.step(setup.nets, v, setup.state, AT));
  const want = refNegativeCosine(p1, z2) / 2 + refNegativeCosine(p2, z1) / 2;
  assertTensorClose(got, want, TOL, "simsiam:");
  tf.dispose(v);
});

seededTest(
  "byol: the loss is 2 - 2 cos(p1, t2) plus 2 - 2 cos(p2, t1), targets from the target nets",
  () => {
    const setup = byol({
      encoder: toyEncoder(IMG, 8, 11),
      inputShape: IMG,
      seed: 5,
      projectionDim: 6,
      hiddenDim: 12,
    });
    const n = setup.nets;
    // targets differ from the online nets, as after a few EMA steps
    n.targetEncoder.setWeights(n.targetEncoder.getWeights().map((w) => tf.mul(w, 0.7)));
    n.targetProjector.setWeights(n.targetProjector.getWeights().map((w) => tf.mul(w, 1.3)));
    const v = [view([6, ...IMG], 11), view([6, ...IMG], 12)];
    const p1 = forward(n.encoder, [n.projector, n.predictor], v[0]);
    const p2 = forward(n.encoder, [n.projector, n.predictor], v[1]);
    const t1 = forward(n.targetEncoder, [n.targetProjector], v[0]);
    const t2 = forward(n.targetEncoder, [n.targetProjector], v[1]);
    const got = lossOf(setup.method.step(n, v, setup.state, AT));
    const want = 2 + 2 * refNegativeCosine(p1, t2) + 2 + 2 * refNegativeCosine(p2, t1);
    assertTensorClose(got, want, TOL, "byol:");
    tf.dispose(v);
  },
);

function swavSetup(freeze = 0) {
  return swav({
    encoder: toyEncoder(IMG, 8, 13),
    inputShape: IMG,
    seed: 6,
    preset: "small",
    prototypes: 5,
    globalCrops: 2,
    localCrops: 1,
    localSize: IMG[0],
    temperature: 0.2,
    epsilon: 0.07,
    sinkhornIterations: 4,
    freezePrototypesIterations: freeze,
    projectionDim: 6,
    hiddenDim: 12,
  });
}

seededTest(
  "swav: the loss is the swapped prediction over its own prototype scores (temperature, epsilon, iterations honoured)",
  () => {
    const setup = swavSetup();
    const n = setup.nets;
    const v = [view([8, ...IMG], 13), view([8, ...IMG], 14), view([8, ...IMG], 15)];
    const c = n.prototypes.getWeights()[0].arraySync() as Matrix; // [d, K]
    const scores = v.map((x) =>
      forward(n.encoder, [n.projector], x).map(normalize).map((z) =>
        c[0].map((_, k) => z.reduce((s, zd, d) => s + zd * c[d][k], 0))
      )
    );
    const got = lossOf(setup.method.step(n, v, setup.state, AT));
    const want = refSwav(scores.slice(0, 2), scores.slice(2), 0.2, 4, 0.07);
    assertTensorClose(got, want, TOL, "swav:");
    tf.dispose(v);
  },
);

seededTest(
  "swav: prototypes are renormalized after each update and frozen for the first iterations",
  () => {
    const setup = swavSetup(2);
    const n = setup.nets;
    const kernel = n.prototypes.trainableWeights[0].read() as tf.Variable;
    // a kernel whose columns are far from unit norm, as an optimizer step leaves it
    const raw = tf.tidy(() => tf.mul(tf.randomNormal([6, 5], 0, 1, "float32", 3), 2.5));
    const before = raw.arraySync() as Matrix;
    kernel.assign(raw);
    setup.method.afterUpdate!(n, setup.state, AT);
    const after = kernel.arraySync() as Matrix;
    for (let k = 0; k < 5; k++) {
      const col = before.map((r) => r[k]);
      const unit = normalize(col);
      assertTensorClose(after.map((r) => r[k]), unit, TOL, `prototype ${k}:`);
    }
    const v = [view([8, ...IMG], 16), view([8, ...IMG], 17), view([8, ...IMG], 18)];
    const gradNorm = (step: number) =>
      tf.tidy(() => {
        const { grads, value } = tf.variableGrads(() => {
          const r = setup.method.step(n, v, setup.state, { ...AT, step });
          tf.dispose(Object.values(r.metrics));
          return r.loss;
        }, [kernel]);
        value.dispose();
        return tf.norm(grads[kernel.name]).dataSync()[0];
      });
    assert.equal(gradNorm(0), 0, "step 0: prototypes frozen");
    assert.equal(gradNorm(1), 0, "step 1: prototypes frozen");
    assert.ok(gradNorm(2) > 1e-6, "step 2: prototypes learn");
    tf.dispose([raw, ...v]);
  },
);

seededTest(
  "rotation: the view is the batch turned by 0, 90, 180 and 270 degrees; the loss is CE against the turn",
  () => {
    const shape: [number, number, number] = [4, 4, 1];
    const setup = rotation({ encoder: toyEncoder(shape, 8, 15), inputShape: shape, seed: 7 });
    const x = view([3, ...shape], 19);
    const [v] = setup.method.views(x, 0);
    // counterclockwise: turned[i][j] = image[j][w - 1 - i]
    const img = x.arraySync() as number[][][][];
    const turn = (m: number[][][]) => m.map((_, i) => m.map((_, j) => m[j][m.length - 1 - i]));
    const expected: number[][][][] = [];
    for (let k = 0; k < 4; k++) {
      for (const im of img) {
        let t = im;
        for (let r = 0; r < k; r++) t = turn(t);
        expected.push(t);
      }
    }
    assertTensorClose(v, expected.flat(3), { rtol: 0, atol: 0 }, "rotation views:");
    const logits = forward(setup.nets.encoder, [setup.nets.head], v);
    const got = lossOf(setup.method.step(setup.nets, [v], setup.state, AT));
    const want = refCrossEntropy(logits, logits.map((_, i) => Math.floor(i / 3)));
    assertTensorClose(got, want, TOL, "rotation:");
    tf.dispose([x, v]);
  },
);

seededTest(
  "jigsaw: the loss is CE of the head over the 9 tile features in position order against the permutation",
  () => {
    const shape: [number, number, number] = [12, 12, 1];
    const setup = jigsaw({
      encoder: toyEncoder([3, 3, 1], 8, 17),
      inputShape: shape,
      seed: 8,
      permutations: 6,
      tileSize: 3,
      tileUnits: 4,
      hiddenDim: 8,
    });
    const x = view([4, ...shape], 21);
    const [tiles, labelView] = setup.method.views(x, 5);
    const labels = Array.from(labelView.dataSync());
    const features = rows(setup.nets.encoder, tiles); // [9B, D], puzzle-major
    const byPosition = Array.from(
      { length: 9 },
      (_, p) => tf.tensor2d(labels.map((_, b) => features[b * 9 + p])),
    );
    const logits = rows(setup.nets.head, byPosition);
    const got = lossOf(setup.method.step(setup.nets, [tiles, labelView], setup.state, AT));
    assertTensorClose(got, refCrossEntropy(logits, labels), TOL, "jigsaw:");
    tf.dispose([x, tiles, labelView, ...byPosition]);
  },
);

/** Mean over dimensions of the population std over rows of the L2-normalized rows. */
function refZStd(z: Matrix): number {
  const zn = z.map(normalize);
  const d = zn[0].length;
  let total = 0;
  for (let j = 0; j < d; j++) {
    const mean = zn.reduce((s, r) => s + r[j], 0) / zn.length;
    total += Math.sqrt(zn.reduce((s, r) => s + (r[j] - mean) ** 2, 0) / zn.length);
  }
  return total / d;
}

/** Index of the largest value, the lowest on ties (argmax). */
function argmaxOf(v: number[]): number {
  return v.reduce((best, x, i) => x > v[best] ? i : best, 0);
}

function names(vars: { name: string }[]): string[] {
  return vars.map((v) => v.name).sort();
}

seededTest(
  "simclr metrics: top1 of the positive among its loss's logits, zStd of the first view; trainable = encoder + head",
  () => {
    for (const loss of ["nt-xent", "info-nce"] as const) {
      const setup = simclr({
        encoder: toyEncoder(IMG, 8, 3),
        inputShape: IMG,
        seed: 1,
        loss,
        temperature: 0.5,
        projectionDim: 6,
        hiddenDim: 12,
      });
      // nearby views, so top-1 lands strictly between 0 and 1
      const v0 = view([8, ...IMG], 25);
      const v = [v0, tf.tidy(() => tf.add(v0, tf.mul(view([8, ...IMG], 26), 0.3))) as tf.Tensor4D];
      const { encoder, head } = setup.nets;
      const r = setup.method.step(setup.nets, v, setup.state, AT);
      const both = tf.concat(v, 0) as tf.Tensor4D;
      const z = forward(encoder, [head], both).map(normalize);
      const [z1, z2] = [z.slice(0, 8), z.slice(8)];
      // nt-xent: each of the 2n rows against the other 2n - 1 (same view included)
      const ntHits = z.map((zi, i) => {
        const sims = z.map((zk, k) => k === i ? -Infinity : dot(zi, zk));
        return argmaxOf(sims) === (i < 8 ? i + 8 : i - 8) ? 1 : 0;
      });
      const ntTop1 = ntHits.reduce((a: number, b) => a + b, 0) / 16;
      // info-nce: z1 -> z2 rows and z2 -> z1 rows only, averaged
      const rowsHit = z1.filter((a, i) => argmaxOf(z2.map((b) => dot(a, b))) === i).length;
      const colsHit = z2.filter((b, i) => argmaxOf(z1.map((a) => dot(a, b))) === i).length;
      const infoTop1 = (rowsHit + colsHit) / 16;
      assert.notEqual(ntTop1, infoTop1, "the two accuracies must differ here to tell them apart");
      const top1 = loss === "nt-xent" ? ntTop1 : infoTop1;
      assert.ok(top1 > 0 && top1 < 1, `reference top-1 ${top1} is not informative`);
      assert.equal(z1[0].length, 6, "the head projects to projectionDim");
      assertTensorClose(r.metrics.top1, top1, { rtol: 0, atol: 1e-6 }, `${loss} top1:`);
      assertTensorClose(r.metrics.zStd, refZStd(z1), TOL, `${loss} zStd:`);
      assert.deepEqual(
        names(setup.method.trainable(setup.nets)),
        names(
          [...encoder.trainableWeights, ...head.trainableWeights].map((w) =>
            w.read() as tf.Variable
          ),
        ),
      );
      lossOf(r);
      tf.dispose([...v, both]);
    }
  },
);

seededTest("simclr rejects an unknown loss name", () => {
  assert.throws(
    () =>
      simclr({ encoder: toyEncoder(IMG, 8, 3), inputShape: IMG, seed: 1, loss: "mse" as never }),
    TypeError,
  );
  const setup = simclr({ encoder: toyEncoder(IMG, 8, 3), inputShape: IMG, seed: 1 });
  assert.equal(setup.method.name, "simclr"); // train() and checkpoints record it
});

seededTest(
  "byol, simsiam, moco: trainable is exactly the online nets; zStd monitors the first view",
  () => {
    const b = byol({
      encoder: toyEncoder(IMG, 8, 31),
      inputShape: IMG,
      seed: 1,
      projectionDim: 6,
      hiddenDim: 12,
    });
    const s = simsiam({
      encoder: toyEncoder(IMG, 8, 32),
      inputShape: IMG,
      seed: 1,
      projectionDim: 6,
      hiddenDim: 3,
    });
    const m = moco({
      encoder: toyEncoder(IMG, 8, 33),
      inputShape: IMG,
      seed: 1,
      version: 3,
      projectionDim: 6,
      hiddenDim: 12,
    });
    const weights = (...models: tfl.LayersModel[]) =>
      names(models.flatMap((x) => x.trainableWeights.map((w) => w.read() as tf.Variable)));
    const v = [view([6, ...IMG], 27), view([6, ...IMG], 28)];
    // each method: its setup, its online nets (encoder first), the heads zStd is taken after
    const cases: [string, MethodSetup, tfl.LayersModel[], tfl.LayersModel[]][] = [
      ["byol", b as MethodSetup, [b.nets.encoder, b.nets.projector, b.nets.predictor], [
        b.nets.projector,
      ]],
      ["simsiam", s as MethodSetup, [s.nets.encoder, s.nets.projector, s.nets.predictor], [
        s.nets.projector,
      ]],
      ["moco", m as MethodSetup, [m.nets.encoder, m.nets.projector, m.nets.predictor!], [
        m.nets.projector,
        m.nets.predictor!,
      ]],
    ];
    for (const [name, { method, nets, state }, online, heads] of cases) {
      assert.deepEqual(names(method.trainable(nets)), weights(...online), `${name} trainable`);
      const r = method.step(nets, v, state, AT);
      assertTensorClose(
        r.metrics.zStd,
        refZStd(forward(online[0], heads, v[0])),
        TOL,
        `${name} zStd:`,
      );
      lossOf(r);
    }
    tf.dispose(v);
  },
);

seededTest(
  "byol: the paper's head sizes by default, and a step leaves the target nets' BatchNorm statistics alone",
  () => {
    const setup = byol({ encoder: toyEncoder(IMG, 8, 35), inputShape: IMG, seed: 2 });
    const n = setup.nets;
    // BYOL (Grill et al. 2020): projector 4096 -> 256, predictor the same
    const dense = (m: tfl.LayersModel) =>
      m.layers.filter((l) => l.getClassName() === "Dense").map((l) =>
        (l.getConfig() as { units: number }).units
      );
    assert.deepEqual(dense(n.projector), [4096, 256]);
    assert.deepEqual(dense(n.predictor), [4096, 256]);
    const stats = (m: tfl.LayersModel) =>
      m.layers.filter((l) => l.getClassName() === "BatchNormalization")
        .flatMap((l) => l.getWeights().slice(-2).map((w) => Array.from(w.dataSync())));
    const targetStats = () => [...stats(n.targetEncoder), ...stats(n.targetProjector)];
    const [targetBefore, onlineBefore] = [targetStats(), stats(n.encoder)];
    assert.ok(stats(n.targetProjector).length > 0, "the target projector has BatchNorm");
    const v = [view([6, ...IMG], 29), view([6, ...IMG], 30)];
    lossOf(setup.method.step(n, v, setup.state, AT));
    assert.deepEqual(targetStats(), targetBefore, "target BatchNorm statistics moved");
    assert.equal(setup.method.name, "byol");
    assert.notDeepEqual(stats(n.encoder), onlineBefore, "online BatchNorm statistics should move");
    tf.dispose(v);
  },
);
