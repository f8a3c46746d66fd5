/**
 * Data-parallel scaling: training throughput under `mpirun -np 1` and `-np 2` (one BLAS thread
 * per rank), the time each step spends averaging gradients, and the all-reduce bandwidth for a
 * buffer the size of ResNet-18's gradients. The runs alternate (np 1, np 2, np 1, np 2) so both
 * see the same load. A script, not a Deno.bench file: it launches mpirun itself.
 *
 *   deno run -A bench/distributed_scaling.ts [--batch 64] [--steps 12] [--rounds 2] [--yield]
 *
 * The step: the default pretraining recipe's SimCLR on 28x28x1 images (ConvNet 16-32-64,
 * NT-Xent over the gathered global batch), native backend, `--batch` images per rank.
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    child: { type: "boolean", default: false },
    batch: { type: "string", default: "64" },
    steps: { type: "string", default: "12" },
    rounds: { type: "string", default: "2" },
    /** Open MPI's waiting ranks yield the core instead of spinning (mpi_yield_when_idle). */
    yield: { type: "boolean", default: false },
  },
});

interface ChildReport {
  ranks: number;
  batchPerRank: number;
  /** Median images per second over the timed steps (global batch / step time). */
  imagesPerSecond: number;
  /** Median step time, ms. */
  stepMs: number;
  /** Median time in the gradient all-reduce per step, ms. */
  allReduceMs: number;
  /** Median wait at a barrier before it (the ranks' skew), ms. */
  waitMs: number;
  /** Floats all-reduced per step (the trainable weights). */
  gradientFloats: number;
  /** ResNet-18 (CIFAR stem) trainable floats. */
  resnet18Floats: number;
  /** Median time to all-reduce ResNet-18's gradients once, ms. */
  resnet18AllReduceMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function child(): Promise<void> {
  const { tf } = await import("../backend/tf.ts");
  const { useBackend } = await import("../backend/use_backend.ts");
  const { createMethod } = await import("../methods/mod.ts");
  const { resnet18 } = await import("../models/mod.ts");
  const { train } = await import("../train/train.ts");
  const { pcg32 } = await import("../data/prng.ts");
  const { dataParallel, initWorld } = await import("../distributed/mod.ts");
  const world = initWorld({ mpi: "always" });
  await useBackend("native", { quiet: true });
  const batch = Number(args.batch), steps = Number(args.steps), warmup = 2;
  const setup = createMethod("simclr", {
    encoder: "convnet",
    inputShape: [28, 28, 1],
    seed: 0,
    widths: [16, 32, 64],
  });
  const global = batch * world.size;
  const prng = pcg32(1);
  const images = Uint8Array.from({ length: global * 784 }, () => Math.floor(prng() * 256));
  const batches = Array.from({ length: warmup + steps }, () => ({
    images,
    shape: [global, 28, 28, 1] as [number, number, number, number],
  }));
  const dp = dataParallel({ world });
  const reduceMs: number[] = [], waitMs: number[] = [];
  const timed = {
    ...dp,
    reduceGradients(grads: (InstanceType<typeof tf.Tensor> | null)[]) {
      // the wait for the slower rank, then the all-reduce itself
      const t0 = performance.now();
      world.barrier();
      const t1 = performance.now();
      const out = dp.reduceGradients(grads);
      waitMs.push(t1 - t0);
      reduceMs.push(performance.now() - t1);
      return out;
    },
  };
  const stepMs: number[] = [];
  let last = performance.now();
  await train(setup, batches, {
    steps: warmup + steps,
    lr: 0.06,
    progress: false,
    distributed: timed,
    onStep: () => {
      const now = performance.now();
      stepMs.push(now - last);
      last = now;
    },
  });
  const gradientFloats = setup.method.trainable(setup.nets).reduce((s, v) => s + v.size, 0);
  const net = resnet18({ inputShape: [32, 32, 3] });
  const resnet18Floats = net.trainableWeights.reduce(
    (s, w) => s + w.read().size,
    0,
  );
  net.dispose();
  const buffer = new Float32Array(resnet18Floats).fill(1);
  const arMs: number[] = [];
  for (let i = 0; i < 6; i++) {
    world.barrier();
    const t0 = performance.now();
    world.sumInPlace(buffer);
    arMs.push(performance.now() - t0);
  }
  const t = stepMs.slice(warmup);
  const report: ChildReport = {
    ranks: world.size,
    batchPerRank: batch,
    imagesPerSecond: global / (median(t) / 1000),
    stepMs: median(t),
    allReduceMs: median(reduceMs.slice(warmup)),
    waitMs: median(waitMs.slice(warmup)),
    gradientFloats,
    resnet18Floats,
    resnet18AllReduceMs: median(arMs.slice(1)),
  };
  if (world.rank === 0) console.log(`REPORT ${JSON.stringify(report)}`);
}

async function driver(): Promise<void> {
  const uptime = async () =>
    new TextDecoder().decode((await new Deno.Command("uptime").output()).stdout).trim();
  const rows: (ChildReport & { load: string })[] = [];
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const np of [1, 2]) {
      const load = await uptime();
      const { code, stdout, stderr } = await new Deno.Command("mpirun", {
        args: [
          "--allow-run-as-root",
          "--oversubscribe",
          "-np",
          String(np),
          "-x",
          "SELFSUP_THREADS=1",
          Deno.execPath(),
          "run",
          "-A",
          new URL(import.meta.url).pathname,
          "--child",
          "--batch",
          args.batch!,
          "--steps",
          args.steps!,
        ],
        env: {
          SELFSUP_THREADS: "1",
          ...(args.yield ? { OMPI_MCA_mpi_yield_when_idle: "1" } : {}),
        },
      }).output();
      const out = new TextDecoder().decode(stdout);
      const line = out.split("\n").find((l) => l.startsWith("REPORT "));
      if (code !== 0 || !line) {
        throw new Error(
          `mpirun -np ${np} failed (${code}):\n${out}${new TextDecoder().decode(stderr)}`,
        );
      }
      const report = JSON.parse(line.slice(7)) as ChildReport;
      rows.push({ ...report, load: load.replace(/.*load average: /, "") });
      console.log(
        `np ${np}: ${report.imagesPerSecond.toFixed(1)} images/s (global batch ${
          report.batchPerRank * np
        }), step ${report.stepMs.toFixed(0)} ms, gradient all-reduce ${
          report.allReduceMs.toFixed(2)
        } ms for ${report.gradientFloats} floats (after ${
          report.waitMs.toFixed(1)
        } ms waiting for the slower rank); ResNet-18 gradients (${report.resnet18Floats} floats, ${
          (report.resnet18Floats * 4 / 2 ** 20).toFixed(1)
        } MiB) all-reduce ${report.resnet18AllReduceMs.toFixed(1)} ms; load ${rows.at(-1)!.load}`,
      );
    }
  }
  console.log(JSON.stringify(rows));
}

if (import.meta.main) await (args.child ? child() : driver());
