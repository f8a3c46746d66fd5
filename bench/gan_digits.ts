/**
 * Does the DCGAN draw digits? Trains `gan` on MNIST with DCGAN's recipe (`DCGAN_RECIPE`: Adam
 * 2e-4 / beta1 0.5 for both nets, batch 128, one D update then one G update per iteration, the
 * paper's nets), trains a supervised MNIST classifier, and reports the share of 1,000 samples it
 * assigns a class with p > 0.9 and the class histogram. Passes (exit 0) when >= 80% are
 * confident and every digit has at least 2% of the confident samples (issue 14's criterion:
 * "covers all 10 digits"); exit 1 otherwise. Samples are judged twice: the generator in
 * inference mode (BatchNorm's running statistics; the pass/fail verdict) and in training mode
 * (the batch's statistics, as DCGAN's own code draws its sample grids). Writes an 8x8 grid of
 * samples when `--out` is given.
 *
 * `--save dir` writes a checkpoint every `--checkpoint-every` iterations and at the end under
 * `dir/it<N>` (both nets, the critic, both Adam states, the iteration count and the real-batch
 * sampler's state in `state.bin` / `state.json`, see `bench/_gan_state.ts`, plus `encoder/` and
 * `generator/` as `exportEncoder` writes them, which `bench/pretext_probe.ts --gan` reads) and
 * `dir/latest` names the newest one. `--resume dir/it<N>` continues a run from such a checkpoint
 * (Adam moments and the batch sampler included, so it trains on what the run never stopped would
 * have; `--iterations` counts from 0 so the run stops at the same total), `--load dir/it<N>` only
 * judges it; with `--average dirA,dirB,...` it judges the generator averaged over those
 * checkpoints (Polyak averaging; read its training-mode line).
 *
 * SELFSUP_THREADS=1 nice -n 10 deno run -A bench/gan_digits.ts --iterations 600 \
 *   --out docs/img/pretext_gan.png [--backend auto] [--minutes 40] [--batch 128] \
 *   [--generator-widths 128,64] [--projection-norm channel|unit] [--discriminator-widths 64,128] \
 *   [--seed 0] [--save dir] [--checkpoint-every 200] [--resume dir/it400] [--load dir/it400] \
 *   [--classifier dir] [--average dir/it200,dir/it400] [--hidden 1024] [--weight-decay 2.5e-5] \
 *   [--lr-decay-from 19550] [--classifier-widths 16,32] [--classifier-steps 3000]
 *
 * The DCGAN authors' MNIST code (`DCGAN_CODE_MNIST`) trains beyond the paper's recipe with
 * `--hidden 1024 --weight-decay 2.5e-5 --batch 128 --iterations 39100 --lr-decay-from 19550`
 * (fully connected layers of 1024 units in both nets, L2 on every gradient, the rate linear to 0
 * over the second half); all off by default, as the paper.
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { dirname } from "node:path";
import process from "node:process";
import { type OptionSpec, type ParsedOptions, runCommand } from "../cli/_args.ts";
import { exportEncoder } from "../eval/mod.ts";
import { tf } from "../backend/tf.ts";
import { useBackend } from "../backend/use_backend.ts";
import { withSeed } from "../backend/with_seed.ts";
import { mnist } from "../data/mod.ts";
import { DCGAN_RECIPE, dcganLearningRate, gan, type GanNets } from "../methods/gan.ts";
import { convNet } from "../models/conv_net.ts";
import { pcg32 } from "../data/prng.ts";
import {
  averageGenerator,
  ganBatchSampler,
  ganIteration,
  loadGanState,
  saveGanState,
} from "./_gan_state.ts";

const SPECS: readonly OptionSpec[] = [
  {
    name: "backend",
    type: "string",
    description: "tfjs backend",
    default: "auto",
    choices: ["auto", "native", "wasm", "cpu"],
  },
  {
    name: "iterations",
    type: "integer",
    description: "iterations (one D then one G update each), counted from 0 also on --resume",
    default: 600,
    min: 0,
  },
  {
    name: "minutes",
    type: "number",
    description: "stop training after this many minutes",
    default: 40,
    min: 0,
  },
  {
    name: "batch",
    type: "integer",
    description: "real images (and z) per iteration",
    default: DCGAN_RECIPE.batchSize,
    min: 1,
  },
  { name: "seed", type: "integer", description: "seed of the nets and batches", default: 0 },
  {
    name: "lr",
    type: "number",
    description: "Adam's learning rate for both nets (e.g. lower on --resume to anneal)",
    default: DCGAN_RECIPE.lr,
    min: 0,
  },
  { name: "out", type: "string", description: "8x8 sample grid PNG (and <out>_progress.png)" },
  {
    name: "generator-widths",
    type: "string",
    description: "generator's projection and upsampling widths, comma-separated",
    defaultText: "gan's, 128,64",
  },
  {
    name: "projection-norm",
    type: "string",
    description:
      "generator's projection BatchNorm: per channel after the reshape (dcgan.torch) or per unit " +
      "before it (the generator before 2026-12-02; its checkpoints need it)",
    default: "channel",
    choices: ["channel", "unit"],
  },
  {
    name: "hidden",
    type: "integer",
    description:
      "units of the DCGAN authors' MNIST fully connected layers (z -> FC -> projection in G, " +
      "features -> FC -> logit in D; their code: 1024); 0: none, the paper's",
    default: 0,
    min: 0,
  },
  {
    name: "weight-decay",
    type: "number",
    description:
      "L2 weight decay added to every gradient before Adam (the authors' MNIST code: 2.5e-5)",
    default: 0,
    min: 0,
  },
  {
    name: "lr-decay-from",
    type: "integer",
    description:
      "decay the rate linearly from this iteration to 0 at --iterations (the authors' MNIST " +
      "code: half the run); constant when absent, the paper's",
    min: 0,
  },
  {
    name: "discriminator-widths",
    type: "string",
    description: "discriminator's strided conv widths, comma-separated",
    defaultText: "gan's, 64,128",
  },
  { name: "save", type: "string", description: "checkpoint folder (dir/it<N>, dir/latest)" },
  {
    name: "checkpoint-every",
    type: "integer",
    description: "iterations between checkpoints under --save",
    default: 200,
    min: 1,
  },
  { name: "resume", type: "string", description: "continue training from a checkpoint dir/it<N>" },
  { name: "load", type: "string", description: "judge a checkpoint dir/it<N> without training" },
  {
    name: "average",
    type: "string",
    description:
      "with --load: judge the generator averaged over these checkpoints (comma-separated dir/it<N>)",
  },
  { name: "classifier", type: "string", description: "folder caching the judge's weights" },
  {
    name: "judge-samples",
    type: "string",
    description:
      "judge only these raw float32 [N, 28, 28] files of samples in [0, 1] (comma-separated; " +
      "e.g. bench/gan_peer/dcgan_mnist_twin.py's) and exit",
  },
  {
    name: "classifier-widths",
    type: "string",
    description:
      "the judge's convnet widths, comma-separated (e.g. 32,64,128, convNet's default, for a " +
      "stronger judge); other than 16,32 it is cached under its own file name",
    default: "16,32",
  },
  {
    name: "classifier-steps",
    type: "integer",
    description: "the judge's training steps",
    default: 3000,
    min: 0,
  },
  {
    name: "every",
    type: "integer",
    description: "iterations between progress lines (500 samples judged)",
    default: 50,
    min: 1,
  },
];

/** The judge's widths when `--classifier-widths` is not given. */
export const JUDGE_WIDTHS: readonly number[] = [16, 32];

