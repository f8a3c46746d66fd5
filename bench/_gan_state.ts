/**
 * `bench/gan_digits.ts`'s training iteration and checkpoints, apart so that a test can stop a run,
 * write its checkpoint, read it into fresh nets and optimizers, go on, and compare with the run
 * that was never stopped (`tests/bench/gan_state_test.ts`).
 *
 * A checkpoint `dir` holds `state.bin` (float32: the generator's, the discriminator trunk's and the
 * critic's weights, BatchNorm statistics included, then D's and G's Adam states: iteration count
 * and both moments per variable) and `state.json` (iteration, counts, shapes, the real-batch
 * sampler's PCG32 state, both Adams' running powers of beta1 and beta2, the caller's `meta`). Adam's moments are matched to variables by position
 * (tfjs's Adam), so nets must be rebuilt with the same architecture before loading.
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import type { GanNets } from "../methods/gan.ts";
import { ganPhase } from "../methods/gan.ts";
import { pcg32, type Prng } from "../data/prng.ts";
import type { Method, StepContext } from "../methods/types.ts";

/** `gan`'s method as the bench uses it: `Method` plus the phase's variables. */
export type GanMethod = Method<GanNets, Record<string, never>> & {
  trainableAt(nets: GanNets, context: StepContext): tf.Variable[];
};

/** Weights of the three nets, then both Adam states, in a fixed order. */
export async function ganStateTensors(
  nets: GanNets,
  optD: tf.Optimizer,
  optG: tf.Optimizer,
): Promise<tf.Tensor[]> {
  return [
    ...nets.generator.getWeights(),
    ...nets.encoder.getWeights(),
    ...nets.critic.getWeights(),
    ...(await optD.getWeights()).map((w) => w.tensor),
    ...(await optG.getWeights()).map((w) => w.tensor),
  ];
}

/** Adam's private running powers of beta1 and beta2 (tfjs keeps them beside its weights). */
type AdamPowers = { accBeta1?: tf.Variable; accBeta2?: tf.Variable };

/**
 * Adam's running `beta1^(t+1)` and `beta2^(t+1)`: tfjs's `getWeights` leaves them out and its
 * `setWeights` recomputes them with `pow`, which differs in the last bits from the product the
 * optimizer accumulated (beta2 0.999 in float32), so a resumed run would drift from the one never
 * stopped. `undefined` for optimizers without them.
 */
export function adamPowers(opt: tf.Optimizer): [number, number] | undefined {
  const { accBeta1, accBeta2 } = opt as unknown as AdamPowers;
  if (!accBeta1 || !accBeta2) return undefined;
  return [accBeta1.dataSync()[0], accBeta2.dataSync()[0]];
}

/** Sets what {@linkcode adamPowers} read (after `setWeights`, which overwrites them). */
function setAdamPowers(opt: tf.Optimizer, powers: [number, number] | undefined) {
  const { accBeta1, accBeta2 } = opt as unknown as AdamPowers;
  if (!powers || !accBeta1 || !accBeta2) return;
  tf.tidy(() => {
    accBeta1.assign(tf.scalar(powers[0]));
    accBeta2.assign(tf.scalar(powers[1]));
  });
}

/** What {@linkcode loadGanState} reads back besides the tensors. */
export interface GanCheckpoint {
  /** Iterations done. */
  iteration: number;
  /** The real-batch sampler's `pcg32` state, when the writer saved one. */
  sampler?: [number, number];
  /** The rest of `state.json` (the writer's `meta`, counts, shapes, names). */
  meta: Record<string, unknown>;
}

/**
 * Writes a checkpoint at `dir`: `state.bin` and `state.json` (see the module doc).
 *
 * @param dir folder, created if missing
 * @param iteration iterations done
 * @param nets the GAN's nets
 * @param optD the discriminator's Adam
 * @param optG the generator's Adam
 * @param meta written into `state.json` (e.g. batch, seed, widths)
 * @param sampler the real-batch sampler's `pcg32` state, so a resumed run draws the same batches
 */
