import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { disposeStaleState, type MethodSetup, moco, type StepContext } from "../../methods/mod.ts";
import { withSeed } from "../../backend/with_seed.ts";
import { pcg32 } from "../_utils.ts";

/** A dense-only toy encoder `[h, w, c] -> [B, dim]` (fast on the cpu backend). */
export function toyEncoder(
  inputShape: [number, number, number],
  dim = 8,
  seed = 1,
): tfl.LayersModel {
  const input = tfl.input({ shape: inputShape });
  let x = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.dense({
    units: 32,
    kernelInitializer: tfl.initializers.glorotUniform({ seed }),
  }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ momentum: 0.9 }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.reLU().apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dense({
    units: dim,
    kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
  }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: x });
}

/** A dense-only toy sequence encoder `[h, w, c] -> [B, w, dim]`: one frame per pixel column. */
export function toySequenceEncoder(inputShape: [number, number, number], dim = 8): tfl.LayersModel {
  const [h, , c] = inputShape;
  const input = tfl.input({ shape: inputShape });
  let x = tfl.layers.permute({ dims: [2, 1, 3] }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.reshape({ targetShape: [-1, h * c] }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ units: dim, activation: "relu" }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: x });
}

/** Views = images plus seeded Gaussian noise: cheap, and instances stay distinguishable. */
export function noiseAugment(sigma = 0.1): (images: tf.Tensor4D, seed: number) => tf.Tensor4D {
  return (images, seed) =>
    tf.tidy(() => tf.add(images, tf.randomNormal(images.shape, 0, sigma, "float32", seed)));
}

/** What {@linkcode runSteps} records. */
export interface RunRecord {
  losses: number[];
  metrics: Record<string, number[]>;
}

/**
 * The loop in miniature, as train/ runs it: views, minimize over trainable(nets) with the
 * step's metrics and state kept, afterUpdate, stale state disposed.
 */
export function runSteps(
  setup: MethodSetup,
  images: tf.Tensor4D | tf.Tensor4D[],
  steps: number,
  optimizer: tf.Optimizer,
  options: { epoch?: (step: number) => number } = {},
): RunRecord & { state: unknown } {
  const { method, nets } = setup;
  let state = setup.state;
  const record: RunRecord = { losses: [], metrics: {} };
  for (let step = 0; step < steps; step++) {
    const context: StepContext = {
      progress: step / steps,
      step,
      epoch: options.epoch?.(step) ?? 0,
    };
    const batch = Array.isArray(images) ? images[step % images.length] : images;
    const views = method.views(batch, 1000 + step);
    let metrics: Record<string, tf.Scalar> = {};
    let next = state;
    const loss = optimizer.minimize(
      () => {
        const r = method.step(nets, views, state, context);
        metrics = r.metrics;
        Object.values(metrics).forEach((m) => tf.keep(m));
        collect(r.state).forEach((t) => tf.keep(t));
        next = r.state;
        return r.loss;
      },
      true,
      method.trainable(nets),
    )!;
    record.losses.push(loss.dataSync()[0]);
    for (const [k, v] of Object.entries(metrics)) (record.metrics[k] ??= []).push(v.dataSync()[0]);
    tf.dispose([loss, ...views, ...Object.values(metrics)]);
    disposeStaleState(state, next);
    state = next;
    if (method.afterUpdate) {
      const after = method.afterUpdate(nets, state, context);
      disposeStaleState(state, after);
      state = after;
    }
  }
  return { ...record, state };
}

function collect(x: unknown, out: tf.Tensor[] = []): tf.Tensor[] {
  if (x instanceof tf.Tensor) out.push(x);
  else if (Array.isArray(x)) { for (const e of x) collect(e, out); }
  else if (x && typeof x === "object") { for (const v of Object.values(x)) collect(v, out); }
  return out;
}

/** Mean of the first and last `k` values. */
export function firstLast(values: number[], k = 3): [number, number] {
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  return [mean(values.slice(0, k)), mean(values.slice(-k))];
}

/** Seeded uniform images `[b, h, w, c]` in [0, 1) (the same seed gives the same tensor). */
export function seededImages(shape: [number, number, number, number], seed: number): tf.Tensor4D {
  const prng = pcg32(seed);
  const n = shape.reduce((a, v) => a * v, 1);
  return tf.tensor4d(Float32Array.from({ length: n }, () => prng()), shape);
}

/**
 * `Deno.test` with `Math.random` reseeded for the test (`withSeed`): nets built without a seed
 * (tfjs-layers' default initializers, a method's heads) come out the same whichever tests ran
 * before, so a test that needs an informative draw passes alone, under any `--filter` and in its
 * whole file alike (the file-wide stream of `setupBackend` depends on what ran first).
 *
 * @param name the test's name
 * @param fn the test (synchronous)
 * @param seed the stream's seed
 */
export function seededTest(name: string, fn: () => void, seed = 0x5e1f): void {
  Deno.test(name, () => withSeed(seed, fn));
}

/**
 * MoCo v3 on {@linkcode toyEncoder} (projector 12 -> 6 and predictor), its key nets moved away
 * from the query nets (weights x 0.8) so that a query/key mix-up shows in the loss.
 *
 * @param inputShape the images' shape
 * @param encoderSeed the toy encoder's seed
 * @param temperature the loss's temperature
 * @returns the setup
 */
export function mocoV3Toy(
  inputShape: [number, number, number],
  encoderSeed: number,
  temperature: number,
): ReturnType<typeof moco> {
  const setup = moco({
    encoder: toyEncoder(inputShape, 8, encoderSeed),
    inputShape,
    seed: 3,
    version: 3,
    temperature,
    projectionDim: 6,
    hiddenDim: 12,
  });
  const n = setup.nets;
  n.keyEncoder.setWeights(n.keyEncoder.getWeights().map((w) => tf.mul(w, 0.8)));
  return setup;
}