/**
 * The file caching a judge's weights under `--classifier dir`: the judge of the default widths
 * keeps the name it always had (`classifier_<steps>_weights.json`), others carry their widths
 * (`classifier_32-64-128_<steps>_weights.json`), so that two judges share a folder without one
 * reading the other's weights.
 */
export function classifierCacheFile(dir: string, widths: readonly number[], steps: number): string {
  const tag = widths.join("-") === JUDGE_WIDTHS.join("-") ? "" : `${widths.join("-")}_`;
  return `${dir}/classifier_${tag}${steps}_weights.json`;
}

/**
 * Refuses to resume or judge a checkpoint with options that would build other nets or another
 * schedule than the run that wrote it (keys the checkpoint's `state.json` records; older
 * checkpoints lack the newer ones, which are then not checked). `--lr` may differ (a lower rate
 * on resume anneals), and `--iterations` only matters to a decaying schedule. A checkpoint
 * written before either schedule's decay began (`meta.iteration <=` both `--lr-decay-from`, a
 * constant rate counting as never decaying) may be resumed with another `--lr-decay-from` and
 * `--iterations`: every iteration it has done ran at the rate the new schedule gives it, so the
 * resumed run is exactly the run started with the new schedule (e.g. a constant-rate run's
 * checkpoint continued with the authors' linear decay, or the decay moved once the speed is
 * known).
 *
 * @throws {TypeError} naming the option and both values
 */
