/**
 * The stages of a protocol run: the saved initial nets, stage 1 (self-supervised pretraining of
 * one method) and the labeled arms (head, fine-tune, supervised baseline at one labeled size).
 * Each stage is skipped when its result file exists.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import type * as tfl from "@tensorflow/tfjs-layers";
import { withSeed } from "../backend/with_seed.ts";
import { createMethod } from "../methods/mod.ts";
import type { CreateMethodOptions } from "../methods/mod.ts";
import { Loader } from "../data/mod.ts";
import { mnistAugment, simclrAugment, textAugment } from "../augment/mod.ts";
import {
  formatDuration,
  hasCheckpoint,
  train,
  type TrainOptions,
  treeTensors,
} from "../train/mod.ts";
import { ctcHead, exportEncoder, fineTune, trainSupervised } from "../eval/mod.ts";
import { mlpHead, sequenceEncoder } from "../models/mod.ts";
import { UsageError } from "./_args.ts";
import { prefix, type ProtocolData } from "./_protocol_data.ts";
import { dataParallel } from "../distributed/mod.ts";
import type { ArmRecord, PretrainRecord } from "./_protocol_report.ts";
import type { Plan } from "./_protocol_plan.ts";
import {
  type Context,
  disposeModels,
  exists,
  load,
  readJson,
  stepLosses,
  writeJson,
} from "./_protocol_io.ts";

/** The run's encoder, freshly initialized (call inside `withSeed`). */
export function buildEncoder(
  p: Plan,
  shape: [number, number, number],
  seed: number,
): tfl.LayersModel {
  const [h, w, c] = shape;
  if (p.encoder === "sequence") {
    return sequenceEncoder({ inputShape: [h, w, c], ...(p.widths ? { widths: p.widths } : {}) });
  }
  // the method's own builder makes convnet/resnet18 exactly as pretraining does
  const setup = createMethod("simclr", {
    encoder: p.encoder,
    inputShape: shape,
    seed,
    ...(p.widths ? { widths: p.widths } : {}),
  });
  return setup.encoder;
}

/** The run's head, freshly initialized (call inside `withSeed`). */
export function buildHead(p: Plan, data: ProtocolData, featureDim: number): tfl.LayersModel {
  const hidden = p.o.headHidden as number;
  if (data.task === "sequence") {
    return ctcHead(data.charset!.length, featureDim, { hiddenUnits: hidden });
  }
  return mlpHead(featureDim, [{ units: hidden, after: ["relu"] }, { units: data.numClasses! }], {
    name: "mlp_head",
  });
}

/**
 * The randomly initialized encoder and head, saved once: pretraining starts from this encoder and
 * the baseline from the same weights, so pretraining is the only difference between the arms.
 */
export async function initialModels(
  ctx: Context,
): Promise<{ featureDim: number; sequence: boolean }> {
  const { p, data, dir } = ctx;
  const encDir = `${dir}/init/encoder`, headDir = `${dir}/init/head`;
  if (!(await exists(`${headDir}/model.json`))) {
    // every initializer seeded: the same --seed gives the same nets, hence the same results
    const seed = ctx.seed;
    const encoder = withSeed(seed, () => buildEncoder(p, data.shape, seed));
    const shape = encoder.outputs[0].shape;
    const featureDim = shape[shape.length - 1] as number;
    const head = withSeed(seed + 1, () => buildHead(p, data, featureDim));
    if (data.task === "sequence" && shape.length !== 3) {
      throw new UsageError(
        `--encoder ${p.encoder} gives [B, D] features; text lines need the sequence encoder`,
      );
    }
    await exportEncoder(encoder, encDir);
    await exportEncoder(head, headDir);
    encoder.dispose();
    head.dispose();
  }
  const encoder = await load(encDir);
  const shape = encoder.outputs[0].shape;
  encoder.dispose();
  return { featureDim: shape[shape.length - 1] as number, sequence: shape.length === 3 };
}

