/**
 * The estimate printed before a protocol run (and by `--estimate`): the probe's step times on a
 * few lines of the run's data, and the wall time of every stage at the planned sizes.
 *
 * @module
 */
import { withSeed } from "../backend/with_seed.ts";
import { formatDuration } from "../train/mod.ts";
import type { World } from "../distributed/mod.ts";
import type { ProtocolData } from "./_protocol_data.ts";
import type { Plan } from "./_protocol_plan.ts";
import { buildEncoder, buildHead } from "./_protocol_stages.ts";
import {
  estimateStages,
  probeStepTimes,
  type StageEstimate,
  type StepTimes,
} from "./_protocol_probe.ts";

/** Prints the probe's step times and the estimated wall time; returns the stage estimates. */
export async function estimate(
  p: Plan,
  data: ProtocolData,
  world: World | null,
  print: (line: string) => void,
  dataSecondsPerLine: number,
): Promise<{ stages: StageEstimate[]; times: StepTimes }> {
  const ranks = world?.size ?? 1;
  const batch = (p.o.pretrainBatch as number) * ranks;
  const t0 = performance.now();
  const seed = p.seeds[0];
  const times = await probeStepTimes(data, {
    encoder: () => buildEncoder(p, data.shape, seed),
    head: (dim) => withSeed(seed + 1, () => buildHead(p, data, dim)),
  }, {
    methods: p.methods,
    pretrainBatch: batch,
    batchSize: p.o.batchSize as number,
    seed,
  });
  const pretrainSteps = Math.max(
    1,
    Math.round(p.epochs.pretrain * Math.floor(p.sizes.unlabeled / batch)),
  );
  const stages = estimateStages({
    seeds: p.seeds,
    methods: p.methods,
    pretrainSteps,
    labeledSizes: p.labeledSizes,
    batchSize: p.o.batchSize as number,
    epochs: p.epochs,
    test: p.sizes.test,
  }, times);
  // rendering the three sets comes first
  const lines = p.sizes.unlabeled + p.sizes.labeled + p.sizes.test;
  stages.unshift({ key: "data", seconds: lines * dataSecondsPerLine });
  const total = stages.reduce((a, s) => a + s.seconds, 0);
  const share = times.cpuShare;
  print(
    `probe (${((performance.now() - t0) / 1000).toFixed(1)} s): pretraining step of ${batch} ${
      p.methods.map((m) => `${m} ${times.pretrain[m].toFixed(2)} s`).join(", ")
    }; labeled step of ${p.o.batchSize}: head ${times.head.toFixed(3)} s, whole network ${
      times.whole.toFixed(3)
    } s; scoring ${(1000 * times.evalPerImage).toFixed(1)} ms per test image; data ${
      (1000 * dataSecondsPerLine).toFixed(1)
    } ms per line` +
      (share !== null ? `; CPU share ${share.toFixed(2)}` : ""),
  );
  const pre = stages.filter((s) => s.key.includes(" pretrain ")).reduce((a, s) => a + s.seconds, 0);
  print(
    `estimated wall time: ${formatDuration(total)} at the current load (data ${
      formatDuration(stages[0].seconds)
    }, stage 1 ${formatDuration(pre)}, labeled arms ${
      formatDuration(total - pre - stages[0].seconds)
    }; ${p.seeds.length} seed(s), ${pretrainSteps} ` +
      `pretraining steps per method, arms at ${p.labeledSizes.join(", ")})` +
      (share !== null && share > 0 && share < 0.95
        ? `; about ${formatDuration(total * share)} alone on one core (the probe got ${
          Math.round(100 * share)
        }% of a core)`
        : ""),
  );
  return { stages, times };
}
