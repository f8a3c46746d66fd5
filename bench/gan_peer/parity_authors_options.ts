/**
 * Same weights, same batches, same z: does selfsup's GAN with the DCGAN authors' MNIST options
 * (`--hidden`, `--weight-decay`, `--lr-decay-from` of `bench/gan_digits.ts`) train as the PyTorch
 * twin does? Builds `gan` (seed 0, the bench's nets), writes its initial weights, `--iterations`
 * real batches of `--batch` MNIST digits and the z of every D and G step (the bench's: `gan`'s
 * views seeded by `seed 1e6 + step`), trains it with `ganIteration` as the bench does, and writes
 * the weights after iteration 1 and after the last. `parity_authors_options.py` loads the same
 * weights into the twin's nets (`--align tf`: TensorFlow's padding of strided convs), trains them
 * on the same data and compares.
 *
 *   SELFSUP_THREADS=1 deno run -A bench/gan_peer/parity_authors_options.ts --out runs/h14-parity \
 *     [--iterations 10] [--decay-from 5] [--weight-decay 0.01] [--hidden 1024] [--batch 32]
 *   OMP_NUM_THREADS=1 /usr/bin/python3 bench/gan_peer/parity_authors_options.py runs/h14-parity
 */
import { type OptionSpec, type ParsedOptions, runCommand } from "../../cli/_args.ts";
import { tf } from "../../backend/tf.ts";
import { useBackend } from "../../backend/use_backend.ts";
import { withSeed } from "../../backend/with_seed.ts";
import { mnist } from "../../data/mod.ts";
import { pcg32 } from "../../data/prng.ts";
import { DCGAN_RECIPE, dcganLearningRate, gan, type GanNets } from "../../methods/gan.ts";
import { ganIteration } from "../_gan_state.ts";

const SPECS: readonly OptionSpec[] = [
  { name: "out", type: "string", description: "folder for the files", default: "runs/h14-parity" },
  {
    name: "backend",
    type: "string",
    description: "tfjs backend",
    default: "cpu",
    choices: ["cpu", "native", "wasm"],
  },
  { name: "iterations", type: "integer", description: "iterations", default: 10, min: 1 },
  { name: "decay-from", type: "integer", description: "first decaying iteration", default: 5 },
  { name: "weight-decay", type: "number", description: "L2 on every gradient", default: 0.01 },
  { name: "hidden", type: "integer", description: "FC units in G and D", default: 1024, min: 0 },
  { name: "batch", type: "integer", description: "batch size", default: 32, min: 1 },
];

const SEED = 0;

/** Writes every weight of the three nets (layer by layer) as float32 files plus a manifest. */
async function dumpNets(nets: GanNets, dir: string) {
  await Deno.mkdir(dir, { recursive: true });
  const manifest: Record<
    string,
    { layer: string; weights: { name: string; shape: number[] }[] }[]
  > = {};
  for (const [key, model] of Object.entries(nets)) {
    manifest[key] = [];
    for (const layer of (model as GanNets["encoder"]).layers) {
      const ws = layer.getWeights();
      if (ws.length === 0) continue;
      const entry = {
        layer: layer.getClassName(),
        weights: [] as { name: string; shape: number[] }[],
      };
      for (const [i, w] of ws.entries()) {
        const name = `${key}_${manifest[key].length}_${i}`;
        await Deno.writeFile(
          `${dir}/${name}.f32`,
          new Uint8Array((w.dataSync() as Float32Array).slice().buffer),
        );
        entry.weights.push({ name, shape: w.shape });
      }
      manifest[key].push(entry);
    }
  }
  await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(manifest));
}

async function main(args: ParsedOptions): Promise<number> {
  await useBackend(args.backend as "cpu", { quiet: true } as never);
  const out = args.out as string;
  const [K, B] = [args.iterations as number, args.batch as number];
  const decayFrom = args.decayFrom as number;
  const weightDecay = args.weightDecay as number;
  const { method, nets } = withSeed(
    SEED,
    () =>
      gan({
        encoder: "convnet",
        inputShape: [28, 28, 1],
        seed: SEED,
        hidden: args.hidden as number,
      }),
  );
  await dumpNets(nets, `${out}/init`);
  const ds = await mnist("train");
  const rnd = pcg32(SEED);
  const xs = new Float32Array(K * B * 784);
  for (let i = 0; i < K * B; i++) {
    const k = Math.floor(rnd() * ds.length);
    for (let p = 0; p < 784; p++) xs[i * 784 + p] = ds.images[k * 784 + p] / 255;
  }
  const zs = new Float32Array(K * 2 * B * 100);
  const adam = () => tf.train.adam(DCGAN_RECIPE.lr, DCGAN_RECIPE.beta1, DCGAN_RECIPE.beta2);
  const [optD, optG] = [adam(), adam()];
  const lrs: number[] = [];
  for (let it = 0; it < K; it++) {
    const x = tf.tensor4d(xs.subarray(it * B * 784, (it + 1) * B * 784), [B, 28, 28, 1]);
    // the z ganIteration draws at steps 2 it (D) and 2 it + 1 (G)
    for (const s of [0, 1]) {
      const views = method.views(x, SEED * 1e6 + 2 * it + s);
      zs.set(views[1].dataSync() as Float32Array, (2 * it + s) * B * 100);
      tf.dispose(views);
    }
    const lr = dcganLearningRate(it, { lr: DCGAN_RECIPE.lr, iterations: K, decayFrom });
    lrs.push(lr);
    const line = ganIteration(method, nets, optD, optG, x, it, K, SEED, true, { lr, weightDecay });
    console.log(`it ${it} lr ${lr.toExponential(3)} ${line.join(" | ")}`);
    x.dispose();
    if (it === 0) await dumpNets(nets, `${out}/after1`);
  }
  await dumpNets(nets, `${out}/after${K}`);
  await Deno.writeFile(`${out}/x.f32`, new Uint8Array(xs.buffer));
  await Deno.writeFile(`${out}/z.f32`, new Uint8Array(zs.buffer));
  await Deno.writeTextFile(
    `${out}/run.json`,
    JSON.stringify({
      iterations: K,
      batch: B,
      decayFrom,
      weightDecay,
      hidden: args.hidden,
      lr: DCGAN_RECIPE.lr,
      lrs,
      epsilon: tf.backend().epsilon(),
      backend: tf.getBackend(),
    }),
  );
  console.log(`wrote ${out}`);
  return 0;
}

if (import.meta.main) {
  Deno.exit(
    await runCommand(
      Deno.args,
      SPECS,
      "deno run -A bench/gan_peer/parity_authors_options.ts: selfsup's half of the parity check",
      main,
    ),
  );
}