/** Stage 1 for one method; skipped when `done.json` exists. */
export async function pretrainStage(
  ctx: Context,
  method: string,
): Promise<PretrainRecord | null> {
  const { p, data, say, world } = ctx;
  const dir = `${ctx.dir}/pretrain-${method}`;
  const done = await readJson<PretrainRecord>(`${dir}/done.json`);
  const key = `seed ${ctx.seed} pretrain ${method}`;
  if (done) {
    say(`stage 1 ${method}: finished earlier (${done.steps} steps), skipped`);
    ctx.finished?.(key, done.seconds, false);
    return done;
  }
  if (ctx.reportOnly) {
    const losses = await stepLosses(`${dir}/metrics.jsonl`).catch(() => [] as number[]);
    if (losses.length > 0) {
      const k = Math.min(10, losses.length);
      const avg = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(4);
      ctx.notes?.push(
        `seed ${ctx.seed} stage 1 ${method}: ${losses.length} steps logged (the last checkpoint ` +
          `holds up to ${p.o.checkpointEvery} fewer), loss ${avg(losses.slice(0, k))} over the ` +
          `first ${k} -> ${avg(losses.slice(-k))} over the last ${k}`,
      );
      ctx.partialPretraining?.push({
        method,
        seed: ctx.seed,
        steps: losses.length,
        epochs: p.epochs.pretrain,
        batchSize: (p.o.pretrainBatch as number) * (world?.size ?? 1),
        lr: p.o.pretrainLr as number,
        finalLoss: losses[losses.length - 1],
        losses,
        seconds: NaN,
        resumed: false,
      });
    }
    return null;
  }
  // under mpirun: --pretrain-batch per rank, the global batch that times the ranks
  const ranks = world?.size ?? 1;
  const lead = (world?.rank ?? 0) === 0;
  const batchSize = (p.o.pretrainBatch as number) * ranks;
  if (batchSize > data.unlabeled.length) {
    throw new UsageError(
      `--unlabeled must hold at least one global pretraining batch (${batchSize}: ${p.o.pretrainBatch} on each of ${ranks} ranks), received ${data.unlabeled.length}`,
    );
  }
  const stepsPerEpoch = Math.floor(data.unlabeled.length / batchSize);
  const steps = Math.max(1, Math.round(p.epochs.pretrain * stepsPerEpoch));
  // any intact checkpoint, also one a save killed between its renames left as checkpoint.step-N
  const resumed = await hasCheckpoint(`${dir}/checkpoint`);
  const augment = data.task === "sequence"
    ? textAugment()
    : data.shape[0] <= 28
    ? mnistAugment()
    : simclrAugment();
  const encoder = await load(`${ctx.dir}/init/encoder`);
  const options: CreateMethodOptions = {
    encoder,
    inputShape: data.shape,
    seed: ctx.seed,
    augment,
  };
  const setup = createMethod(method as Parameters<typeof createMethod>[0], options);
  const lr = p.o.pretrainLr as number;
  say(
    `stage 1 ${method}: ${steps} steps of ${batchSize} (${
      p.epochs.pretrain.toFixed(2)
    } epochs of ${data.unlabeled.length}${
      ranks > 1 ? `; ${ranks} ranks x ${p.o.pretrainBatch}` : ""
    }), SGD momentum ${p.o.momentum} lr ${lr}${resumed ? ", resuming from its checkpoint" : ""}`,
  );
  const trainOptions: TrainOptions<unknown> = {
    steps,
    stepsPerEpoch,
    optimizer: "sgd",
    lr,
    momentum: p.o.momentum as number,
    schedule: "constant",
    weightDecay: 0,
    seed: ctx.seed,
    outDir: dir,
    checkpointEvery: p.o.checkpointEvery as number,
    resume: resumed,
    config: {
      command: "protocol",
      stage: "pretrain",
      method,
      options: p.o,
      ...(world ? { ranks, batchPerRank: p.o.pretrainBatch } : {}),
    },
    progress: !ctx.quiet,
    distributed: world ? dataParallel({ world }) : null,
  };
  const t0 = performance.now();
  const result = await train(
    setup as unknown as Parameters<typeof train>[0],
    (position) =>
      new Loader(data.unlabeled, {
        batchSize,
        seed: ctx.seed,
        epochs: Infinity,
        concurrency: 4,
        ...(position ? { position: position as never } : {}),
      }),
    trainOptions,
  );
  const seconds = (performance.now() - t0) / 1000;
  if (!lead) {
    // the other ranks' part ends here: rank 0 exports the encoder and records the stage
    tf.dispose(
      treeTensors(result.state).filter((t) => !(t instanceof tf.Variable) && !t.isDisposed),
    );
    disposeModels([setup.nets, setup.encoder], new Set());
    return { method, steps: result.steps } as PretrainRecord;
  }
  await exportEncoder(setup.encoder, `${dir}/encoder`);
  const losses = await stepLosses(`${dir}/metrics.jsonl`);
  const record: PretrainRecord = {
    method,
    seed: ctx.seed,
    steps: result.steps,
    epochs: p.epochs.pretrain,
    batchSize,
    lr,
    finalLoss: losses.length > 0 ? losses[losses.length - 1] : NaN,
    losses,
    seconds,
    resumed,
  };
  tf.dispose(
    treeTensors(result.state).filter((t) => !(t instanceof tf.Variable) && !t.isDisposed),
  );
  disposeModels([setup.nets, setup.encoder], new Set());
  await writeJson(`${dir}/done.json`, record);
  say(
    `stage 1 ${method}: done, final loss ${record.finalLoss.toFixed(4)} in ${seconds.toFixed(1)} s`,
  );
  ctx.finished?.(key, seconds, true);
  return record;
}