export function checkSameRun(dir: string, meta: Record<string, unknown>, args: ParsedOptions) {
  const now: Record<string, [string, unknown]> = {
    batch: ["--batch", args.batch],
    hidden: ["--hidden", args.hidden],
    projectionNorm: ["--projection-norm", args.projectionNorm],
    generatorWidths: ["--generator-widths", args.generatorWidths ?? "default"],
    discriminatorWidths: ["--discriminator-widths", args.discriminatorWidths ?? "default"],
  };
  if (!args.load) {
    now.weightDecay = ["--weight-decay", args.weightDecay];
    const done = Number(meta.iteration);
    const decayStart = (from: unknown) =>
      from === undefined || from === null ? Infinity : Number(from);
    const beforeBothDecays = Number.isFinite(done) &&
      done <= decayStart(meta.lrDecayFrom) && done <= decayStart(args.lrDecayFrom);
    if (!beforeBothDecays) {
      now.lrDecayFrom = ["--lr-decay-from", args.lrDecayFrom ?? null];
      if (args.lrDecayFrom !== undefined) now.iterations = ["--iterations", args.iterations];
    }
  }
  for (const [key, [flag, value]] of Object.entries(now)) {
    if (key in meta && meta[key] !== undefined && meta[key] !== value) {
      throw new TypeError(
        `Cannot ${args.load ? "judge" : "resume"} ${dir}: it was written with ${flag} ${
          String(meta[key])
        }, this run has ${String(value)}`,
      );
    }
  }
}

const widthsOf = (s: ParsedOptions[string]) =>
  s === undefined ? undefined : String(s).split(",").map(Number);

/** Writes a checkpoint at `dir` (see the module doc): the state, then the two nets' exports. */
async function saveState(
  dir: string,
  iteration: number,
  nets: GanNets,
  optD: tf.Optimizer,
  optG: tf.Optimizer,
  meta: Record<string, unknown>,
  sampler: [number, number],
) {
  await saveGanState(dir, iteration, nets, optD, optG, meta, sampler);
  await exportEncoder(nets.encoder, `${dir}/encoder`);
  await exportEncoder(nets.generator, `${dir}/generator`);
}

