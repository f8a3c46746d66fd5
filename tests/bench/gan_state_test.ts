/**
 * `bench/gan_digits.ts`'s checkpoints (`bench/_gan_state.ts`): a checkpoint read into freshly built
 * nets and optimizers restores every weight, BatchNorm statistic and both Adam states bit for bit,
 * and a run stopped after 2 iterations and resumed from its checkpoint ends in exactly the state of
 * the run never stopped (same batches, same z, same Adam steps). The generator averaged over
 * checkpoints is their element-wise mean.
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { withSeed } from "../../backend/with_seed.ts";
import { pcg32, type Prng } from "../../data/prng.ts";
import { DCGAN_RECIPE, dcganLearningRate, gan } from "../../methods/gan.ts";
import {
  averageGenerator,
  ganBatchSampler,
  ganIteration,
  ganStateTensors,
  loadGanState,
  saveGanState,
} from "../../bench/_gan_state.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

function maxDiff(got: number[][], want: number[][]): number {
  let d = 0;
  got.forEach((g, i) => g.forEach((v, j) => d = Math.max(d, Math.abs(v - want[i][j]))));
  return d;
}
/** Bit for bit on every backend (native included: its first step fuses as later ones do). */
function assertSameRun(got: number[][], want: number[][]): void {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => assert.deepEqual(g, want[i], `tensor ${i}`));
}

const small = {
  encoder: "convnet" as const,
  inputShape: [8, 8, 1] as [number, number, number],
  zDim: 8,
  generatorWidths: [4],
  discriminatorWidths: [4, 8],
};
const SEED = 3;
const TOTAL = 5;

/** The GAN and its two Adams, weights drawn from `initSeed`. */
function build(initSeed: number) {
  const setup = withSeed(initSeed, () => gan({ ...small, seed: initSeed }));
  const adam = () => tf.train.adam(DCGAN_RECIPE.lr, DCGAN_RECIPE.beta1, DCGAN_RECIPE.beta2);
  return { ...setup, optD: adam(), optG: adam() };
}
type Run = ReturnType<typeof build>;

/** The bench's sampler in miniature: a batch of 4 images from `rnd`. */
const batchOf = (rnd: Prng) =>
  tf.tensor4d(Float32Array.from({ length: 4 * 64 }, () => rnd()), [4, 8, 8, 1]);

/** Iterations `from` to `to` - 1, as the bench's loop. */
function train(run: Run, rnd: Prng, from: number, to: number) {
  for (let it = from; it < to; it++) {
    const x = batchOf(rnd);
    ganIteration(run.method, run.nets, run.optD, run.optG, x, it, TOTAL, SEED);
    x.dispose();
  }
}

/** Every weight, BatchNorm statistic, Adam moment and count, and Adam's powers of the betas. */
async function snapshot(run: Run): Promise<number[][]> {
  const ts = await ganStateTensors(run.nets, run.optD, run.optG);
  const powers = [run.optD, run.optG].map((o) => {
    const { accBeta1, accBeta2 } = o as unknown as Record<string, tf.Variable>;
    return [accBeta1.dataSync()[0], accBeta2.dataSync()[0]];
  });
  return [...ts.map((t) => Array.from(t.dataSync())), ...powers];
}