/** One labeled arm: head, fine-tune or supervised, at one labeled size; skipped when done. */
export async function armStage(
  ctx: Context,
  stage: ArmRecord["stage"],
  method: string | null,
  n: number,
): Promise<ArmRecord | null> {
  const { p, data, say } = ctx;
  const arm = stage === "supervised" ? "supervised" : `ssl-${method}+${stage}`;
  const id = stage === "supervised" ? `supervised-${n}` : `${stage}-${method}-${n}`;
  const file = `${ctx.dir}/arms/${id}.json`;
  const done = await readJson<ArmRecord>(file);
  const key = `seed ${ctx.seed} ${stage}${method ? ` ${method}` : ""} n=${n}`;
  if (done) {
    say(`${arm} n=${n}: finished earlier, skipped`);
    ctx.finished?.(key, done.seconds, false);
    return done;
  }
  if (ctx.reportOnly) return null;
  await Deno.mkdir(`${ctx.dir}/arms`, { recursive: true });
  const encoder = await load(
    stage === "supervised" ? `${ctx.dir}/init/encoder` : `${ctx.dir}/pretrain-${method}/encoder`,
  );
  // the fine-tuning arm starts from the head that stage 2 trained (the source's order)
  const head = await load(
    stage === "fine-tune" ? `${ctx.dir}/arms/head-${method}-${n}/head` : `${ctx.dir}/init/head`,
  );
  const [lr, epochs] = stage === "head"
    ? [p.o.headLr as number, p.epochs.head]
    : stage === "fine-tune"
    ? [p.o.finetuneLr as number, p.epochs.fineTune]
    : [p.o.supervisedLr as number, p.epochs.supervised];
  const batchSize = p.o.batchSize as number;
  say(`${arm} n=${n}: ${epochs} epochs, AdamW lr ${lr}, batch ${batchSize}`);
  const every = Math.max(1, Math.round(epochs / 5));
  const t0 = performance.now();
  const fit = stage === "supervised" ? trainSupervised : fineTune;
  const r = await fit(encoder, head, prefix(data.labeled, n), {
    lr,
    epochs,
    batchSize,
    weightDecay: p.o.weightDecay as number,
    seed: ctx.seed,
    trainEncoder: stage !== "head",
    test: data.test,
    onEpoch: (e, loss) => {
      if (!ctx.quiet && ((e + 1) % every === 0 || e === 0)) {
        const elapsed = (performance.now() - t0) / 1000;
        say(
          `  ${arm} n=${n} epoch ${e + 1}/${epochs}: loss ${loss.toFixed(4)}, ${
            formatDuration(elapsed)
          } so far, stage ETA ${formatDuration((elapsed / (e + 1)) * (epochs - e - 1))}`,
        );
      }
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  if (stage === "head") await exportEncoder(head, `${ctx.dir}/arms/${id}/head`);
  encoder.dispose();
  head.dispose();
  const m = r.metrics!;
  const record: ArmRecord = {
    arm,
    seed: ctx.seed,
    stage,
    method,
    labeled: n,
    fraction: n / data.labeled.length,
    epochs,
    lr,
    batchSize,
    accuracy: m.accuracy,
    cer: m.cer ?? null,
    testCount: m.count,
    losses: r.losses,
    seconds,
  };
  await writeJson(file, record);
  say(
    `${arm} n=${n}: accuracy ${(100 * m.accuracy).toFixed(1)}%${
      m.cer !== undefined ? `, CER ${m.cer.toFixed(3)}` : ""
    } on ${m.count} test images (${seconds.toFixed(1)} s)`,
  );
  ctx.finished?.(key, seconds, true);
  return record;
}
