/**
 * Time estimates of `deno task protocol`: a short timed probe of every kind of step (a
 * pretraining step per method, a labeled step with the encoder frozen and with it training, the
 * evaluation of test images), the estimated seconds of every stage from those step times, and an
 * overall ETA that recalibrates on the stages as they finish.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import type * as tfl from "@tensorflow/tfjs-layers";
import { withSeed } from "../backend/with_seed.ts";
import { createMethod } from "../methods/mod.ts";
import { Loader } from "../data/mod.ts";
import { mnistAugment, simclrAugment, textAugment } from "../augment/mod.ts";
import { formatDuration, train, treeTensors } from "../train/mod.ts";
import { fineTune } from "../eval/mod.ts";
import { prefix, type ProtocolData } from "./_protocol_data.ts";
import { disposeModels } from "./_protocol_io.ts";

/** Measured seconds per step of each kind. */
export interface StepTimes {
  /** Seconds per pretraining step of the global batch, by method. */
  pretrain: Record<string, number>;
  /** Seconds per labeled step (one batch) with the encoder frozen (stage 2). */
  head: number;
  /** Seconds per labeled step training the whole network (stage 3, baseline). */
  whole: number;
  /** Seconds per test image scored. */
  evalPerImage: number;
  /**
   * Process CPU seconds per wall second during the probe (about 1 alone on a core with one
   * thread; lower on a loaded machine); null where the platform does not say.
   */
  cpuShare: number | null;
}

/** The work of a run, as the estimate needs it. */
export interface Workload {
  seeds: readonly number[];
  methods: readonly string[];
  /** Pretraining steps per method and seed. */
  pretrainSteps: number;
  labeledSizes: readonly number[];
  batchSize: number;
  epochs: { head: number; fineTune: number; supervised: number };
  test: number;
}

/** One stage's estimate; `key` names it as the run reports it. */
export interface StageEstimate {
  key: string;
  seconds: number;
}

/**
 * The estimated seconds of every stage, in run order (per seed: pretraining of each method, then
 * at each labeled size the head and fine-tune arms of each method and the baseline).
 *
 * @param w the work of the run
 * @param t measured step times
 * @returns one entry per stage
 */
export function estimateStages(w: Workload, t: StepTimes): StageEstimate[] {
  const out: StageEstimate[] = [];
  const steps = (n: number) => Math.ceil(n / w.batchSize);
  const evalSeconds = w.test * t.evalPerImage;
  for (const seed of w.seeds) {
    for (const m of w.methods) {
      out.push({ key: `seed ${seed} pretrain ${m}`, seconds: w.pretrainSteps * t.pretrain[m] });
    }
    for (const n of w.labeledSizes) {
      for (const m of w.methods) {
        out.push({
          key: `seed ${seed} head ${m} n=${n}`,
          seconds: w.epochs.head * steps(n) * t.head + evalSeconds,
        });
        out.push({
          key: `seed ${seed} fine-tune ${m} n=${n}`,
          seconds: w.epochs.fineTune * steps(n) * t.whole + evalSeconds,
        });
      }
      out.push({
        key: `seed ${seed} supervised n=${n}`,
        seconds: w.epochs.supervised * steps(n) * t.whole + evalSeconds,
      });
    }
  }
  return out;
}

/** Process CPU seconds so far (Linux `/proc/self/stat`), or null. */
function cpuSeconds(): number | null {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second)
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** What the probe needs to build the nets as the run does. */
export interface ProbeNets {
  encoder: () => tfl.LayersModel;
  head: (featureDim: number) => tfl.LayersModel;
}

/**
 * Times a few steps of every kind on the run's own data and nets: `steps` pretraining steps per
 * method after one warm-up step, two epochs of `steps` labeled batches with the encoder frozen
 * and training (the second epoch timed), and the scoring of a few test batches.
 *
 * @param data the run's data
 * @param nets builders of the run's encoder and head
 * @param o methods, batch sizes and seed
 * @returns seconds per step of each kind
 */