async function main(args: ParsedOptions): Promise<number> {
  await useBackend(args.backend as "auto", { quiet: true } as never);
  console.log("backend", tf.getBackend(), new Date().toISOString());
  const ds = await mnist("train");
  const n = ds.length;
  const batch = args.batch as number;
  const seed = args.seed as number;
  let rnd = pcg32(seed);
  const batchOf = (size: number) => {
    const x = new Float32Array(size * 784);
    const y = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const k = Math.floor(rnd() * n);
      for (let p = 0; p < 784; p++) x[i * 784 + p] = ds.images[k * 784 + p] / 255;
      y[i] = ds.labels[k];
    }
    return { x: tf.tensor4d(x, [size, 28, 28, 1]), y: tf.tensor1d(y, "int32") };
  };

  // 1. a supervised classifier (the judge), cached under --classifier when given
  const t0 = performance.now();
  const judgeWidths = widthsOf(args.classifierWidths)!;
  const trunk = withSeed(1, () => convNet({ inputShape: [28, 28, 1], widths: judgeWidths }));
  const clf = tfl.sequential({ layers: [trunk, tfl.layers.dense({ units: 10 })] });
  const classifierSteps = args.classifierSteps as number;
  const cacheDir = args.classifier as string | undefined;
  const cache = cacheDir ? classifierCacheFile(cacheDir, judgeWidths, classifierSteps) : undefined;
  let cached: number[][] | undefined;
  try {
    if (cache) cached = JSON.parse(await Deno.readTextFile(cache));
  } catch { /* not there yet */ }
  if (cached) {
    clf.setWeights(clf.getWeights().map((w, i) => tf.tensor(cached![i], w.shape)));
  } else {
    let optC = tf.train.adam(2e-3);
    for (let step = 0; step < classifierSteps; step++) {
      // the last third at a tenth of the rate: a confident judge
      if (step === Math.floor((2 * classifierSteps) / 3)) {
        optC.dispose();
        optC = tf.train.adam(2e-4);
      }
      const { x, y } = batchOf(64);
      const l = optC.minimize(
        () =>
          tf.losses.softmaxCrossEntropy(
            tf.oneHot(y, 10),
            clf.apply(x, { training: true }) as tf.Tensor,
          ),
        true,
      );
      tf.dispose([x, y, l!]);
    }
    if (cache) {
      await Deno.mkdir(cacheDir!, { recursive: true });
      await Deno.writeTextFile(
        cache,
        JSON.stringify(clf.getWeights().map((w) => Array.from(w.dataSync()))),
      );
    }
  }
  const test = await mnist("test");
  const tx = tf.tensor4d(
    Float32Array.from(test.images.subarray(0, 2000 * 784), (b) => b / 255),
    [2000, 28, 28, 1],
  );
  const acc = tf.tidy(() =>
    tf.mean(
      tf.cast(
        tf.equal(
          tf.argMax(clf.apply(tx, { training: false }) as tf.Tensor, 1),
          tf.tensor1d(test.labels.subarray(0, 2000), "int32"),
        ),
        "float32",
      ),
    ).dataSync()[0]
  );
  tx.dispose();
  console.log(
    `classifier (convnet ${
      judgeWidths.join("-")
    } + Dense, Adam 2e-3 then 2e-4 for the last third, ` +
      `${classifierSteps} steps of 64${cached ? ", cached" : ""}): ` +
      `test accuracy ${acc.toFixed(4)} (2,000 test digits), ${
        ((performance.now() - t0) / 1e3).toFixed(0)
      }s`,
  );

  /** Share confident and the class histogram of the confident samples. */
  const judge = (samples: tf.Tensor4D) => {
    const p = tf.tidy(() => tf.softmax(clf.apply(samples, { training: false }) as tf.Tensor2D));
    const pd = p.arraySync() as number[][];
    p.dispose();
    const hist = new Array(10).fill(0);
    let confident = 0;
    for (const row of pd) {
      const k = row.indexOf(Math.max(...row));
      if (row[k] > 0.9) {
        confident++;
        hist[k]++;
      }
    }
    const share = confident / pd.length;
    const pass = share >= 0.8 && hist.every((h) => h >= 0.02 * confident);
    return { share, hist, pass };
  };
  const verdict = (j: ReturnType<typeof judge>) =>
    `confident (p > 0.9) ${(100 * j.share).toFixed(1)}%; histogram ${JSON.stringify(j.hist)}; ${
      j.pass ? "PASS" : "FAIL"
    }`;

  /** An 8x8 grid of the first 64 samples, 2x nearest upscaling. */
  async function writeGrid(samples: tf.Tensor4D, out: string) {
    const grid = tf.tidy(() => {
      const s = tf.slice(samples, [0, 0, 0, 0], [64, 28, 28, 1]);
      const rows = tf.reshape(
        tf.transpose(tf.reshape(s, [8, 8, 28, 28]), [0, 2, 1, 3]),
        [224, 224],
      );
      return tf.cast(tf.round(tf.mul(rows, 255)), "int32");
    });
    const sharp = (await import("sharp")).default;
    await Deno.mkdir(dirname(out), { recursive: true });
    await sharp(Uint8Array.from(grid.dataSync()), {
      raw: { width: 224, height: 224, channels: 1 },
    })
      .resize(448, 448, { kernel: "nearest" }).png().toFile(out);
    grid.dispose();
    console.log(`wrote ${out}`);
  }

  {
    // the ceiling: the same check on 1,000 real test digits
    const real = tf.tensor4d(
      Float32Array.from(test.images.subarray(2000 * 784, 3000 * 784), (b) => b / 255),
      [1000, 28, 28, 1],
    );
    console.log(`real test digits (1,000): ${verdict(judge(real))}`);
    real.dispose();
  }

  if (args.judgeSamples !== undefined) {
    for (const file of String(args.judgeSamples).split(",")) {
      const raw = await Deno.readFile(file);
      const v = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
      const s = tf.tensor4d(v, [v.length / 784, 28, 28, 1]);
      console.log(`${file} (${v.length / 784}): ${verdict(judge(s))}`);
      s.dispose();
    }
    return 0;
  }

  // 2. the GAN
  const setup = withSeed(seed, () =>
    gan({
      encoder: "convnet",
      inputShape: [28, 28, 1],
      seed,
      generatorWidths: widthsOf(args.generatorWidths),
      generatorProjectionNorm: args.projectionNorm as "channel" | "unit",
      discriminatorWidths: widthsOf(args.discriminatorWidths),
      hidden: args.hidden as number,
    }));
  const { method, nets } = setup;
  const adam = () => tf.train.adam(args.lr as number, DCGAN_RECIPE.beta1, DCGAN_RECIPE.beta2);
  const [optD, optG] = [adam(), adam()];
  // a resumed run sets both Adam states (moments, iteration count) from the checkpoint
  const from = (args.resume ?? args.load) as string | undefined;
  if (from) checkSameRun(from, JSON.parse(await Deno.readTextFile(`${from}/state.json`)), args);
  const checkpointRead = from ? await loadGanState(from, nets, optD, optG) : undefined;
  const start = checkpointRead?.iteration ?? 0;
  if (from) console.log(`${args.load ? "judging" : "resuming"} ${from} at iteration ${start}`);
  if (args.average !== undefined) {
    if (!args.load) throw new TypeError("--average needs --load");
    const dirs = String(args.average).split(",");
    const averaged = await averageGenerator(dirs);
    nets.generator.setWeights(averaged);
    tf.dispose(averaged);
    console.log(
      `generator averaged over ${dirs.length} checkpoints (${dirs.join(", ")}); ` +
        `judge its training-mode samples: its BatchNorm running statistics are averages too`,
    );
  }

  /** Samples in training mode (batch statistics) without moving BatchNorm's running ones. */
  const sampleTrainingMode = (count: number, s: number) => {
    const kept = nets.generator.getWeights().map((w) => tf.clone(w));
    const out = tf.tidy(() => {
      const z = tf.randomUniform([count, 100], -1, 1, "float32", s);
      const g = nets.generator.apply(z, { training: true }) as tf.Tensor;
      return tf.mul(tf.add(g, 1), 0.5) as tf.Tensor4D;
    });
    nets.generator.setWeights(kept);
    tf.dispose(kept);
    return out;
  };

  const iterations = args.load ? start : (args.iterations as number);
  const every = args.every as number;
  const checkpointEvery = args.checkpointEvery as number;
  const save = args.save as string | undefined;
  const meta = {
    batch,
    seed,
    lr: args.lr,
    generatorWidths: args.generatorWidths ?? "default",
    projectionNorm: args.projectionNorm,
    discriminatorWidths: args.discriminatorWidths ?? "default",
    hidden: args.hidden,
    weightDecay: args.weightDecay,
    lrDecayFrom: args.lrDecayFrom ?? null,
    iterations: args.load ? undefined : args.iterations,
  };
  const weightDecay = args.weightDecay as number;
  const decayFrom = args.lrDecayFrom as number | undefined;
  const lrAt = (it: number) =>
    dcganLearningRate(it, { lr: args.lr as number, iterations, decayFrom });
  if (!args.load) lrAt(0); // a bad --lr-decay-from fails before training
  // --load trains nothing, so it has no schedule to print (its `iterations` is the checkpoint's)
  if (!args.load && (decayFrom !== undefined || weightDecay > 0)) {
    console.log(
      `lr ${args.lr}${
        decayFrom === undefined ? "" : `, linear to 0 from iteration ${decayFrom} to ${iterations}`
      }; weight decay ${weightDecay}`,
    );
  }
  const checkpoint = async (it: number) => {
    if (!save) return;
    await saveState(`${save}/it${it}`, it, nets, optD, optG, meta, rnd.state());
    await Deno.writeTextFile(`${save}/latest`, `it${it}\n`);
    console.log(`checkpoint ${save}/it${it}`);
  };
  // a resumed run draws the batches the first run would have drawn (the sampler's state is in the
  // checkpoint); checkpoints written before it was saved restart the sampler at another seed
  rnd = ganBatchSampler(seed, checkpointRead);
  const deadline = performance.now() + (args.minutes as number) * 60e3;
  const t1 = performance.now();
  // CPU seconds spent in the training iterations alone (all threads): a cost per iteration that
  // holds on a shared machine, where wall time depends on the load
  let trainCpu = 0;
  let done = start;
  for (let it = start; it < iterations && performance.now() < deadline; it++) {
    const { x, y } = batchOf(batch);
    const cpu0 = process.cpuUsage();
    const line = ganIteration(method, nets, optD, optG, x, it, iterations, seed, it % every === 0, {
      lr: lrAt(it),
      weightDecay,
    });
    const cpu = process.cpuUsage(cpu0);
    trainCpu += (cpu.user + cpu.system) / 1e6;
    tf.dispose([x, y]);
    done = it + 1;
    if (it % every === 0) {
      const s = method.sample(nets, 500, 99);
      const j = judge(s);
      if (args.out) await writeGrid(s, (args.out as string).replace(/\.png$/, "_progress.png"));
      s.dispose();
      const st = sampleTrainingMode(500, 99);
      const jt = judge(st);
      st.dispose();
      console.log(
        `it ${it} lr ${lrAt(it).toExponential(3)} ${line.join(" | ")} | confident ${
          (100 * j.share).toFixed(1)
        }% ${JSON.stringify(j.hist)} (training-mode BN ${(100 * jt.share).toFixed(1)}%) ${
          ((performance.now() - t1) / 1e3).toFixed(0)
        }s ${new Date().toISOString().slice(11, 19)}`,
      );
    }
    if (done % checkpointEvery === 0) await checkpoint(done);
  }
  const seconds = (performance.now() - t1) / 1e3;
  console.log(
    `GAN: ${done - start} iterations (D+G) of ${batch} in ${
      seconds.toFixed(0)
    }s, ${done} in all; ` +
      `training CPU ${trainCpu.toFixed(1)}s, ${
        (trainCpu / Math.max(1, done - start)).toFixed(3)
      }s per iteration`,
  );
  if (!args.load && done % checkpointEvery !== 0) await checkpoint(done);

  // 3. 1,000 samples, the generator in inference mode (BatchNorm's running statistics)
  const samples = method.sample(nets, 1000, 7);
  const j = judge(samples);
  console.log(
    `samples (inference-mode BN, 1,000): ${
      verdict(j)
    } (>= 80% confident, each digit >= 2% of them)`,
  );
  const trainMode = sampleTrainingMode(1000, 7);
  console.log(`samples (training-mode BN, 1,000): ${verdict(judge(trainMode))}`);
  if (args.out) {
    await writeGrid(samples, args.out as string);
    await writeGrid(trainMode, (args.out as string).replace(/\.png$/, "_training_mode.png"));
  }
  tf.dispose([samples, trainMode]);
  return j.pass ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(
    await runCommand(
      Deno.args,
      SPECS,
      "deno run -A bench/gan_digits.ts [options]: does the DCGAN draw digits?",
      main,
    ),
  );
}
