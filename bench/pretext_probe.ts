/**
 * Linear probes of pretext encoders and of the DCGAN discriminator, beside the same encoder at
 * random initialization (same seed) and raw pixels, on MNIST or Fashion-MNIST, for
 * bench/RESULTS.md ("Pretext tasks").
 *
 * Pretext runs are `deno task pretrain --method <m> --dataset <d> --run-name <m>-<d> --out <runs>`
 * (convnet 16-32-64, the CLI's default); the GAN's discriminator is a `bench/gan_digits.ts --save
 * <dir>` checkpoint `<dir>/it<N>` (its trunk in `<dir>/it<N>/encoder`, built with
 * `--discriminator-widths`). Options are parsed by `cli/_args.ts` (`--help`). Features: each
 * encoder's output in inference mode (for the GAN also the paper's: every layer's activations
 * max-pooled to a 4x4 grid, flattened and concatenated, Radford et al. 2015, Sec. 5.1),
 * standardized with the probe's training-set mean and std; linear probe: a Dense softmax (the
 * library's `linearProbe`, AdamW 1e-2, 30 epochs of 64) on the first `--train` training images,
 * scored on the first `--test` test images.
 *
 * SELFSUP_THREADS=1 nice -n 10 deno run -A bench/pretext_probe.ts --dataset fashion-mnist \
 *   [--runs /tmp/pretext --methods rotation,jigsaw] [--gan dir --discriminator-widths 32,64] \
 *   [--train 5000] [--test 2000] [--backend wasm]
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import { type OptionSpec, runCommand } from "../cli/_args.ts";
import { tf } from "../backend/tf.ts";
import { useBackend } from "../backend/use_backend.ts";
import { withSeed } from "../backend/with_seed.ts";
import { fashionMnist, imagesOf, mnist } from "../data/mod.ts";
import { extractFeatures, linearProbe, loadEncoder } from "../eval/mod.ts";
import { createMethod, gan, type MethodName } from "../methods/mod.ts";
import { loadCheckpoint } from "../train/mod.ts";
import { mnistAugment } from "../augment/mod.ts";

const SPECS: readonly OptionSpec[] = [
  {
    name: "dataset",
    type: "string",
    description: "probe dataset",
    default: "mnist",
    choices: ["mnist", "fashion-mnist"],
  },
  {
    name: "runs",
    type: "string",
    description: "folder of pretext runs (<runs>/<method>-<dataset>)",
  },
  { name: "methods", type: "string", description: "pretext methods, comma-separated", default: "" },
  { name: "gan", type: "string", description: "a bench/gan_digits.ts --save checkpoint folder" },
  {
    name: "discriminator-widths",
    type: "string",
    description: "the GAN discriminator's widths, comma-separated",
    defaultText: "gan's, 64,128",
  },
  { name: "train", type: "integer", description: "probe training images", default: 5000, min: 1 },
  { name: "test", type: "integer", description: "probe test images", default: 2000, min: 1 },
  {
    name: "backend",
    type: "string",
    description: "tfjs backend",
    default: "wasm",
    choices: ["auto", "native", "wasm", "cpu"],
  },
];

const code = await runCommand(
  Deno.args,
  SPECS,
  "deno run -A bench/pretext_probe.ts [options]: linear probes of pretext encoders and the DCGAN discriminator",
  async (o) => {
    await probeAll({
      dataset: o.dataset as string,
      runs: o.runs as string | undefined,
      methods: o.methods as string,
      gan: o.gan as string | undefined,
      discriminatorWidths: o.discriminatorWidths as string | undefined,
      train: o.train as number,
      test: o.test as number,
      backend: o.backend as string,
    });
    return 0;
  },
);
Deno.exit(code);

async function probeAll(args: {
  dataset: string;
  runs?: string;
  methods: string;
  gan?: string;
  discriminatorWidths?: string;
  train: number;
  test: number;
  backend: string;
}) {
  await useBackend(args.backend as "wasm", { quiet: true });
  const load = args.dataset === "fashion-mnist" ? fashionMnist : mnist;
  const [trainSet, testSet] = await Promise.all([load("train"), load("test")]);
  const train = imagesOf(trainSet, Number(args.train));
  const test = imagesOf(testSet, Number(args.test));

  /** Standardizes both with the training features' statistics, then probes. */
  async function probe(ftr: tf.Tensor2D, fte: tf.Tensor2D): Promise<number> {
    const [a, b] = tf.tidy(() => {
      const { mean, variance } = tf.moments(ftr, 0);
      const sd = tf.sqrt(tf.add(variance, 1e-6));
      return [tf.div(tf.sub(ftr, mean), sd), tf.div(tf.sub(fte, mean), sd)] as tf.Tensor2D[];
    });
    const result = await linearProbe(
      { features: a, labels: train.labels },
      { features: b, labels: test.labels },
      { lr: 1e-2, epochs: 30, batchSize: 64, numClasses: 10 },
    );
    result.head.dispose();
    tf.dispose([a, b]);
    return result.accuracy;
  }

  async function scoreModel(model: tfl.LayersModel): Promise<number> {
    const ftr = await extractFeatures(model, train.images, { batchSize: 250 }) as tf.Tensor2D;
    const fte = await extractFeatures(model, test.images, { batchSize: 250 }) as tf.Tensor2D;
    const flat = (t: tf.Tensor2D) =>
      t.rank === 2 ? t : tf.reshape(t, [t.shape[0], -1]) as tf.Tensor2D;
    const acc = await probe(flat(ftr), flat(fte));
    tf.dispose([ftr, fte]);
    return acc;
  }

  /** The paper's features: each LeakyReLU's map max-pooled to 4x4 (adaptive), concatenated. */
  function pooledFeatures(d: tfl.LayersModel, x: tf.Tensor4D): tf.Tensor2D {
    const taps = d.layers.filter((l) => l.getClassName() === "LeakyReLU").map((l) => l.output);
    const model = d.constructor as unknown as {
      new (args: { inputs: unknown; outputs: unknown }): tfl.LayersModel;
    };
    const sub = new model({ inputs: d.inputs, outputs: taps });
    const parts: tf.Tensor2D[] = [];
    for (let s = 0; s < x.shape[0]; s += 250) {
      parts.push(tf.tidy(() => {
        const xb = tf.slice(x, [s, 0, 0, 0], [Math.min(250, x.shape[0] - s), -1, -1, -1]);
        const maps = [sub.apply(xb, { training: false })].flat() as tf.Tensor4D[];
        const cells: tf.Tensor[] = [];
        for (const m of maps) {
          const n = m.shape[1];
          for (let i = 0; i < 4; i++) {
            for (let j = 0; j < 4; j++) {
              const [r0, r1] = [Math.floor((i * n) / 4), Math.ceil(((i + 1) * n) / 4)];
              const [c0, c1] = [Math.floor((j * n) / 4), Math.ceil(((j + 1) * n) / 4)];
              cells.push(tf.max(tf.slice(m, [0, r0, c0, 0], [-1, r1 - r0, c1 - c0, -1]), [1, 2]));
            }
          }
        }
        return tf.concat(cells, 1) as tf.Tensor2D;
      }));
    }
    const out = tf.concat(parts, 0) as tf.Tensor2D;
    tf.dispose(parts);
    return out;
  }

  async function scorePooled(d: tfl.LayersModel): Promise<number> {
    const [ftr, fte] = [pooledFeatures(d, train.images), pooledFeatures(d, test.images)];
    const acc = await probe(ftr, fte);
    tf.dispose([ftr, fte]);
    return acc;
  }

  const rows: Record<string, unknown>[] = [];
  const t0 = performance.now();
  const px = await probe(
    tf.reshape(train.images, [train.labels.length, -1]) as tf.Tensor2D,
    tf.reshape(test.images, [test.labels.length, -1]) as tf.Tensor2D,
  );
  rows.push({ arm: "raw pixels", linear: px });
  console.log(JSON.stringify(rows.at(-1)));

  for (const method of (args.methods ?? "").split(",").filter(Boolean)) {
    const setup = withSeed(0, () =>
      createMethod(method as MethodName, {
        encoder: "convnet",
        inputShape: [28, 28, 1],
        seed: 0,
        augment: mnistAugment(),
        widths: [16, 32, 64],
      } as never));
    const random = await scoreModel(setup.encoder);
    await loadCheckpoint(`${args.runs}/${method}-${args.dataset}/checkpoint`, {
      nets: setup.nets,
      state: setup.state,
    });
    const trained = await scoreModel(setup.encoder);
    rows.push({ arm: method, trained, random });
    console.log(JSON.stringify(rows.at(-1)));
  }

  if (args.gan) {
    const widths = args.discriminatorWidths?.split(",").map(Number);
    const random = withSeed(0, () =>
      gan({
        encoder: "convnet",
        inputShape: [28, 28, 1],
        seed: 0,
        discriminatorWidths: widths,
        generatorWidths: [8],
      })).encoder;
    const trained = await loadEncoder(`${args.gan}/encoder`);
    rows.push({
      arm: "gan discriminator (flattened last layer)",
      trained: await scoreModel(trained),
      random: await scoreModel(random),
    });
    console.log(JSON.stringify(rows.at(-1)));
    rows.push({
      arm: "gan discriminator (every layer max-pooled 4x4, the paper's)",
      trained: await scorePooled(trained),
      random: await scorePooled(random),
    });
    console.log(JSON.stringify(rows.at(-1)));
  }
  console.log(
    `${args.dataset}: ${args.train} / ${args.test} images, ${
      ((performance.now() - t0) / 1e3).toFixed(0)
    }s, ${tf.getBackend()}`,
  );
}