export async function saveGanState(
  dir: string,
  iteration: number,
  nets: GanNets,
  optD: tf.Optimizer,
  optG: tf.Optimizer,
  meta: Record<string, unknown> = {},
  sampler?: [number, number],
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const [dW, gW] = [await optD.getWeights(), await optG.getWeights()];
  const tensors = await ganStateTensors(nets, optD, optG);
  const total = tensors.reduce((s, t) => s + t.size, 0);
  const flat = new Float32Array(total);
  let o = 0;
  for (const t of tensors) {
    flat.set(t.dataSync() as Float32Array, o);
    o += t.size;
  }
  const counts = {
    generator: nets.generator.getWeights().length,
    encoder: nets.encoder.getWeights().length,
    critic: nets.critic.getWeights().length,
    optD: dW.length,
    optG: gW.length,
  };
  await Deno.writeFile(`${dir}/state.bin`, new Uint8Array(flat.buffer));
  await Deno.writeTextFile(
    `${dir}/state.json`,
    JSON.stringify({
      iteration,
      ...meta,
      ...(sampler ? { sampler } : {}),
      adamPowers: { optD: adamPowers(optD), optG: adamPowers(optG) },
      counts,
      names: [...dW, ...gW].map((w) => w.name),
      shapes: tensors.map((t) => t.shape),
    }),
  );
}

/**
 * Reads a checkpoint written by {@linkcode saveGanState} into nets and optimizers built as the
 * writer's were (weights, BatchNorm statistics, both Adam states).
 *
 * @throws {RangeError} when the checkpoint's sizes do not match
 */
export async function loadGanState(
  dir: string,
  nets: GanNets,
  optD: tf.Optimizer,
  optG: tf.Optimizer,
): Promise<GanCheckpoint> {
  const meta = JSON.parse(await Deno.readTextFile(`${dir}/state.json`));
  const bytes = await Deno.readFile(`${dir}/state.bin`);
  const flat = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const shapes: number[][] = meta.shapes;
  const size = shapes.reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
  if (size !== flat.length) {
    throw new RangeError(
      `Cannot load ${dir}: state.json lists ${size} floats, state.bin holds ${flat.length}`,
    );
  }
  let o = 0;
  const next = (shape: number[]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(flat.slice(o, o + n), shape);
    o += n;
    return t;
  };
  let k = 0;
  const take = (n: number) => shapes.slice(k, k += n).map(next);
  const models: [tfl.LayersModel, string][] = [
    [nets.generator, "generator"],
    [nets.encoder, "encoder"],
    [nets.critic, "critic"],
  ];
  for (const [model, key] of models) {
    const ws = take(meta.counts[key]);
    model.setWeights(ws);
    tf.dispose(ws);
  }
  const names: string[] = meta.names;
  const dT = take(meta.counts.optD);
  const gT = take(meta.counts.optG);
  await optD.setWeights(dT.map((tensor, i) => ({ name: names[i], tensor })));
  await optG.setWeights(gT.map((tensor, i) => ({ name: names[dT.length + i], tensor })));
  // checkpoints written before the powers were saved keep setWeights' pow
  setAdamPowers(optD, meta.adamPowers?.optD);
  setAdamPowers(optG, meta.adamPowers?.optG);
  // not disposed: Adam's setWeights makes its moment variables from these tensors
  return { iteration: meta.iteration, sampler: meta.sampler, meta };
}

/**
 * The real-batch sampler of a run that starts at `checkpoint` (from scratch when absent): the
 * checkpoint's saved stream, so the resumed run draws the batches the run never stopped would
 * have; for a checkpoint without one, a stream seeded by the seed and the iteration.
 */
export function ganBatchSampler(seed: number, checkpoint?: GanCheckpoint): Prng {
  if (!checkpoint || checkpoint.iteration === 0) return pcg32(seed);
  return checkpoint.sampler
    ? pcg32(0, checkpoint.sampler)
    : pcg32(seed * 1e6 + checkpoint.iteration);
}

/** {@linkcode ganIteration}'s learning rate and weight decay. */
export interface GanTraining {
  /** Learning rate of both optimizers at this iteration; their own when absent. */
  lr?: number;
  /** L2 weight decay added to every gradient (`g + weightDecay p`). @default {0} */
  weightDecay?: number;
}

/**
 * Sets a tfjs optimizer's learning rate: through its `setLearningRate` where it has one (SGD and
 * momentum keep `-lr` as a scalar tensor), else its `learningRate` field, which Adam reads at
 * every `applyGradients`.
 *
 * @throws {TypeError} for an optimizer without one
 */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  const o = opt as unknown as { learningRate?: number; setLearningRate?: (lr: number) => void };
  if (typeof o.learningRate !== "number") {
    throw new TypeError(`Cannot set the learning rate of ${opt.getClassName()}`);
  }
  if (typeof o.setLearningRate === "function") o.setLearningRate(lr);
  else o.learningRate = lr;
}

