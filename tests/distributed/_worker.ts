/**
 * One data-parallel training run for the distributed tests, as a process: under `mpirun -np N`
 * each rank trains on its shard of every global batch; without mpirun (`--single`) one process
 * trains on the whole global batch. Rank 0 (or the single process) writes the trainable weights
 * and losses as JSON to `--out`. Views are a deterministic function of the images (the identity),
 * so both runs see the same views of each image.
 *
 * With `--default-distributed` the run passes no `distributed` option, so `train()` picks its
 * default (data-parallel with `dataParallel()` under mpirun with more than one rank). Each method's
 * output also records, per step, the batch size `method.step` saw and the rank count in its step
 * context (`replicas.size`, null without one).
 *
 * deno run -A tests/distributed/_worker.ts --method simclr,moco-v2,simsiam --global-batch 8 --steps 5 \
 *   --out w.json [--single | --default-distributed]
 */
import { parseArgs } from "node:util";
import { tf } from "../../backend/tf.ts";
import { useBackend } from "../../backend/use_backend.ts";
import { createMethod } from "../../methods/mod.ts";
import { pcg32 } from "../../data/prng.ts";
import { train } from "../../train/train.ts";
import { dataParallel, initWorld } from "../../distributed/mod.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    method: { type: "string", default: "simclr" },
    "global-batch": { type: "string", default: "8" },
    steps: { type: "string", default: "5" },
    out: { type: "string" },
    single: { type: "boolean", default: false },
    "default-distributed": { type: "boolean", default: false },
    "no-sync-bn": { type: "boolean", default: false },
    "no-gather": { type: "boolean", default: false },
    "run-dir": { type: "string" },
    "checkpoint-every": { type: "string", default: "0" },
    resume: { type: "boolean", default: false },
    "step-delay-ms": { type: "string", default: "0" },
    lr: { type: "string", default: "0.01" },
    "bucket-bytes": { type: "string" },
    "pid-dir": { type: "string" },
  },
});
await useBackend((Deno.env.get("SELFSUP_TEST_BACKEND") ?? "cpu") as "cpu");
const globalBatch = Number(args["global-batch"]);
const steps = Number(args.steps);
const world = initWorld({ mpi: args.single ? "never" : "always" });
if (args["pid-dir"]) {
  await Deno.writeTextFile(`${args["pid-dir"]}/rank${world.rank}.pid`, `${Deno.pid}`);
}

const identity = (x: tf.Tensor4D) => tf.clone(x);
const delay = Number(args["step-delay-ms"]);
const out: Record<
  string,
  {
    weights: number[][];
    initial: number[][];
    losses: number[];
    startStep: number;
    stepBatches: number[];
    stepReplicas: (number | null)[];
  }
> = {};
for (const method of (args.method as string).split(",")) {
  const name = method as Parameters<typeof createMethod>[0];
  const extra: Record<string, unknown> = method === "moco-v2"
    // one process: 2 shuffle-BN splits of the global batch; data-parallel: 1 per rank (of 2)
    ? { queueSize: 4 * globalBatch, shuffleBnSplits: args.single ? 2 : 1, momentum: 0.9 }
    : method === "simsiam"
    ? { projectionDim: 16, hiddenDim: 8 }
    : method === "swav"
    // a queue of 2 steps' embeddings, used from the third step; prototypes learn from step 1
    ? {
      prototypes: 6,
      localCrops: 0,
      queueLength: 2 * globalBatch,
      queueStartEpoch: 0,
      freezePrototypesIterations: 0,
    }
    : {};
  const setup = createMethod(name, {
    encoder: "convnet",
    inputShape: [8, 8, 1],
    seed: 3,
    widths: [4, 8],
    augment: identity,
    projectionDim: 8,
    hiddenDim: 16,
    ...extra,
  } as never);
  // SwAV's crops are random resized crops: two identity views instead, as for the others
  if (method === "swav") {
    setup.method = { ...setup.method, views: (x) => [identity(x), identity(x)] };
  }
  // what each step saw: its batch (the rank's shard under data parallelism) and its rank count
  const stepBatches: number[] = [];
  const stepReplicas: (number | null)[] = [];
  const step = setup.method.step;
  setup.method = {
    ...setup.method,
    step: (nets, views, state, context) => {
      stepBatches.push(views[0].shape[0]);
      stepReplicas.push(context.replicas?.size ?? null);
      return step(nets, views, state, context);
    },
  };
  const initial = setup.method.trainable(setup.nets).map((v) => Array.from(v.dataSync()));
  const prng = pcg32(11);
  const batches = Array.from({ length: steps }, () => {
    const bytes = Uint8Array.from({ length: globalBatch * 64 }, () => Math.floor(prng() * 256));
    return { images: bytes, shape: [globalBatch, 8, 8, 1] as [number, number, number, number] };
  });
  const result = await train(setup, (position) => {
    let next = (position as { next?: number } | null)?.next ?? 0;
    return {
      async *[Symbol.asyncIterator]() {
        while (next < batches.length) {
          if (delay > 0) await new Promise((r) => setTimeout(r, delay));
          yield batches[next++];
        }
      },
      position: () => ({ next }),
    };
  }, {
    steps,
    // MoCo v3 (predictor, tau 1) amplifies float32 rounding ~5x per step at lr 0.01 (1e-5 after
    // 5 steps): a smaller rate keeps the comparison about the reduction, not about chaos
    lr: method === "moco-v3" ? Number(args.lr) * 0.3 : Number(args.lr),
    schedule: "constant",
    progress: false,
    outDir: args["run-dir"],
    checkpointEvery: Number(args["checkpoint-every"]),
    resume: args.resume,
    ...(args["default-distributed"] ? {} : {
      distributed: args.single ? null : dataParallel({
        world,
        // MoCo's shuffle-BN keeps per-rank statistics (as the paper's); the others normalize
        // over the global batch, as one process on it does
        syncBatchNorm: method !== "moco-v2" && !args["no-sync-bn"],
        gatherNegatives: !args["no-gather"],
        ...(args["bucket-bytes"] ? { bucketBytes: Number(args["bucket-bytes"]) } : {}),
      }),
    }),
  });
  out[method] = {
    weights: setup.method.trainable(setup.nets).map((v) => Array.from(v.dataSync())),
    initial,
    losses: result.history.map((r) => Number(r.loss)),
    startStep: result.steps - result.history.length,
    stepBatches,
    stepReplicas,
  };
}
if (world.rank === 0 && args.out) await Deno.writeTextFile(args.out, JSON.stringify(out));
