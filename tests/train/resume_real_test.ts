import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { createMethod } from "../../methods/mod.ts";
import { Loader } from "../../data/loader.ts";
import { restoreTree, serializeTree, train, type TrainOptions } from "../../train/mod.ts";
import { setupBackend } from "../_utils.ts";
import { toyDataset } from "./_toy.ts";

await setupBackend();

const noise = (x: tf.Tensor4D, seed: number) =>
  tf.tidy(() =>
    tf.clipByValue(tf.add(x, tf.randomNormal(x.shape, 0, 0.1, "float32", seed)), 0, 1)
  ) as tf.Tensor4D;

function build(name: string) {
  return createMethod(name, {
    encoder: "convnet",
    inputShape: [2, 2, 1],
    seed: 1,
    widths: [4],
    projectionDim: 8,
    hiddenDim: 4,
    augment: noise,
  });
}

for (const name of ["simsiam", "simclr"]) {
  Deno.test(`resume equals uninterrupted with a real method (${name}), tensor count steady`, async () => {
    const a = build(name), b = build(name);
    // same initial weights for both runs, whatever the initializers do
    restoreTree(serializeTree(a.nets), b.nets);
    const ds = toyDataset();
    const data = (position: unknown) =>
      new Loader(ds, {
        batchSize: 6,
        seed: 2,
        epochs: Infinity,
        position: (position ?? undefined) as undefined,
      });
    const dirA = await Deno.makeTempDir(), dirB = await Deno.makeTempDir();
    const options: TrainOptions = {
      steps: 8,
      stepsPerEpoch: 4,
      lr: 0.05,
      optimizer: "sgd",
      weightDecay: 1e-4,
      progress: false,
      seed: 4,
      checkpointEvery: 3,
    };
    const counts: number[] = [];
    const full = await train(a, data, {
      ...options,
      outDir: dirA,
      onStep: () => counts.push(tf.memory().numTensors),
    });
    assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensor counts ${counts}`);
    await assert.rejects(() =>
      train(b, data, {
        ...options,
        outDir: dirB,
        onStep: (r) => {
          if (r.step === 4) throw new Error("killed");
        },
      }), /killed/);
    const resumed = await train(b, data, { ...options, outDir: dirB, resume: true });
    assert.equal(resumed.history[0].step, 3);
    assert.deepEqual(resumed.history.map((h) => h.loss), full.history.slice(3).map((h) => h.loss));
    a.encoder.getWeights().forEach((w, i) =>
      assert.deepEqual(Array.from(b.encoder.getWeights()[i].dataSync()), Array.from(w.dataSync()))
    );
    await Deno.remove(dirA, { recursive: true });
    await Deno.remove(dirB, { recursive: true });
  });
}
