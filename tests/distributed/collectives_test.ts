/**
 * The distributed building blocks in one process, no MPI: synchronized batch norm in a world of
 * one equals tfjs-layers' own BatchNormalization (outputs, gradients, moving statistics); a fake
 * world of two ranks whose partner holds the same values checks the bucketed all-reduce's mean,
 * the shard rows, the all-gather and its gradient, and the text broadcast; option and library
 * errors say what is wrong.
 */
import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import {
  allReduceMean,
  broadcastText,
  dataParallel,
  initWorld,
  MpiUnavailableError,
  syncBatchNorm,
  transportWorld,
  type World,
} from "../../distributed/mod.ts";

await setupBackend();
const TOL = { rtol: 1e-5, atol: 1e-6 };

/**
 * Rank `rank` of two over a fake transport whose partner holds exactly this rank's values: a sum
 * doubles, a gather repeats. The tensor collectives on top are the real ones.
 */
function mirroredWorld(rank: number): World {
  return transportWorld({
    rank,
    size: 2,
    sumInPlace: (v) => v.forEach((x, i) => v[i] = 2 * x),
    broadcastInPlace: () => {},
    gather: (v) => Float32Array.from([...v, ...v]),
    barrier: () => {},
  });
}

function bnModel(seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [3, 3, 2] });
  const conv = tfl.layers.conv2d({
    filters: 4,
    kernelSize: 3,
    padding: "same",
    kernelInitializer: tfl.initializers.glorotUniform({ seed }),
  }).apply(input) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(
    conv,
  ) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: bn });
}

for (
  const [label, world] of [["one rank", initWorld({ mpi: "never" })], [
    "two mirrored ranks",
    mirroredWorld(1),
  ]] as const
) {
  Deno.test(`syncBatchNorm over ${label} equals tfjs-layers' BatchNormalization on one batch`, () => {
    // two ranks with the same rows: global statistics = this batch's, and the gradients through
    // the all-reduced sums (summed over ranks backward) = one process's on this batch
    const plain = bnModel(7), synced = bnModel(7);
    assert.equal(syncBatchNorm({ nets: [synced] }, world), 1);
    // a shifted, scaled input: the variance formula matters
    const x = tf.tidy(() =>
      tf.add(tf.mul(tf.randomNormal([5, 3, 3, 2], 0, 1, "float32", 3), 3), 2)
    );
    const run = (m: tfl.LayersModel) => {
      const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(tf.sin(m.apply(x, { training: true }) as tf.Tensor))) as tf.Scalar,
        vars,
      );
      const out = { value, grads: vars.map((v) => grads[v.name]) };
      return out;
    };
    const a = run(plain), b = run(synced);
    assertTensorClose(b.value, a.value, TOL, "loss");
    a.grads.forEach((g, i) => assertTensorClose(b.grads[i], g, TOL, `gradient ${i}`));
    // moving mean and variance (non-trainable weights) updated alike
    plain.nonTrainableWeights.forEach((w, i) =>
      assertTensorClose(synced.nonTrainableWeights[i].read(), w.read(), TOL, w.name)
    );
    // inference is untouched
    const pa = plain.apply(x, { training: false }) as tf.Tensor;
    const pb = synced.apply(x, { training: false }) as tf.Tensor;
    assertTensorClose(pb, pa, TOL, "inference");
    tf.dispose([x, a.value, b.value, ...a.grads, ...b.grads, pa, pb]);
    plain.dispose();
    synced.dispose();
  });
}

Deno.test("allReduceMean: buckets of any size give every rank the mean; nulls stay null", () => {
  const world = mirroredWorld(1);
  const tensors: (tf.Tensor | null)[] = [
    tf.tensor1d([1, 2, 3]),
    null,
    tf.tensor2d([[4, 5], [6, 7]]),
    tf.scalar(8),
  ];
  for (const bucketBytes of [4, 12, 16, 28, 1 << 20]) {
    const out = allReduceMean(world, tensors, { bucketBytes });
    assert.equal(out[1], null);
    // the partner holds the same values: the mean is the value itself
    [0, 2, 3].forEach((i) => {
      assert.deepEqual(out[i]!.shape, tensors[i]!.shape);
      assertTensorClose(out[i]!, tensors[i]!, { rtol: 0, atol: 0 }, `bucket ${bucketBytes}`);
    });
    tf.dispose(out.filter((t): t is tf.Tensor => t !== null));
  }
  assert.throws(() => allReduceMean(world, tensors, { bucketBytes: 3 }), RangeError);
  const ints = tf.tensor1d([1], "int32");
  assert.throws(() => allReduceMean(world, [ints]), /expected float32 tensors, received int32/);
  tf.dispose([ints, ...tensors.filter((t): t is tf.Tensor => t !== null)]);
});

