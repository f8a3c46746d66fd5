/**
 * Barlow Twins and VICReg (methods/_redundancy.ts, barlow_twins.ts, vicreg.ts) for effect (issue
 * 17, sixth mutation pass): the step's loss with non-default weights (λ; invariance, variance and
 * covariance) against the loss function given those weights, zStd of the first view, the
 * data-parallel branch (each rank's loss is the global batch's), the name, trainable variables,
 * the default views (BYOL's asymmetric pair), the projector's name and batch-norm momentum, and
 * every refused option with its message.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { paperAugment } from "../../augment/mod.ts";
import { barlowTwinsLoss, vicregLoss } from "../../losses/mod.ts";
import { barlowTwins, type Replicas, type StepContext, vicreg } from "../../methods/mod.ts";
import { zStd } from "../../methods/_common.ts";
import { pcg32 } from "../../data/prng.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { seededImages, toyEncoder } from "./_helpers.ts";

await setupBackend();

const AT: StepContext = { progress: 0, step: 0, epoch: 0 };
const TOL = { rtol: 1e-5, atol: 1e-5 };
const IMG: [number, number, number] = [6, 6, 1];
type Name = "barlow-twins" | "vicreg";

function make(name: Name, extra: Record<string, unknown> = {}) {
  const common = {
    encoder: toyEncoder(IMG, 8, 5),
    inputShape: IMG,
    seed: 3,
    projectionDim: 6,
    hiddenDim: 10,
    ...extra,
  };
  return name === "barlow-twins" ? barlowTwins(common) : vicreg(common);
}

function project(s: ReturnType<typeof make>, v: tf.Tensor4D): tf.Tensor2D {
  return s.nets.projector.apply(s.nets.encoder.apply(v, { training: true }), {
    training: true,
  }) as tf.Tensor2D;
}

const WEIGHTS: [Name, Record<string, number>][] = [
  ["barlow-twins", { lambda: 0.37 }],
  ["vicreg", { invariance: 3, variance: 0.5, covariance: 7 }],
  ["vicreg", { invariance: 0, variance: 2, covariance: 0 }],
];

for (const [name, weights] of WEIGHTS) {
  Deno.test(`${name} ${JSON.stringify(weights)}: the step's loss uses the weights given; zStd is the first view's`, () => {
    const s = make(name, weights);
    const views = [seededImages([8, ...IMG], 1), seededImages([8, ...IMG], 2)];
    const got = s.method.step(s.nets, views, s.state, AT);
    const { want, defaults, std } = tf.tidy(() => {
      const z1 = project(s, views[0]), z2 = project(s, views[1]);
      const f = name === "barlow-twins"
        ? (o: Record<string, number>) => barlowTwinsLoss(z1, z2, o)
        : (o: Record<string, number>) => vicregLoss(z1, z2, o);
      return {
        want: tf.keep(f(weights)),
        defaults: f({}).dataSync()[0],
        std: tf.keep(zStd(z1)),
      };
    });
    assertTensorClose(got.loss, want, TOL, "loss");
    assert.ok(Math.abs(got.loss.dataSync()[0] - defaults) > 1e-3, "the weights change the loss");
    assertTensorClose(got.metrics.zStd, std, TOL, "zStd of view 1");
    tf.dispose([got.loss, want, std, ...Object.values(got.metrics), ...views]);
  });
}

for (const name of ["barlow-twins", "vicreg"] as const) {
  Deno.test(`${name} data-parallel: each rank's loss is the loss of both ranks' projections; one rank gathers nothing`, () => {
    const s = make(name);
    const views = [seededImages([4, ...IMG], 3), seededImages([4, ...IMG], 4)];
    const others = [5, 6].map((seed) =>
      tf.randomUniform([4, 6], -1, 1, "float32", seed) as tf.Tensor2D
    );
    const gathered: number[][] = [];
    const world = (size: number): Replicas => ({
      rank: 0,
      size,
      gatherNegatives: false,
      allGather: <X extends tf.Tensor>(x: X): X => {
        gathered.push(x.shape);
        return tf.concat([x, others[gathered.length - 1]], 0) as X;
      },
    });
    const got = s.method.step(s.nets, views, s.state, { ...AT, replicas: world(2) });
    assert.deepEqual(gathered, [[4, 6], [4, 6]]);
    const want = tf.tidy(() => {
      const z1 = tf.concat([project(s, views[0]), others[0]], 0) as tf.Tensor2D;
      const z2 = tf.concat([project(s, views[1]), others[1]], 0) as tf.Tensor2D;
      return name === "barlow-twins" ? barlowTwinsLoss(z1, z2) : vicregLoss(z1, z2);
    });
    assertTensorClose(got.loss, want, TOL, "global loss");
    const one = s.method.step(s.nets, views, s.state, { ...AT, replicas: world(1) });
    assert.equal(gathered.length, 2, "a world of one gathers nothing");
    const local = s.method.step(s.nets, views, s.state, AT);
    assertTensorClose(one.loss, local.loss, TOL, "size 1 = no replicas");
    tf.dispose([got, one, local].flatMap((r) => [r.loss, ...Object.values(r.metrics)]));
    tf.dispose([want, ...views, ...others]);
  });

  Deno.test(`${name}: its name, trainable = encoder then projector, BYOL's two views by default`, () => {
    const s = make(name);
    assert.equal(s.method.name, name);
    // the projector is named after the method, its batch norms at momentum 0.9 (the papers' code)
    assert.equal(s.nets.projector.name, `${name.replace("-", "_")}_projector`);
    const bn = s.nets.projector.layers.filter((l) => l.getClassName() === "BatchNormalization");
    assert.equal(bn.length, 2);
    for (const l of bn) assert.equal(l.getConfig().momentum, 0.9);
    const want = [s.nets.encoder, s.nets.projector]
      .flatMap((m) => m.trainableWeights.map((w) => w.read() as tf.Variable));
    const got = s.method.trainable(s.nets);
    assert.equal(got.length, want.length);
    got.forEach((v, i) => assert.equal(v, want[i], `variable ${i}`));
    const images = seededImages([2, ...IMG], 7);
    const views = s.method.views(images, 11);
    const prng = pcg32(11);
    const s1 = Math.floor(prng() * 2 ** 31), s2 = Math.floor(prng() * 2 ** 31);
    const a = paperAugment("byol-1")(images, s1), b = paperAugment("byol-2")(images, s2);
    assertTensorClose(views[0], a, { rtol: 0, atol: 0 }, "view 1");
    assertTensorClose(views[1], b, { rtol: 0, atol: 0 }, "view 2");
    tf.dispose([images, ...views, a, b]);
  });
}

Deno.test("barlow-twins and vicreg refuse bad options with messages naming them; 0 is allowed", () => {
  const range = (message: string) => ({ name: "RangeError", message });
  assert.throws(
    () => make("barlow-twins", { lambda: -0.1 }),
    range("Cannot build barlow-twins: lambda must be in [0, Infinity], received -0.1"),
  );
  for (const key of ["invariance", "variance", "covariance"]) {
    assert.throws(
      () => make("vicreg", { [key]: -1 }),
      range(`Cannot build vicreg: ${key} must be in [0, Infinity], received -1`),
    );
    make("vicreg", { [key]: 0 });
  }
  make("barlow-twins", { lambda: 0 });
  for (const name of ["barlow-twins", "vicreg"] as const) {
    for (const key of ["projectionDim", "hiddenDim"]) {
      assert.throws(
        () => make(name, { [key]: 0 }),
        range(`Cannot build ${name}: ${key} must be a positive integer, received 0`),
      );
    }
  }
});