Deno.test("gan checkpoint: fresh nets and Adams read back every weight and moment exactly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = build(1);
    const rnd = pcg32(SEED);
    train(a, rnd, 0, 3);
    await saveGanState(dir, 3, a.nets, a.optD, a.optG, { note: "x" }, rnd.state());
    const b = build(2);
    train(b, pcg32(9), 0, 1); // moments of its own, to be overwritten
    const before = await snapshot(b);
    const want = await snapshot(a);
    assert.notDeepEqual(before, want, "the two runs must differ before loading");
    const read = await loadGanState(dir, b.nets, b.optD, b.optG);
    assert.equal(read.iteration, 3);
    assert.deepEqual(read.sampler, rnd.state());
    assert.equal(read.meta.note, "x");
    const got = await snapshot(b);
    assert.equal(got.length, want.length);
    // BatchNorm's moving statistics are among them (not trainable, still state)
    assert.ok(b.nets.generator.getWeights().length > b.nets.generator.trainableWeights.length);
    got.forEach((g, i) => assert.deepEqual(g, want[i], `tensor ${i}`));
    // the sampler goes on where it was
    assert.equal(ganBatchSampler(SEED, read)(), rnd());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gan checkpoint: stopped after 2 of 5 iterations and resumed, the run ends as the one never stopped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const whole = build(1);
    train(whole, ganBatchSampler(SEED), 0, TOTAL);

    const first = build(1);
    const rnd = ganBatchSampler(SEED);
    train(first, rnd, 0, 2);
    await saveGanState(dir, 2, first.nets, first.optD, first.optG, {}, rnd.state());
    // a new process: other initial weights, new optimizers, the sampler from the checkpoint
    const resumed = build(7);
    const read = await loadGanState(dir, resumed.nets, resumed.optD, resumed.optG);
    train(resumed, ganBatchSampler(SEED, read), read.iteration, TOTAL);

    const want = await snapshot(whole);
    assertSameRun(await snapshot(resumed), want);
    // and differs from a run that resumed without the checkpoint's sampler (by far more than
    // rounding)
    const other = build(7);
    const again = await loadGanState(dir, other.nets, other.optD, other.optG);
    train(other, ganBatchSampler(SEED, { ...again, sampler: undefined }), 2, TOTAL);
    assert.ok(maxDiff(await snapshot(other), want) > 1e-4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gan checkpoint: a state.bin that does not match state.json is refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = build(1);
    train(a, pcg32(SEED), 0, 1);
    await saveGanState(dir, 1, a.nets, a.optD, a.optG);
    const bytes = await Deno.readFile(`${dir}/state.bin`);
    await Deno.writeFile(`${dir}/state.bin`, bytes.subarray(0, bytes.length - 4));
    const b = build(2);
    await assert.rejects(() => loadGanState(dir, b.nets, b.optD, b.optG), RangeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gan checkpoint: the generator averaged over three checkpoints is their element-wise mean", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const weights: Float32Array[][] = [];
    for (const [k, seed] of [1, 2, 3].entries()) {
      const r = build(seed);
      train(r, pcg32(seed), 0, 1);
      await saveGanState(`${dir}/${k}`, 1, r.nets, r.optD, r.optG);
      weights.push(r.nets.generator.getWeights().map((w) => w.dataSync() as Float32Array));
    }
    const avg = await averageGenerator([0, 1, 2].map((k) => `${dir}/${k}`));
    assert.equal(avg.length, weights[0].length);
    avg.forEach((t, i) => {
      assert.deepEqual(t.shape, build(1).nets.generator.getWeights()[i].shape);
      const want = Float32Array.from(
        weights[0][i],
        (_, j) => (weights[0][i][j] + weights[1][i][j] + weights[2][i][j]) / 3,
      );
      assert.deepEqual(t.dataSync(), want, `weight ${i}`);
    });
    tf.dispose(avg);
    // a generator of another width is refused
    const wide = withSeed(4, () => gan({ ...small, seed: 4, generatorWidths: [6] }));
    const adam = () => tf.train.adam(1e-3);
    await saveGanState(`${dir}/wide`, 0, wide.nets, adam(), adam());
    await assert.rejects(() => averageGenerator([`${dir}/0`, `${dir}/wide`]), RangeError);
    await assert.rejects(() => averageGenerator([]), RangeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The phase's variables' values, flattened per variable. */
function valuesOf(vs: tf.Variable[]): Float32Array[] {
  return vs.map((v) => Float32Array.from(v.dataSync()));
}

/**
 * The gradient of `gan`'s loss at `step` of iteration 0 (the bench's views: z seeded by
 * `SEED * 1e6 + step`), per variable of that phase, at the nets' current weights.
 */
function gradientsAt(run: Run, x: tf.Tensor4D, step: number): Float32Array[] {
  const context = { progress: 0, step, epoch: 0 };
  const views = run.method.views(x, SEED * 1e6 + step);
  const vars = run.method.trainableAt(run.nets, context);
  const { value, grads } = tf.variableGrads(() => {
    const r = run.method.step(run.nets, views, {}, context);
    tf.dispose(Object.values(r.metrics));
    return r.loss;
  }, vars);
  const out = vars.map((v) => Float32Array.from(grads[v.name].dataSync()));
  tf.dispose([value, ...Object.values(grads), ...views]);
  return out;
}

/** Asserts `got[i][j]` within `atol` of `want(i, j)` for every element. */
function assertEach(got: Float32Array[], want: (i: number, j: number) => number, atol: number) {
  got.forEach((g, i) =>
    g.forEach((v, j) => {
      const w = want(i, j);
      if (!(Math.abs(v - w) <= atol)) assert.fail(`variable ${i}[${j}]: ${v} vs ${w}`);
    })
  );
}

Deno.test("gan iteration: weight decay adds wd p to every gradient of the updated net, at the iteration's lr (SGD, by hand)", () => {
  const x = batchOf(pcg32(SEED));
  const [wd, lr] = [0.3, 0.05];
  const D = { progress: 0, step: 0, epoch: 0 };
  const G = { progress: 0, step: 1, epoch: 0 };
  // the D step: D's variables move by -lr (g + wd p) with g D's gradient at the start
  const a = withSeed(1, () => gan({ ...small, seed: 1 }));
  const dVars = a.method.trainableAt(a.nets, D);
  const [p0, g0] = [valuesOf(dVars), gradientsAt({ ...a, optD: null!, optG: null! }, x, 0)];
  // the optimizers' own rate (1) is replaced by the iteration's
  const [optD, optG] = [tf.train.sgd(1), tf.train.sgd(1)];
  ganIteration(a.method, a.nets, optD, optG, x, 0, TOTAL, SEED, false, { lr, weightDecay: wd });
  const p1 = valuesOf(dVars);
  assertEach(p1, (i, j) => p0[i][j] - lr * (g0[i][j] + wd * p0[i][j]), 1e-6);
  // BatchNorm's scales and offsets decay too, not only the kernels (every gradient, as theirs)
  assert.ok(dVars.length > a.nets.encoder.layers.filter((l) => l.getWeights().length).length);
  // the G step: G's variables move by -lr (g + wd p), g taken at D after its step (a twin
  // built from the same seed, its D set to a's)
  const b = withSeed(1, () => gan({ ...small, seed: 1 }));
  const gVarsB = b.method.trainableAt(b.nets, G);
  const q0 = valuesOf(gVarsB);
  b.method.trainableAt(b.nets, D).forEach((v, i) => v.assign(tf.tensor(p1[i], v.shape)));
  const gG = gradientsAt({ ...b, optD: null!, optG: null! }, x, 1);
  assertEach(
    valuesOf(a.method.trainableAt(a.nets, G)),
    (i, j) => q0[i][j] - lr * (gG[i][j] + wd * q0[i][j]),
    1e-6,
  );
  tf.dispose(x);
});

Deno.test("gan iteration: weight decay is L2 on the gradient before Adam's moments (the authors' Regularizer), not decoupled", () => {
  const x = batchOf(pcg32(SEED));
  const [wd, lr] = [0.5, 0.01];
  const D = { progress: 0, step: 0, epoch: 0 };
  const a = withSeed(1, () => gan({ ...small, seed: 1 }));
  const dVars = a.method.trainableAt(a.nets, D);
  const [p0, g0] = [valuesOf(dVars), gradientsAt({ ...a, optD: null!, optG: null! }, x, 0)];
  const adam = () => tf.train.adam(lr, DCGAN_RECIPE.beta1, DCGAN_RECIPE.beta2);
  ganIteration(a.method, a.nets, adam(), adam(), x, 0, TOTAL, SEED, false, { weightDecay: wd });
  // Adam's first step on g' = g + wd p: m^ = g', v^ = g'^2, p - lr g' / (|g'| + eps)
  const eps = tf.backend().epsilon();
  assertEach(valuesOf(dVars), (i, j) => {
    const g = g0[i][j] + wd * p0[i][j];
    return p0[i][j] - (lr * g) / (Math.abs(g) + eps);
  }, 1e-5 * lr + 1e-8);
  tf.dispose(x);
});

Deno.test("gan checkpoint: with the authors' options (hidden layers, weight decay, decaying lr) a resumed run ends as the one never stopped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const opts = { ...small, hidden: 6 };
    const make = (initSeed: number) => {
      const setup = withSeed(initSeed, () => gan({ ...opts, seed: initSeed }));
      const adam = () => tf.train.adam(DCGAN_RECIPE.lr, DCGAN_RECIPE.beta1, DCGAN_RECIPE.beta2);
      return { ...setup, optD: adam(), optG: adam() };
    };
    // decay from iteration 1 to 0 at TOTAL: the rate depends on the iteration, not on the resume
    const lrAt = (it: number) =>
      dcganLearningRate(it, { lr: 0.05, iterations: TOTAL, decayFrom: 1 });
    const run = (r: Run, rnd: Prng, from: number, to: number) => {
      for (let it = from; it < to; it++) {
        const x = batchOf(rnd);
        ganIteration(r.method, r.nets, r.optD, r.optG, x, it, TOTAL, SEED, false, {
          lr: lrAt(it),
          weightDecay: 0.01,
        });
        x.dispose();
      }
    };
    const whole = make(1);
    run(whole, ganBatchSampler(SEED), 0, TOTAL);
    const first = make(1);
    const rnd = ganBatchSampler(SEED);
    run(first, rnd, 0, 3);
    await saveGanState(dir, 3, first.nets, first.optD, first.optG, {}, rnd.state());
    const resumed = make(7);
    const read = await loadGanState(dir, resumed.nets, resumed.optD, resumed.optG);
    run(resumed, ganBatchSampler(SEED, read), read.iteration, TOTAL);
    assertSameRun(await snapshot(resumed), await snapshot(whole));
    // the hidden layers' weights and BatchNorm statistics are in the checkpoint
    assert.equal(whole.nets.critic.getWeights().length, 1 + 4 + 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