/**
 * One DCGAN iteration (DCGAN's order): a discriminator update on `x` and fresh z, then a
 * generator update with fresh z; z's seeds depend only on `seed` and the iteration, so a resumed
 * run draws the same z as one never stopped.
 *
 * @param it the iteration, from 0 (steps `2 it` and `2 it + 1`)
 * @param iterations the run's total, for `progress`
 * @param keepMetrics read the losses and D's outputs (costs a device read)
 * @param training the iteration's learning rate for both optimizers (`dcganLearningRate`; their
 *   own when absent) and the L2 weight decay added to every gradient of the updated net before
 *   the optimizer sees it (`g + weightDecay p`, as the DCGAN authors' `Regularizer(l2)`; 0: none)
 * @returns the phase lines (`D loss ... | G loss ...`) when `keepMetrics`, else `[]`
 */
export function ganIteration(
  method: GanMethod,
  nets: GanNets,
  optD: tf.Optimizer,
  optG: tf.Optimizer,
  x: tf.Tensor4D,
  it: number,
  iterations: number,
  seed: number,
  keepMetrics = false,
  training: GanTraining = {},
): string[] {
  const { lr, weightDecay = 0 } = training;
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) {
    throw new RangeError(
      `Cannot train the GAN: expected weightDecay >= 0, received ${weightDecay}`,
    );
  }
  if (lr !== undefined) {
    if (!(Number.isFinite(lr) && lr >= 0)) {
      throw new RangeError(`Cannot train the GAN: expected lr >= 0, received ${lr}`);
    }
    for (const opt of [optD, optG]) setLearningRate(opt, lr);
  }
  const line: string[] = [];
  for (const step of [2 * it, 2 * it + 1]) {
    const context = { progress: it / iterations, step, epoch: 0 };
    const views = method.views(x, seed * 1e6 + step);
    const opt = ganPhase(context) === "discriminator" ? optD : optG;
    let m: Record<string, tf.Scalar> = {};
    const variables = method.trainableAt(nets, context);
    // what opt.minimize does (gradients, then applied in the variables' order, which fixes the
    // order of Adam's moments in checkpoints), with the L2 term in between
    const { value: loss, grads } = opt.computeGradients(() => {
      const r = method.step(nets, views, {}, context);
      m = r.metrics;
      Object.values(m).forEach((t) => tf.keep(t));
      return r.loss;
    }, variables);
    const decayed = variables.map((v) => {
      const g = grads[v.name];
      return {
        name: v.name,
        tensor: weightDecay > 0 && g ? tf.tidy(() => tf.add(g, tf.mul(v, weightDecay))) : g,
      };
    });
    opt.applyGradients(decayed);
    tf.dispose([...Object.values(grads), ...decayed.map((d) => d.tensor).filter((t) => t)]);
    if (keepMetrics) {
      line.push(
        `${ganPhase(context)[0].toUpperCase()} loss ${loss!.dataSync()[0].toFixed(3)} D(x) ${
          (m.dReal?.dataSync()[0] ?? NaN).toFixed(3)
        } D(G(z)) ${m.dFake.dataSync()[0].toFixed(3)}`,
      );
    }
    tf.dispose([loss!, ...views, ...Object.values(m)]);
  }
  return line;
}

/**
 * The generator's weights (BatchNorm statistics included) averaged element-wise over the
 * checkpoints `dirs`, in `generator.getWeights()` order: Polyak averaging of the generator over a
 * run's last checkpoints, read from their `state.bin` without building nets. Sample an average in
 * training mode (batch statistics): its BatchNorm running statistics are averages too, not the
 * statistics of the averaged net.
 *
 * @param dirs checkpoints of one architecture (`saveGanState`'s)
 * @returns one tensor per generator weight; the caller disposes them
 * @throws {RangeError} when `dirs` is empty or the checkpoints' generators differ in shape
 */
export async function averageGenerator(dirs: string[]): Promise<tf.Tensor[]> {
  if (dirs.length === 0) {
    throw new RangeError("Cannot average generators: expected at least one checkpoint");
  }
  let sums: Float64Array[] | undefined;
  let shapes: number[][] = [];
  for (const dir of dirs) {
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/state.json`));
    const own: number[][] = meta.shapes.slice(0, meta.counts.generator);
    if (sums && JSON.stringify(own) !== JSON.stringify(shapes)) {
      throw new RangeError(`Cannot average generators: ${dir}'s shapes differ from ${dirs[0]}'s`);
    }
    shapes = own;
    const bytes = await Deno.readFile(`${dir}/state.bin`);
    const flat = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const sizes = own.map((s) => s.reduce((a, b) => a * b, 1));
    sums ??= sizes.map((n) => new Float64Array(n));
    let o = 0;
    sizes.forEach((n, i) => {
      for (let j = 0; j < n; j++) sums![i][j] += flat[o + j];
      o += n;
    });
  }
  return sums!.map((s, i) => tf.tensor(Float32Array.from(s, (v) => v / dirs.length), shapes[i]));
}
