/**
 * `train()` options checked for their effect, not only accepted: `clipNorm` bounds the update,
 * SGD `momentum` (and Nesterov) give the trajectory a hand-computed heavy-ball step says, and
 * the loader position `train()` saves (with `skipped`) is the uninterrupted run's at every step.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { Loader, type LoaderPosition } from "../../data/loader.ts";
import type { Dataset, Sample } from "../../data/dataset.ts";
import type { Method } from "../../methods/types.ts";
import { readCheckpoint, train, type TrainBatch, type TrainOptions } from "../../train/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";

await setupBackend();

interface Nets {
  w: tf.Variable;
}

const TARGET = [1, -2, 0.5];

/** loss = 0.5 ||w - t||^2 (gradient w - t), whatever the views. */
function quadratic(): Method<Nets, Record<string, never>> {
  return {
    name: "quadratic",
    views: (images) => [tf.clone(images)],
    step: (nets, _views, state) =>
      tf.tidy(() => ({
        loss: tf.mul(0.5, tf.sum(tf.square(tf.sub(nets.w, tf.tensor1d(TARGET))))) as tf.Scalar,
        metrics: {},
        state,
      })),
    trainable: (nets) => [nets.w],
  };
}

function* batches(): Generator<TrainBatch> {
  for (;;) yield { images: new Uint8Array(1), shape: [1, 1, 1, 1] };
}

/** Runs `steps` steps from w0 and returns w after each step. */
async function trajectory(
  w0: number[],
  steps: number,
  options: Partial<TrainOptions<Nets>>,
): Promise<{ ws: number[][]; gradNorms: number[] }> {
  const nets = { w: tf.variable(tf.tensor1d(w0)) };
  const ws: number[][] = [];
  const gradNorms: number[] = [];
  await train({ method: quadratic(), nets, state: {} }, batches(), {
    steps,
    optimizer: "sgd",
    schedule: "constant",
    progress: false,
    ...options,
    onStep: (record) => {
      ws.push(Array.from(nets.w.dataSync()));
      gradNorms.push(record.gradNorm as number);
    },
  });
  nets.w.dispose();
  return { ws, gradNorms };
}

/** PyTorch's SGD on the quadratic in float64: buf = mu buf + g; w -= lr (buf or g + mu buf). */
function heavyBall(
  w0: number[],
  steps: number,
  lr: number,
  mu: number,
  nesterov = false,
  clip = Infinity,
): number[][] {
  let w = w0.slice();
  let buf = w.map(() => 0);
  const out: number[][] = [];
  for (let s = 0; s < steps; s++) {
    let g = w.map((v, i) => v - TARGET[i]);
    const norm = Math.hypot(...g);
    if (norm > clip) g = g.map((v) => v * clip / norm);
    buf = buf.map((b, i) => mu * b + g[i]);
    const step = nesterov ? g.map((v, i) => v + mu * buf[i]) : buf;
    w = w.map((v, i) => v - lr * step[i]);
    out.push(w);
  }
  return out;
}

Deno.test("clipNorm rescales a larger gradient to the norm, so the update is lr * clipNorm long", async () => {
  // w0 - t = (3, 4, 0): gradient norm 5
  const w0 = [4, 2, 0.5];
  const lr = 0.1;
  for (const clipNorm of [0.5, 2, 100]) {
    const { ws, gradNorms } = await trajectory(w0, 3, { lr, momentum: 0, clipNorm });
    assert.ok(Math.abs(gradNorms[0] - 5) < 1e-5, `reported gradient norm ${gradNorms[0]}`);
    const step = Math.hypot(...ws[0].map((v, i) => v - w0[i]));
    assert.ok(
      Math.abs(step - lr * Math.min(clipNorm, 5)) < 1e-5,
      `clipNorm ${clipNorm}: first update ${step}`,
    );
    assertTensorClose(
      ws.flat(),
      heavyBall(w0, 3, lr, 0, false, clipNorm).flat(),
      { rtol: 1e-5, atol: 1e-6 },
      `clipNorm ${clipNorm}:`,
    );
  }
});

Deno.test("SGD momentum and Nesterov follow the hand-computed heavy-ball trajectory", async () => {
  const w0 = [3, 0, -1];
  const trajectories: number[][][] = [];
  for (
    const [momentum, nesterov] of [[0, false], [0.5, false], [0.9, false], [0.9, true]] as const
  ) {
    const { ws } = await trajectory(w0, 5, { lr: 0.2, momentum, nesterov });
    assertTensorClose(
      ws.flat(),
      heavyBall(w0, 5, 0.2, momentum, nesterov).flat(),
      { rtol: 1e-5, atol: 1e-6 },
      `momentum ${momentum} nesterov ${nesterov}:`,
    );
    trajectories.push(ws);
  }
  // the option changes the trajectory (the default momentum alone would pass every line above)
  assert.notDeepEqual(trajectories[1], trajectories[2]);
});

/** 23 items of 1x1x1, items 2, 9 and 16 fail to decode. */
function flaky(): Dataset {
  const bad = new Set([2, 9, 16]);
  return {
    name: "flaky",
    length: 23,
    shape: [1, 1, 1],
    get(i: number): Sample {
      if (bad.has(i)) throw new Error(`bad item ${i}`);
      return { image: Uint8Array.of(i), label: i };
    },
  } as Dataset;
}

function loader(position?: LoaderPosition): Loader {
  return new Loader(flaky(), {
    batchSize: 4,
    seed: 3,
    epochs: Infinity,
    prefetch: 2,
    position,
    onSkip: () => {},
  });
}

Deno.test("the loader position train() saves, skipped included, is the uninterrupted run's at every step", async () => {
  // the uninterrupted loader's position after each batch
  const expected: LoaderPosition[] = [];
  const plain = loader();
  for await (const _ of plain) {
    expected.push(JSON.parse(JSON.stringify(plain.position())));
    if (expected.length === 14) break;
  }
  assert.ok(expected.some((p) => p.skipped > 0) && expected.some((p) => p.epoch > 0));
  const dir = await Deno.makeTempDir({ prefix: "selfsup-effects-" });
  try {
    for (let steps = 1; steps <= 14; steps++) {
      const nets = { w: tf.variable(tf.tensor1d([0, 0, 0])) };
      const out = `${dir}/run${steps}`;
      await train({ method: quadratic(), nets, state: {} }, (p) => loader(p as LoaderPosition), {
        steps,
        progress: false,
        outDir: out,
      });
      const saved = await readCheckpoint(`${out}/checkpoint`);
      const position = (saved.contents as { loader: LoaderPosition }).loader;
      assert.deepEqual(position, expected[steps - 1], `after ${steps} steps`);
      tf.dispose(nets.w);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a loader resumed from any saved position continues with the uninterrupted positions", async () => {
  const expected: LoaderPosition[] = [];
  const plain = loader();
  for await (const _ of plain) {
    expected.push(JSON.parse(JSON.stringify(plain.position())));
    if (expected.length === 14) break;
  }
  for (let cut = 1; cut < 13; cut++) {
    const resumed = loader(expected[cut - 1]);
    let at = cut;
    for await (const _ of resumed) {
      assert.deepEqual(resumed.position(), expected[at], `resumed at ${cut}, step ${at + 1}`);
      if (++at === 14) break;
    }
  }
});
