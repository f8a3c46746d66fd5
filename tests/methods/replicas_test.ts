/**
 * The data-parallel branches of the method steps (`context.replicas`), in one process: a world
 * of two ranks is simulated by running each rank's step with an `allGather` that answers with
 * the other rank's inputs recorded in the previous round (zeros before), until every rank has
 * seen the others' true inputs. Each rank's loss is then checked against the documented global
 * loss recomputed in float64 from both ranks' nets outputs. The mpirun tests in tests/distributed
 * check the same end to end but are slow and need MPI; these run in seconds.
 *
 * @module
 */
import assert from "node:assert/strict";
import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { moco, simclr, swav } from "../../methods/mod.ts";
import type { Replicas, StepContext, StepResult } from "../../methods/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import {
  dot,
  logSumExp,
  type Matrix,
  normalize,
  refMoco,
  refNtXent,
  refSwav,
} from "../losses/_reference.ts";
import { mocoV3Toy, seededImages, toyEncoder } from "./_helpers.ts";

await setupBackend();

const AT: StepContext = { progress: 0, step: 0, epoch: 0 };
const TOL = { rtol: 1e-4, atol: 1e-5 };
const IMG: [number, number, number] = [6, 6, 1];

const view = seededImages;

function forward(encoder: tfl.LayersModel, heads: tfl.LayersModel[], x: tf.Tensor4D): Matrix {
  return tf.tidy(() => {
    let y = encoder.apply(x, { training: true }) as tf.Tensor;
    for (const head of heads) y = head.apply(y, { training: true }) as tf.Tensor;
    return y.arraySync() as Matrix;
  });
}

/** What a test reads from one rank's step, as plain numbers (the step's tensors are freed). */
type Read<T> = (r: StepResult<unknown>) => T;

/**
 * Runs `step(rank, replicas)` for every rank of a world of `size`, `rounds` times; allGather's
 * call i returns the ranks' call-i inputs in rank order, the other ranks' from the latest round
 * (zeros in the first). Returns each rank's reading of its last round and the allGather count.
 */
function simulate<T>(
  size: number,
  step: (rank: number, replicas: Replicas) => StepResult<unknown>,
  read: Read<T>,
  options: { rounds?: number; gatherNegatives?: boolean } = {},
): { results: T[]; gathers: number } {
  const { rounds = 3, gatherNegatives = true } = options;
  let seen: tf.Tensor[][] = Array.from({ length: size }, () => []);
  const results: T[] = [];
  let gathers = 0;
  for (let round = 0; round < rounds; round++) {
    const next: tf.Tensor[][] = [];
    for (let rank = size - 1; rank >= 0; rank--) {
      const mine: tf.Tensor[] = [];
      const replicas: Replicas = {
        rank,
        size,
        gatherNegatives,
        allGather: <X extends tf.Tensor>(x: X): X => {
          const i = mine.length;
          mine.push(tf.keep(x.clone()));
          const parts = Array.from(
            { length: size },
            (_, r) => r === rank ? x : seen[r][i] ?? tf.zerosLike(x),
          );
          return tf.concat(parts, 0) as X;
        },
      };
      const r = step(rank, replicas);
      results[rank] = read(r);
      tf.dispose([r.loss, ...Object.values(r.metrics)]);
      next[rank] = mine;
      gathers = mine.length;
    }
    seen.flat().forEach((t) => t.dispose());
    seen = next;
  }
  seen.flat().forEach((t) => t.dispose());
  return { results, gathers };
}

/** Softmax CE of rows against labels, mean. */
function crossEntropy(logits: Matrix, labels: number[]): number {
  return logits.reduce((s, row, i) => s + logSumExp(row) - row[labels[i]], 0) / logits.length;
}

const argmax = (row: number[]) => row.indexOf(Math.max(...row));

