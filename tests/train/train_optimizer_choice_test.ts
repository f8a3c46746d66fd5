/**
 * `train()` builds the optimizer it is asked for with the loop's options (issue 17, fifth mutation
 * pass on train/train.ts's `buildOptimizer`): on a kernel (rank 2, so weight decay and LARS
 * adaptation apply), each optimizer's trajectory under `train()` equals the same optimizer built
 * directly and stepped by hand, with the default options and with each option changed. The
 * defaults test in `train_options_test.ts` trains a rank-1 variable, which no optimizer decays,
 * so a dropped `weightDecay` or AdamW built as LARS passed it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  adamw,
  lars,
  type Optimizer,
  sgd,
  train,
  type TrainBatch,
  type TrainOptions,
  type TrainSetup,
} from "../../train/mod.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

const W0 = [[0.5, -1.5], [2, 0.25]];
const TARGET = [[1, -2], [0.5, 3]];
const STEPS = 4;
const LR = 0.1;

type Nets = { w: tf.Variable };

function* batches(): Generator<TrainBatch> {
  for (;;) yield { images: new Uint8Array(4), shape: [1, 2, 2, 1] };
}

/** Final weights after `train()` on 0.5 ||w - t||^2 at a constant rate. */
async function viaTrain(options: Partial<TrainOptions<Nets>>): Promise<number[]> {
  const w = tf.variable(tf.tensor2d(W0), true, "choice/dense/kernel");
  const setup: TrainSetup<Nets, Record<string, never>> = {
    method: {
      name: "quadratic",
      views: (images) => [tf.clone(images)],
      step: (nets, _views, state) => ({
        loss: tf.tidy(() =>
          tf.mul(0.5, tf.sum(tf.square(tf.sub(nets.w, tf.tensor2d(TARGET))))) as tf.Scalar
        ),
        metrics: {},
        state,
      }),
      trainable: (nets) => [nets.w],
    },
    nets: { w },
    state: {},
  };
  try {
    await train(setup, batches(), {
      steps: STEPS,
      lr: LR,
      schedule: "constant",
      progress: false,
      ...options,
    });
    return Array.from(w.dataSync());
  } finally {
    w.dispose();
  }
}

/** The same steps with an optimizer built directly: the gradient of the loss is w - t. */
function byHand(build: (variables: tf.Variable[]) => Optimizer): number[] {
  const w = tf.variable(tf.tensor2d(W0), true, "choice/dense/kernel");
  const opt = build([w]);
  try {
    for (let i = 0; i < STEPS; i++) {
      const g = tf.sub(w, tf.tensor2d(TARGET));
      opt.apply([g], LR);
      g.dispose();
    }
    return Array.from(w.dataSync());
  } finally {
    opt.dispose();
    w.dispose();
  }
}

function close(got: number[], want: number[], what: string): void {
  assert.equal(got.length, want.length);
  assert.ok(
    got.every((x, i) => Math.abs(x - want[i]) <= 1e-6 * Math.max(1, Math.abs(want[i]))),
    `${what}: train ${got} vs by hand ${want}`,
  );
}

Deno.test("train() builds SGD with the loop's momentum, Nesterov and weight decay (default momentum 0.8, no decay)", async () => {
  close(await viaTrain({}), byHand((v) => sgd(v, { momentum: 0.8, weightDecay: 0 })), "default");
  close(
    await viaTrain({ optimizer: "sgd", weightDecay: 0.3 }),
    byHand((v) => sgd(v, { momentum: 0.8, weightDecay: 0.3 })),
    "weightDecay 0.3",
  );
  close(
    await viaTrain({ momentum: 0.5, nesterov: true, weightDecay: 0.2 }),
    byHand((v) => sgd(v, { momentum: 0.5, nesterov: true, weightDecay: 0.2 })),
    "momentum 0.5, Nesterov, weightDecay 0.2",
  );
  // the decay shows: without it the trajectory differs
  assert.notDeepEqual(await viaTrain({ weightDecay: 0.3 }), await viaTrain({}));
});

Deno.test("train() builds AdamW (not another optimizer) with its weight decay (default 0.01) and the recipe's betas", async () => {
  const adam = (o: Parameters<typeof adamw>[1]) => byHand((v) => adamw(v, o));
  close(await viaTrain({ optimizer: "adamw" }), adam({ weightDecay: 0.01 }), "default");
  close(
    await viaTrain({ optimizer: "adamw", weightDecay: 0.5 }),
    adam({ weightDecay: 0.5 }),
    "weightDecay 0.5",
  );
  close(
    await viaTrain({ optimizer: "adamw", adamBetas: [0.5, 0.99] }),
    adam({ weightDecay: 0.01, beta1: 0.5, beta2: 0.99 }),
    "betas [0.5, 0.99]",
  );
  assert.notDeepEqual(
    await viaTrain({ optimizer: "adamw", weightDecay: 0.5 }),
    await viaTrain({ optimizer: "adamw" }),
  );
});

Deno.test("train() builds LARS with the loop's momentum and weight decay (defaults 0.9 and 1e-6)", async () => {
  const larsByHand = (o: Parameters<typeof lars>[1]) => byHand((v) => lars(v, o));
  close(
    await viaTrain({ optimizer: "lars" }),
    larsByHand({ momentum: 0.9, weightDecay: 1e-6 }),
    "default",
  );
  close(
    await viaTrain({ optimizer: "lars", weightDecay: 0.5, momentum: 0.3 }),
    larsByHand({ momentum: 0.3, weightDecay: 0.5 }),
    "weightDecay 0.5, momentum 0.3",
  );
  assert.notDeepEqual(
    await viaTrain({ optimizer: "lars", weightDecay: 0.5 }),
    await viaTrain({ optimizer: "lars" }),
  );
});