export async function probeStepTimes(
  data: ProtocolData,
  nets: ProbeNets,
  o: { methods: readonly string[]; pretrainBatch: number; batchSize: number; seed: number },
  steps = 3,
): Promise<StepTimes> {
  const wall0 = performance.now(), cpu0 = cpuSeconds();
  const pretrain: Record<string, number> = {};
  const augment = data.task === "sequence"
    ? textAugment()
    : data.shape[0] <= 28
    ? mnistAugment()
    : simclrAugment();
  for (const m of o.methods) {
    const encoder = withSeed(o.seed, nets.encoder);
    const setup = createMethod(m as Parameters<typeof createMethod>[0], {
      encoder,
      inputShape: data.shape,
      seed: o.seed,
      augment,
    });
    const ends: number[] = [];
    const result = await train(
      setup as unknown as Parameters<typeof train>[0],
      () =>
        new Loader(data.unlabeled, {
          batchSize: o.pretrainBatch,
          seed: o.seed,
          epochs: Infinity,
          concurrency: 4,
        }),
      {
        steps: steps + 1,
        optimizer: "sgd",
        lr: 1e-4,
        momentum: 0.9,
        schedule: "constant",
        weightDecay: 0,
        seed: o.seed,
        progress: false,
        // rank 0 probes alone under mpirun: no collective steps
        distributed: null,
        onStep: () => ends.push(performance.now()),
      },
    );
    pretrain[m] = (ends[ends.length - 1] - ends[0]) / 1000 / (ends.length - 1);
    tf.dispose(
      treeTensors(result.state).filter((t) => !(t instanceof tf.Variable) && !t.isDisposed),
    );
    disposeModels([setup.nets, setup.encoder], new Set());
  }
  const n = Math.min(data.labeled.length, steps * o.batchSize);
  const testN = Math.min(data.test.length, 4 * o.batchSize);
  const labeled = async (trainEncoder: boolean) => {
    const encoder = withSeed(o.seed, nets.encoder);
    const shape = encoder.outputs[0].shape;
    const head = withSeed(o.seed + 1, () => nets.head(shape[shape.length - 1] as number));
    const marks: number[] = [];
    const t0 = performance.now();
    await fineTune(encoder, head, prefix(data.labeled, n), {
      lr: 1e-4,
      epochs: 2,
      batchSize: o.batchSize,
      seed: o.seed,
      trainEncoder,
      test: prefix(data.test, testN),
      onEpoch: () => marks.push(performance.now()),
    });
    const end = performance.now();
    encoder.dispose();
    head.dispose();
    marks.unshift(t0);
    return {
      step: (marks[2] - marks[1]) / 1000 / Math.ceil(n / o.batchSize),
      evalPerImage: (end - marks[2]) / 1000 / testN,
    };
  };
  const head = await labeled(false);
  const whole = await labeled(true);
  const cpu1 = cpuSeconds();
  const wall = (performance.now() - wall0) / 1000;
  return {
    pretrain,
    head: head.step,
    whole: whole.step,
    evalPerImage: Math.min(head.evalPerImage, whole.evalPerImage),
    cpuShare: cpu0 !== null && cpu1 !== null && wall > 0 ? (cpu1 - cpu0) / wall : null,
  };
}

/** The overall progress of a run against its stage estimates. */
export interface OverallProgress {
  /** Marks a stage finished; `ran` false when it was skipped (finished earlier). */
  finish(key: string, seconds: number, ran: boolean): void;
  /** `overall: 3/25 stages, 12% of the estimated work, ETA 1h20m`. */
  line(): string;
}

/**
 * Tracks the run's stages against their estimates. The ETA is the estimated seconds left,
 * scaled by how the stages run so far compared with their estimates (measured / estimated).
 *
 * @param stages the stage estimates, e.g. from {@linkcode estimateStages}
 * @returns the tracker
 */
export function overallProgress(stages: readonly StageEstimate[]): OverallProgress {
  const estimate = new Map(stages.map((s) => [s.key, s.seconds]));
  const total = stages.reduce((a, s) => a + s.seconds, 0);
  const done = new Set<string>();
  let measured = 0, estimatedRan = 0;
  return {
    finish(key, seconds, ran) {
      if (done.has(key)) return;
      done.add(key);
      if (ran) {
        measured += seconds;
        estimatedRan += estimate.get(key) ?? 0;
      }
    },
    line() {
      const doneEstimate = [...done].reduce((a, k) => a + (estimate.get(k) ?? 0), 0);
      const left = total - doneEstimate;
      const rate = estimatedRan > 0 ? measured / estimatedRan : 1;
      return `overall: ${done.size}/${stages.length} stages, ${
        total > 0 ? Math.round((100 * doneEstimate) / total) : 100
      }% of the estimated work, ETA ${formatDuration(left * rate)}`;
    },
  };
}