Deno.test("simclr data-parallel: with gatherNegatives every rank's loss is NT-Xent over both ranks' rows; without, its own rows only", () => {
  const setup = simclr({
    encoder: toyEncoder(IMG, 8, 41),
    inputShape: IMG,
    seed: 1,
    temperature: 0.4,
    projectionDim: 6,
    hiddenDim: 12,
  });
  const { encoder, head } = setup.nets;
  const views = [0, 1].map((r) => [view([4, ...IMG], 50 + 2 * r), view([4, ...IMG], 51 + 2 * r)]);
  // shared BatchNorm per rank: both views of a rank as one batch
  const z = views.map((v) => {
    const both = tf.concat(v, 0) as tf.Tensor4D;
    const rows = forward(encoder, [head], both);
    both.dispose();
    return [rows.slice(0, 4), rows.slice(4)];
  });
  const global = refNtXent([...z[0][0], ...z[1][0]], [...z[0][1], ...z[1][1]], 0.4);
  const run = (gatherNegatives: boolean) =>
    simulate(
      2,
      (rank, replicas) =>
        setup.method.step(setup.nets, views[rank], setup.state, { ...AT, replicas }),
      (r) => r.loss.dataSync()[0],
      { gatherNegatives },
    );
  const gathered = run(true);
  assert.equal(gathered.gathers, 2, "z1 and z2 gathered");
  gathered.results.forEach((loss, rank) =>
    assertTensorClose(loss, global, TOL, `rank ${rank} with gatherNegatives:`)
  );
  const local = run(false);
  assert.equal(local.gathers, 0);
  local.results.forEach((loss, rank) =>
    assertTensorClose(loss, refNtXent(z[rank][0], z[rank][1], 0.4), TOL, `rank ${rank} local:`)
  );
  tf.dispose(views.flat());
});

Deno.test("moco v3 data-parallel: ctr against every rank's keys, query i's positive at rank * n + i; top1 likewise", () => {
  const temperature = 0.3;
  const setup = mocoV3Toy(IMG, 43, temperature);
  const n = setup.nets;
  const views = [0, 1].map((r) => [view([4, ...IMG], 60 + 2 * r), view([4, ...IMG], 61 + 2 * r)]);
  const q = views.map((v) => v.map((x) => forward(n.encoder, [n.projector, n.predictor!], x)));
  const k = views.map((v) => v.map((x) => forward(n.keyEncoder, [n.keyProjector], x)));
  const keysOf = (viewIndex: number) => [...k[0][viewIndex], ...k[1][viewIndex]].map(normalize);
  const logitsOf = (qs: Matrix, ks: Matrix) =>
    qs.map(normalize).map((qi) => ks.map((kj) => dot(qi, kj) / temperature));
  const { results, gathers } = simulate(
    2,
    (rank, replicas) => setup.method.step(n, views[rank], setup.state, { ...AT, replicas }),
    (r) => [r.loss.dataSync()[0], r.metrics.top1.dataSync()[0]],
  );
  assert.equal(gathers, 2, "k1 and k2 gathered");
  results.forEach(([loss, top1], rank) => {
    const labels = [0, 1, 2, 3].map((i) => rank * 4 + i);
    const a = logitsOf(q[rank][0], keysOf(1)), c = logitsOf(q[rank][1], keysOf(0));
    const want = 2 * temperature * (crossEntropy(a, labels) + crossEntropy(c, labels));
    assertTensorClose(loss, want, TOL, `rank ${rank} loss:`);
    const hits = a.filter((row, i) => argmax(row) === labels[i]).length / 4;
    assertTensorClose(top1, hits, { rtol: 0, atol: 1e-6 }, `rank ${rank} top1:`);
  });
  tf.dispose(views.flat());
});

