/**
 * Does the DCGAN draw digits? Trains `gan` on MNIST with DCGAN's recipe (`DCGAN_RECIPE`: Adam
 * 2e-4 / beta1 0.5 for both nets, batch 128, one D update then one G update per iteration, the
 * paper's nets), trains a supervised MNIST classifier, and reports the share of 1,000 samples it
 * assigns a class with p > 0.9 and the class histogram. Passes (exit 0) when >= 80% are
 * confident and every digit has at least 2% of the confident samples (issue 14's criterion:
 * "covers all 10 digits"); exit 1 otherwise. Writes an 8x8 grid of samples when `--out` is given.
 *
 * SELFSUP_THREADS=1 nice -n 10 deno run -A bench/gan_digits.ts --iterations 600 \
 *   --out docs/img/pretext_gan.png [--backend auto] [--minutes 40] [--batch 128] \
 *   [--generator-widths 128,64] [--discriminator-widths 64,128] [--seed 0] [--save dir]
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { parseArgs } from "node:util";
import { exportEncoder, loadEncoder } from "../eval/mod.ts";
import { tf } from "../backend/tf.ts";
import { useBackend } from "../backend/use_backend.ts";
import { withSeed } from "../backend/with_seed.ts";
import { mnist } from "../data/mod.ts";
import { DCGAN_RECIPE, gan, ganPhase } from "../methods/gan.ts";
import { convNet } from "../models/conv_net.ts";
import { pcg32 } from "../data/prng.ts";

const opt = (d?: string) => ({
  type: "string" as const,
  ...(d === undefined ? {} : { default: d }),
});
const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    backend: opt("auto"),
    iterations: opt("600"),
    minutes: opt("40"),
    batch: opt(String(DCGAN_RECIPE.batchSize)),
    seed: opt("0"),
    out: opt(),
    "generator-widths": opt(),
    "discriminator-widths": opt(),
    save: opt(),
    classifier: opt(),
    "classifier-steps": opt("3000"),
    load: opt(),
    every: opt("50"),
  },
});
const widths = (s: unknown) => s === undefined ? undefined : String(s).split(",").map(Number);
await useBackend(args.backend as "auto", { quiet: true } as never);
console.log("backend", tf.getBackend(), new Date().toISOString());
const ds = await mnist("train");
const n = ds.length;
const batch = Number(args.batch);
const seed = Number(args.seed);
const rnd = pcg32(seed);
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
const trunk = withSeed(1, () => convNet({ inputShape: [28, 28, 1], widths: [16, 32] }));
const clf = tfl.sequential({ layers: [trunk, tfl.layers.dense({ units: 10 })] });
const classifierSteps = Number(args["classifier-steps"]);
const cache = args.classifier
  ? `${args.classifier}/classifier_${classifierSteps}_weights.json`
  : undefined;
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
    await Deno.mkdir(args.classifier!, { recursive: true });
    await Deno.writeTextFile(
      cache,
      JSON.stringify(clf.getWeights().map((w) => Array.from(w.dataSync()))),
    );
  }
}
const test = await mnist("test");
const tx = tf.tensor4d(Float32Array.from(test.images.subarray(0, 2000 * 784), (b) => b / 255), [
  2000,
  28,
  28,
  1,
]);
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
  `classifier (convnet 16-32 + Dense, Adam 2e-3 then 2e-4 for the last third, ${classifierSteps} ` +
    `steps of 64${cached ? ", cached" : ""}): ` +
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

/** An 8x8 grid of the first 64 samples, 2x nearest upscaling. */
async function writeGrid(samples: tf.Tensor4D, out: string) {
  const grid = tf.tidy(() => {
    const s = tf.slice(samples, [0, 0, 0, 0], [64, 28, 28, 1]);
    const rows = tf.reshape(tf.transpose(tf.reshape(s, [8, 8, 28, 28]), [0, 2, 1, 3]), [224, 224]);
    return tf.cast(tf.round(tf.mul(rows, 255)), "int32");
  });
  const sharp = (await import("sharp")).default;
  await sharp(Uint8Array.from(grid.dataSync()), { raw: { width: 224, height: 224, channels: 1 } })
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
  const j = judge(real);
  real.dispose();
  console.log(
    `real test digits: confident (p > 0.9) ${(100 * j.share).toFixed(1)}% of 1,000; histogram ${
      JSON.stringify(j.hist)
    }; ${j.pass ? "PASS" : "FAIL"}`,
  );
}