Deno.test("dataParallel: rank r trains on rows r*B..(r+1)*B-1; numbers are averaged", () => {
  const images = tf.tidy(() => tf.reshape(tf.range(0, 8), [8, 1, 1, 1]) as tf.Tensor4D);
  for (const rank of [0, 1]) {
    const dp = dataParallel({ world: mirroredWorld(rank) });
    assert.equal(dp.size, 2);
    const shard = dp.shard(images);
    assert.deepEqual(Array.from(shard.dataSync()), [0, 1, 2, 3].map((i) => 4 * rank + i));
    shard.dispose();
    assert.deepEqual(dp.reduceNumbers([1.5, -2]), [1.5, -2]);
  }
  const dp = dataParallel({ world: mirroredWorld(0) });
  const odd = tf.zeros([5, 1, 1, 1]) as tf.Tensor4D;
  assert.throws(() => dp.shard(odd), /divisible by the 2 ranks, received 5/);
  assert.throws(() => dataParallel({ syncBn: true } as never), /unknown option syncBn/);
  tf.dispose([images, odd]);
});

Deno.test("allGather: rank order forward, the summed gradient of its own rows backward", () => {
  const world = mirroredWorld(1);
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const w = tf.tensor2d([[1, 0], [0, 1], [2, 0], [0, 2]]); // weights rows of rank 0 and rank 1
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(world.allGather(v), w)))(x);
  // each rank's upstream gradient is w, summed over the two ranks (2w), and rank 1 keeps rows 2..3
  assertTensorClose(g, [[4, 0], [0, 4]], { rtol: 0, atol: 0 });
  const h = tf.grad((v: tf.Tensor) =>
    tf.sum(tf.mul(world.allReduceSum(v), tf.tensor2d([[1, 2], [3, 4]])))
  )(x);
  assertTensorClose(h, [[2, 4], [6, 8]], { rtol: 0, atol: 0 }, "allReduceSum gradient");
  const y = world.allGather(x);
  assert.deepEqual(y.shape, [4, 2]);
  assertTensorClose(y, [[1, 2], [3, 4], [1, 2], [3, 4]], { rtol: 0, atol: 0 });
  tf.dispose([x, w, g, h, y]);
});

Deno.test("broadcastText: rank 0's string reaches every rank; non-strings are refused", () => {
  // a world whose root holds "run-7" (the broadcast overwrites what the others hold)
  const sent = new TextEncoder().encode("run-7 ✓");
  const world: World = {
    ...mirroredWorld(1),
    broadcastInPlace: (v) => v.length === 1 ? v.set([sent.length]) : v.set(sent),
  };
  assert.equal(broadcastText("other", world), "run-7 ✓");
  assert.throws(() => broadcastText(7 as never, world), /expected a string, received number/);
});

Deno.test("initWorld names openmpi-bin when no MPI library loads", () => {
  const before = Deno.env.get("SELFSUP_MPI");
  Deno.env.set("SELFSUP_MPI", "/nonexistent/libmpi.so.40");
  try {
    assert.throws(
      () => initWorld({ mpi: "always" }),
      (e: unknown) =>
        e instanceof MpiUnavailableError && /apt-get install openmpi-bin/.test(e.message),
    );
  } finally {
    if (before === undefined) Deno.env.delete("SELFSUP_MPI");
    else Deno.env.set("SELFSUP_MPI", before);
  }
  assert.throws(() => initWorld({ mpi: "sometimes" as never }), RangeError);
  assert.equal(initWorld({ mpi: "never" }).size, 1);
});
