/**
 * The pretext preview's short training run before it renders (a task whose outputs are images
 * needs a trained net to show them): DCGAN's alternating Adam steps for gan, the loop (`train`)
 * for the others, both on MNIST batches of 32 and both with a progress line and ETA.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import type { InMemoryDataset } from "../data/in_memory.ts";
import type { MethodSetup } from "../methods/mod.ts";
import { progressReporter, train } from "../train/mod.ts";

/** Options of {@linkcode trainForPreview}. */
export interface PreviewTrainOptions {
  /** Optimizer steps (batch 32). */
  steps: number;
  /** Seed of the views and of the loop. */
  seed: number;
  /** Print a progress line with ETA (a bar on a terminal). */
  progress: boolean;
  /** Where progress goes (tests). @default {stderr} */
  log?: (text: string) => void;
}

const BATCH = 32;
const PIXELS = 28 * 28;

/** The `s`-th batch of 32 MNIST training images, in order, wrapping around. */
function batchAt(trainSet: InMemoryDataset, s: number): Uint8Array {
  const start = ((s * BATCH) % (trainSet.length - BATCH)) * PIXELS;
  return trainSet.images.subarray(start, start + BATCH * PIXELS);
}

/**
 * Trains a pretext task's nets in place for `options.steps` steps.
 *
 * @param name the task (`gan` gets DCGAN's Adam, the others the loop's AdamW)
 * @param setup the method, its nets and state
 * @param trainSet MNIST's training images
 * @param options steps, seed and progress
 */
export async function trainForPreview(
  name: string,
  setup: MethodSetup,
  trainSet: InMemoryDataset,
  options: PreviewTrainOptions,
): Promise<void> {
  const { steps, seed, progress, log } = options;
  if (steps <= 0) return;
  const write = log ?? ((text: string) => Deno.stderr.writeSync(new TextEncoder().encode(text)));
  if (progress) {
    write(
      `training ${name} for ${steps} step${steps === 1 ? "" : "s"} of ${BATCH} before rendering\n`,
    );
  }
  if (name !== "gan") {
    const batches = function* () {
      for (let s = 0; s < steps; s++) {
        yield {
          images: batchAt(trainSet, s),
          shape: [BATCH, 28, 28, 1] as [number, number, number, number],
        };
      }
    };
    const result = await train(setup as never, batches(), {
      steps,
      optimizer: "adamw",
      lr: 2e-3,
      schedule: "constant",
      weightDecay: 0,
      progress,
      ...(log ? { log } : {}),
      seed,
    });
    tf.dispose(Object.values(result.state as Record<string, tf.Tensor>));
    return;
  }
  // DCGAN's optimizer (Adam, beta1 = 0.5), which the loop does not offer; same alternation
  // one optimizer per net: tfjs optimizers keep their slots by position in the variable list
  const optimizers = [tf.train.adam(5e-4, 0.5), tf.train.adam(5e-4, 0.5)];
  const m = setup.method as MethodSetup["method"] & {
    trainableAt(n: unknown, c: object): tf.Variable[];
  };
  const reporter = progress ? progressReporter(steps, { write }) : null;
  const last: Record<string, number> = {};
  try {
    for (let s = 0; s < steps; s++) {
      const x = tf.tensor4d(Float32Array.from(batchAt(trainSet, s), (v) => v / 255), [
        BATCH,
        28,
        28,
        1,
      ]);
      const views = m.views(x, seed * 1000 + s);
      const context = { progress: s / steps, step: s, epoch: 0 };
      const loss = optimizers[s % 2].minimize(
        () => {
          const r = m.step(setup.nets, views, setup.state, context);
          tf.dispose(Object.values(r.metrics));
          return r.loss;
        },
        true,
        m.trainableAt(setup.nets, context),
      );
      // even steps train the discriminator, odd ones the generator: show the latest of each
      if (reporter) {
        last[s % 2 === 0 ? "lossD" : "lossG"] = loss!.dataSync()[0];
        reporter.update(s + 1, last);
      }
      tf.dispose([x, ...views, loss!]);
    }
  } finally {
    reporter?.done();
    optimizers.forEach((o) => o.dispose());
  }
}