// 2. the GAN
const setup = withSeed(seed, () =>
  gan({
    encoder: "convnet",
    inputShape: [28, 28, 1],
    seed,
    generatorWidths: widths(args["generator-widths"]),
    discriminatorWidths: widths(args["discriminator-widths"]),
  }));
const { method, nets } = setup;
if (args.load) {
  // a saved generator (--save) judged again: no training
  nets.generator = await loadEncoder(`${args.load}/generator`);
}
const adam = () => tf.train.adam(DCGAN_RECIPE.lr, DCGAN_RECIPE.beta1, DCGAN_RECIPE.beta2);
const [optD, optG] = [adam(), adam()];
const iterations = args.load ? 0 : Number(args.iterations);
const every = Number(args.every);
const deadline = performance.now() + Number(args.minutes) * 60e3;
const t1 = performance.now();
let done = 0;
for (let it = 0; it < iterations && performance.now() < deadline; it++) {
  const { x, y } = batchOf(batch);
  const line: string[] = [];
  // one iteration = D update, then G update (DCGAN's order), each with fresh z, same real batch
  for (const step of [2 * it, 2 * it + 1]) {
    const context = { progress: it / iterations, step, epoch: 0 };
    const views = method.views(x, seed * 1e6 + step);
    const opt = ganPhase(context) === "discriminator" ? optD : optG;
    let m: Record<string, tf.Scalar> = {};
    const loss = opt.minimize(
      () => {
        const r = method.step(nets, views, setup.state, context);
        m = r.metrics;
        Object.values(m).forEach((t) => tf.keep(t));
        return r.loss;
      },
      true,
      method.trainableAt(nets, context),
    );
    if (it % every === 0) {
      line.push(
        `${ganPhase(context)[0].toUpperCase()} loss ${loss!.dataSync()[0].toFixed(3)} D(x) ${
          (m.dReal?.dataSync()[0] ?? NaN).toFixed(3)
        } D(G(z)) ${m.dFake.dataSync()[0].toFixed(3)}`,
      );
    }
    tf.dispose([loss!, ...views, ...Object.values(m)]);
  }
  tf.dispose([x, y]);
  if (it % every === 0) {
    const s = method.sample(nets, 500, 99);
    const j = judge(s);
    if (args.out) await writeGrid(s, args.out.replace(/\.png$/, "_progress.png"));
    s.dispose();
    console.log(
      `it ${it} ${line.join(" | ")} | confident ${(100 * j.share).toFixed(1)}% ${
        JSON.stringify(j.hist)
      } ${((performance.now() - t1) / 1e3).toFixed(0)}s`,
    );
  }
  done = it + 1;
}
const seconds = (performance.now() - t1) / 1e3;
console.log(`GAN: ${done} iterations (D+G) of ${batch} in ${seconds.toFixed(0)}s`);

// 3. 1,000 samples, the generator in inference mode (BatchNorm's running statistics)
const samples = method.sample(nets, 1000, 7);
const j = judge(samples);
console.log(
  `samples: confident (p > 0.9) ${(100 * j.share).toFixed(1)}% of 1,000; histogram ${
    JSON.stringify(j.hist)
  }; ${j.pass ? "PASS" : "FAIL"} (>= 80% confident, each digit >= 2% of them)`,
);
if (args.out) await writeGrid(samples, args.out);
if (args.save) {
  await exportEncoder(nets.encoder, `${args.save}/encoder`);
  await exportEncoder(nets.generator, `${args.save}/generator`);
  console.log(`saved the discriminator trunk and the generator under ${args.save}`);
}
samples.dispose();
Deno.exit(j.pass ? 0 : 1);
