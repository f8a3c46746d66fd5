/**
 * `train()`'s data-parallel branches with a scripted `DataParallel` (issue 17, fourth mutation
 * pass on train/train.ts; the real MPI runs are in tests/distributed/): `prepare` once, each
 * batch sharded (and the whole batch freed), the step context carrying the replicas, each rank's
 * view seed offset by rank x 104729, the gradients the optimizer applies and the figures it
 * records being the reduced ones, and a rank other than 0 writing nothing (no run files, no
 * evaluation, no checkpoint).
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import type { Method, Replicas, StepContext } from "../../methods/types.ts";
import { pcg32, tensorSeed } from "../../data/prng.ts";
import { type DataParallel, train, type TrainBatch } from "../../train/mod.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

interface Nets {
  w: tf.Variable;
}

const TARGET = [1, -2];

interface Log {
  views: number[][];
  seeds: number[];
  contexts: StepContext[];
}

function quadratic(log: Log): Method<Nets, Record<string, never>> {
  return {
    name: "quadratic",
    views: (images, seed) => {
      log.views.push(Array.from(images.dataSync()));
      log.seeds.push(seed);
      return [tf.clone(images)];
    },
    step: (nets, _views, state, context) => {
      log.contexts.push(context);
      return tf.tidy(() => ({
        loss: tf.mul(0.5, tf.sum(tf.square(tf.sub(nets.w, tf.tensor1d(TARGET))))) as tf.Scalar,
        metrics: { m: tf.scalar(3) },
        state,
      }));
    },
    trainable: (nets) => [nets.w],
  };
}

/** A world of `size` ranks seen from `rank`: shard = this rank's rows, reductions scripted. */
function scripted(rank: number, size: number) {
  const calls = {
    prepare: 0,
    shard: [] as number[][],
    grads: [] as number[][],
    numbers: [] as number[][],
  };
  const replicas: Replicas = {
    rank,
    size,
    gatherNegatives: false,
    allGather: <T extends tf.Tensor>(x: T) => x,
  };
  const dp: DataParallel = {
    rank,
    size,
    replicas,
    prepare: () => void calls.prepare++,
    shard: (images) => {
      calls.shard.push(images.shape);
      const per = images.shape[0] / size;
      return tf.slice(images, [rank * per, 0, 0, 0], [per, -1, -1, -1]);
    },
    // the "other ranks" contribute a gradient of +1 on every entry: the mean is (g + 1) / 2
    reduceGradients: (grads) => {
      calls.grads.push(grads.flatMap((g) => (g ? Array.from(g.dataSync()) : [])));
      return grads.map((g) => (g ? tf.tidy(() => tf.div(tf.add(g, 1), 2)) : null));
    },
    reduceNumbers: (values) => {
      calls.numbers.push(values);
      return values.map((v) => v * 10);
    },
    abort: (code) => {
      throw new Error(`abort ${code}`);
    },
  };
  return { dp, calls, replicas };
}

function* batches(): Generator<TrainBatch> {
  for (let i = 0;; i++) {
    yield { images: Uint8Array.from([i, 100 + i, 200, 50]), shape: [4, 1, 1, 1] };
  }
}

Deno.test("train data-parallel: shards each batch, carries the replicas, offsets the view seed by rank, applies and records the reduced values", async () => {
  const seedsOf = async (rank: number) => {
    const log: Log = { views: [], seeds: [], contexts: [] };
    const { dp, calls, replicas } = scripted(rank, 2);
    const nets = { w: tf.variable(tf.tensor1d([0, 0])) };
    const before = tf.memory().numTensors;
    const r = await train({ method: quadratic(log), nets, state: {} }, batches(), {
      steps: 3,
      optimizer: "sgd",
      momentum: 0,
      lr: 0.1,
      schedule: "constant",
      seed: 9,
      progress: false,
      distributed: dp,
    });
    assert.equal(tf.memory().numTensors, before, "no tensor left behind (whole batch freed)");
    const w = Array.from(nets.w.dataSync());
    nets.w.dispose();
    return { log, calls, replicas, r, w };
  };
  const zero = await seedsOf(0), one = await seedsOf(1);
  assert.equal(zero.calls.prepare, 1);
  assert.deepEqual(zero.calls.shard, [[4, 1, 1, 1], [4, 1, 1, 1], [4, 1, 1, 1]]);
  // rank 0 sees rows 0-1, rank 1 rows 2-3 of each batch
  assert.deepEqual(zero.log.views[1].map((v) => Math.round(v * 255)), [1, 101]);
  assert.deepEqual(one.log.views[1].map((v) => Math.round(v * 255)), [200, 50]);
  for (const c of zero.log.contexts) assert.equal(c.replicas, zero.replicas);
  assert.deepEqual(zero.log.contexts.map((c) => [c.step, c.progress]), [[0, 0], [1, 1 / 3], [
    2,
    2 / 3,
  ]]);
  // the same PRNG on every rank; rank r adds r * 104729
  const prng = pcg32(9);
  const base = [tensorSeed(prng), tensorSeed(prng), tensorSeed(prng)];
  assert.deepEqual(zero.log.seeds, base);
  assert.deepEqual(one.log.seeds, base.map((s) => (s + 104729) % 0x7fffffff));
  // the update uses the reduced gradient (g + 1) / 2 with g = w - t
  let w = [0, 0];
  for (let s = 0; s < 3; s++) {
    const g = w.map((v, i) => v - TARGET[i]);
    assert.deepEqual(
      zero.calls.grads[s].map((x) => Math.round(x * 1e5) / 1e5),
      g.map((x) => Math.round(x * 1e5) / 1e5),
    );
    const reduced = g.map((x) => (x + 1) / 2);
    const record = zero.r.history[s];
    assert.ok(Math.abs((record.gradNorm as number) - Math.hypot(...reduced)) < 1e-5, `norm ${s}`);
    // the figures recorded are the reduced ones: [loss, m] * 10
    const loss = 0.5 * g.reduce((a, x) => a + x * x, 0);
    assert.ok(Math.abs((record.loss as number) - 10 * loss) < 1e-4, `loss ${s}`);
    assert.equal(record.m, 30);
    assert.equal(zero.calls.numbers[s].length, 2);
    w = w.map((v, i) => v - 0.1 * reduced[i]);
  }
  zero.w.forEach((v, i) => assert.ok(Math.abs(v - w[i]) < 1e-5));
});

Deno.test("train data-parallel: only rank 0 writes run files, evaluates and checkpoints", async () => {
  for (const rank of [0, 1]) {
    const dir = await Deno.makeTempDir();
    try {
      const log: Log = { views: [], seeds: [], contexts: [] };
      const { dp } = scripted(rank, 2);
      const nets = { w: tf.variable(tf.tensor1d([0, 0])) };
      let evaluated = 0;
      const r = await train({ method: quadratic(log), nets, state: {} }, batches(), {
        steps: 2,
        checkpointEvery: 1,
        outDir: dir,
        progress: false,
        evaluate: () => Promise.resolve({ top1: ++evaluated }),
        distributed: dp,
      });
      nets.w.dispose();
      const files: string[] = [];
      for await (const e of Deno.readDir(dir)) files.push(e.name);
      if (rank === 0) {
        assert.ok(files.includes("metrics.jsonl") && files.includes("checkpoint"), `${files}`);
        assert.equal(evaluated, 1);
        assert.equal(r.checkpoint, `${dir}/checkpoint`);
      } else {
        assert.deepEqual(files, [], "rank 1 writes nothing");
        assert.equal(evaluated, 0);
        assert.equal(r.checkpoint, null);
      }
      assert.equal(r.steps, 2);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});
