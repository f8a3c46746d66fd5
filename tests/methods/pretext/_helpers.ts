import { tf } from "../../../backend/tf.ts";
import { mnist } from "../../../data/mod.ts";
import type { MethodSetup, StepContext } from "../../../methods/mod.ts";

/** The first `n` MNIST training digits as `[n, 28, 28, 1]` floats in [0, 1]. */
export async function mnistImages(n: number, offset = 0): Promise<tf.Tensor4D> {
  const ds = await mnist("train");
  const bytes = ds.images.subarray(offset * 784, (offset + n) * 784);
  return tf.tensor4d(Float32Array.from(bytes, (b) => b / 255), [n, 28, 28, 1]);
}

/** What {@linkcode trainSteps} recorded per step. */
export interface Trace {
  losses: number[];
  metrics: Record<string, number[]>;
}

/**
 * The loop in miniature (views, minimize over trainable(nets), state carried), batches cycled.
 * Returns the losses and metrics of every step; disposes what it makes.
 */
export function trainSteps(
  setup: MethodSetup,
  batches: tf.Tensor4D[],
  steps: number,
  optimizer: tf.Optimizer,
): Trace {
  const { method, nets } = setup;
  const state = setup.state;
  const trace: Trace = { losses: [], metrics: {} };
  for (let step = 0; step < steps; step++) {
    const context: StepContext = { progress: step / steps, step, epoch: 0 };
    const views = method.views(batches[step % batches.length], 100 + step);
    const vars = method.trainable(nets);
    let metrics: Record<string, tf.Scalar> = {};
    const loss = optimizer.minimize(
      () => {
        const r = method.step(nets, views, state, context);
        metrics = r.metrics;
        Object.values(metrics).forEach((m) => tf.keep(m));
        return r.loss;
      },
      true,
      vars,
    );
    trace.losses.push(loss!.dataSync()[0]);
    for (const [k, m] of Object.entries(metrics)) (trace.metrics[k] ??= []).push(m.dataSync()[0]);
    tf.dispose([loss!, ...Object.values(metrics), ...views]);
  }
  return trace;
}

/** Mean of the first and of the last `k` values. */
export function ends(values: number[], k = 5): [number, number] {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  return [mean(values.slice(0, k)), mean(values.slice(-k))];
}