Deno.test("moco v2 data-parallel: a rank's keys and queue push equal one process's with splits x ranks sub-batches on the global batch", () => {
  const make = (shuffleBnSplits: number) =>
    moco({
      encoder: toyEncoder(IMG, 8, 45),
      inputShape: IMG,
      seed: 4,
      version: 2,
      temperature: 0.25,
      queueSize: 16,
      shuffleBnSplits,
      projectionDim: 6,
      hiddenDim: 12,
    });
  const ranks = make(2), single = make(4);
  for (const key of ["encoder", "projector", "keyEncoder", "keyProjector"] as const) {
    single.nets[key].setWeights(ranks.nets[key].getWeights());
  }
  const views = [0, 1].map((r) => [view([4, ...IMG], 70 + 2 * r), view([4, ...IMG], 71 + 2 * r)]);
  const step = 3;
  // the single process: the two ranks' batches as one, four shuffle-BN groups (pinned elsewhere)
  const globalViews = [0, 1].map((i) => tf.concat([views[0][i], views[1][i]], 0) as tf.Tensor4D);
  const s = single.method.step(single.nets, globalViews, single.state, { ...AT, step });
  const globalKeys = s.state.keys!.arraySync();
  tf.dispose([s.loss, s.state.keys!, ...Object.values(s.metrics), ...globalViews]);
  const queue = ranks.state.queue!.arraySync();
  const { results, gathers } = simulate(
    2,
    (rank, replicas) =>
      ranks.method.step(ranks.nets, views[rank], ranks.state, { ...AT, step, replicas }),
    (r) => {
      const st = r.state as { keys: tf.Tensor2D };
      const keys = st.keys.arraySync();
      st.keys.dispose();
      return { loss: r.loss.dataSync()[0], keys };
    },
  );
  assert.equal(gathers, 2, "the key views and the keys gathered");
  results.forEach(({ loss, keys }, rank) => {
    assertTensorClose(keys, globalKeys, TOL, `rank ${rank} queue push:`);
    // queries: the rank's own batch in two contiguous BN groups
    const x = views[rank][0];
    const q = [0, 2].flatMap((b) => {
      const part = tf.slice(x, b, 2) as tf.Tensor4D;
      const rows = forward(ranks.nets.encoder, [ranks.nets.projector], part);
      part.dispose();
      return rows;
    });
    const own = globalKeys.slice(rank * 4, rank * 4 + 4);
    assertTensorClose(loss, refMoco(q, own, queue, 0.25), TOL, `rank ${rank} loss:`);
  });
  tf.dispose([...views.flat(), ranks.state.queue!, single.state.queue!]);
});

Deno.test("swav data-parallel: Sinkhorn and the swapped prediction over both ranks' scores; the queue receives both ranks' embeddings", () => {
  const setup = swav({
    encoder: toyEncoder(IMG, 8, 47),
    inputShape: IMG,
    seed: 6,
    preset: "small",
    prototypes: 5,
    globalCrops: 2,
    localCrops: 1,
    localSize: IMG[0],
    temperature: 0.2,
    epsilon: 0.07,
    sinkhornIterations: 4,
    queueLength: 32,
    queueStartEpoch: 0,
    projectionDim: 6,
    hiddenDim: 12,
  });
  const n = setup.nets;
  const views = [0, 1].map((r) => [0, 1, 2].map((i) => view([4, ...IMG], 80 + 3 * r + i)));
  const c = n.prototypes.getWeights()[0].arraySync() as Matrix; // [d, K]
  const z = views.map((v) => v.map((x) => forward(n.encoder, [n.projector], x).map(normalize)));
  const scores = (zs: Matrix) =>
    zs.map((zi) => c[0].map((_, k) => zi.reduce((s, zd, d) => s + zd * c[d][k], 0)));
  const global = [0, 1, 2].map((i) => scores([...z[0][i], ...z[1][i]]));
  const want = refSwav(global.slice(0, 2), global.slice(2), 0.2, 4, 0.07);
  const { results } = simulate(
    2,
    (rank, replicas) => setup.method.step(n, views[rank], setup.state, { ...AT, replicas }),
    (r) => {
      const pending = (r.state as { pending: tf.Tensor2D[] }).pending;
      const rows = pending.map((p) => p.arraySync());
      tf.dispose(pending);
      return { loss: r.loss.dataSync()[0], pending: rows };
    },
  );
  results.forEach(({ loss, pending }, rank) => {
    assertTensorClose(loss, want, TOL, `rank ${rank} loss:`);
    assert.equal(pending.length, 2, "the global crops' embeddings are queued");
    pending.forEach((rows, i) =>
      assertTensorClose(rows, [...z[0][i], ...z[1][i]], TOL, `rank ${rank} queued crop ${i}:`)
    );
  });
  tf.dispose(views.flat());
});
