/**
 * Same-inputs parity over a whole run (bench/RESULTS.md, "Learning gap", "Same views, same
 * weights"): selfsup's side. Builds the default `deno task pretrain` run exactly as the CLI does
 * (`preparePretrain` with the given pretrain flags, the same `train()` options, loader and kNN
 * monitor) and trains it through the library's `train()` loop, with one change: the method's
 * `views` is wrapped so that it
 *
 * - `--record FILE`: draws the views as usual (mnistAugment on the loader's batch) and appends them
 *   to FILE (raw float32, little-endian, `[steps, 2, batch, 28, 28]`), so the run is the default
 *   run, recorded; or
 * - `--replay FILE`: ignores the loader's batch and returns step t's two views from FILE (written
 *   by `--record` or by the twin, `simclr_mnist_shared_views.py --dump-views`).
 *
 * `--init-out FILE` writes the initial weights (JSON, tfjs layouts, as `simclr_mnist_parity_dump.ts`);
 * `--init-in FILE` loads them instead of the seed's draw. `--log FILE` writes a JSON report: the
 * per-step loss, lr and global gradient norm, every variable's gradient norm at steps 0 and 1
 * (computed beside the loop with the BatchNorm moving statistics restored afterwards), the final
 * weights and moving statistics, and the kNN before and after. The twin reads the same files:
 *
 * ```sh
 * D=runs/shared-views/s0
 * SELFSUP_THREADS=1 nice -n 10 deno run -A bench/peers/simclr_mnist_shared_views.ts --seed 0 \
 *   --record $D/views-selfsup.f32 --init-out $D/init.json --log $D/selfsup-on-selfsup.json
 * nice -n 10 /usr/bin/python3 bench/peers/simclr_mnist_shared_views.py --init $D/init.json \
 *   --views $D/views-selfsup.f32 --log $D/twin-on-selfsup.json
 * nice -n 10 /usr/bin/python3 bench/peers/simclr_mnist_shared_views.py --seed 0 \
 *   --dump-views $D/views-twin.f32
 * SELFSUP_THREADS=1 nice -n 10 deno run -A bench/peers/simclr_mnist_shared_views.ts --seed 0 \
 *   --init-in $D/init.json --replay $D/views-twin.f32 --log $D/selfsup-on-twin.json
 * nice -n 10 /usr/bin/python3 bench/peers/simclr_mnist_shared_views.py --init $D/init.json \
 *   --views $D/views-twin.f32 --log $D/twin-on-twin.json
 * /usr/bin/python3 bench/peers/simclr_mnist_shared_views.py --compare $D/selfsup-on-selfsup.json \
 *   $D/twin-on-selfsup.json
 * ```
 *
 * Any other flag goes to the pretrain setup (`--steps`, `--backend`, `--temperature`, ...).
 *
 * @module
 */
import { tf } from "../../backend/tf.ts";
import { imagesOf, Loader } from "../../data/mod.ts";
import type { Method } from "../../methods/types.ts";
import { knnMonitor, recipeTrainOptions, train, type TrainOptions } from "../../train/mod.ts";
import { givenOptions, parseOptions } from "../../cli/_args.ts";
import { PRETRAIN_OPTIONS } from "../../cli/_pretrain_options.ts";
import { preparePretrain } from "../../cli/_pretrain_setup.ts";

// this script's own flags, taken out before the pretrain flags are parsed
const own: Record<string, string | undefined> = {};
const rest: string[] = [];
for (let i = 0; i < Deno.args.length; i++) {
  const a = Deno.args[i];
  const name = a.replace(/^--/, "");
  if (["record", "replay", "init-out", "init-in", "log"].includes(name)) {
    own[name] = Deno.args[++i];
  } else rest.push(a);
}
if (own.record && own.replay) throw new Error("--record or --replay, not both");
const tag = `shared-views-${Date.now()}`;
const args = [...rest, "--quiet", "--out", "runs/shared-views/cli", "--run-name", tag];
const cli = parseOptions(args, PRETRAIN_OPTIONS);
const run = await preparePretrain(cli, givenOptions(args, PRETRAIN_OPTIONS));
if ("done" in run) throw new Error("unexpected: a finished run");
const { o, data, batchSize, steps, stepsPerEpoch, recipe, setup, backend } = run;
const nets = setup.nets as Record<string, import("@tensorflow/tfjs-layers").LayersModel>;
const models = Object.values(nets);
const [h, w, c] = data.train.shape;
const viewSize = batchSize * h * w * c;

type WeightDump = { name: string; trainable: boolean; shape: number[]; values: number[] };
/** Every weight of the nets in layer order (encoder, then head), as the parity dump writes them. */
function weights(): WeightDump[] {
  return models.flatMap((net) =>
    net.weights.map((v) => ({
      name: v.name,
      trainable: v.trainable,
      shape: v.shape as number[],
      values: Array.from(v.read().dataSync()),
    }))
  );
}
if (own["init-in"]) {
  const dump = JSON.parse(await Deno.readTextFile(own["init-in"])) as WeightDump[];
  const all = models.flatMap((net) => net.weights);
  if (dump.length !== all.length) throw new Error(`${own["init-in"]}: ${dump.length} weights`);
  all.forEach((v, i) => {
    if (dump[i].shape.join() !== v.shape.join()) throw new Error(`shape of ${v.name} differs`);
    v.write(tf.tensor(dump[i].values, v.shape as number[]));
  });
}
const initial = weights();
if (own["init-out"]) await Deno.writeTextFile(own["init-out"], JSON.stringify(initial));

const base = setup.method as Method<unknown, unknown>;
const variables = base.trainable(nets);
const nonTrainable = models.flatMap((net) => net.weights.filter((v) => !v.trainable));
let firstGrads: { name: string; values: number[] }[] = [];

/** Each variable's gradient norm for these views and the current weights; the BatchNorm moving
 * statistics the extra forward pass moves are put back. */
function gradNorms(views: tf.Tensor4D[], step: number): Record<string, number> {
  const saved = nonTrainable.map((v) => tf.clone(v.read()));
  const { value, grads } = tf.variableGrads(
    () => base.step(nets, views, setup.state, { progress: step / steps, step, epoch: 0 }).loss,
    variables,
  );
  const out: Record<string, number> = { loss: value.dataSync()[0] };
  for (const v of variables) out[v.name] = tf.tidy(() => tf.norm(grads[v.name]).dataSync()[0]);
  if (step === 0) {
    firstGrads = variables.map((v) => ({
      name: v.name,
      values: Array.from(grads[v.name].dataSync()),
    }));
  }
  tf.dispose([value, ...Object.values(grads)]);
  nonTrainable.forEach((v, i) => v.write(saved[i]));
  tf.dispose(saved);
  return out;
}

const recordFile = own.record
  ? await Deno.open(own.record, { write: true, create: true, truncate: true })
  : null;
const replayFile = own.replay ? await Deno.open(own.replay, { read: true }) : null;
if (replayFile) {
  const { size } = await replayFile.stat();
  if (size < steps * 2 * viewSize * 4) {
    throw new Error(
      `${own.replay}: ${size} bytes, ${steps} steps need ${steps * 2 * viewSize * 4}`,
    );
  }
}
let t = 0;
const stepGradNorms: Record<string, number>[] = [];
const method: Method<unknown, unknown> = {
  ...base,
  views(images, seed) {
    let views: tf.Tensor4D[];
    if (replayFile) {
      const bytes = new Uint8Array(2 * viewSize * 4);
      replayFile.seekSync(t * bytes.length, Deno.SeekMode.Start);
      let got = 0;
      while (got < bytes.length) got += replayFile.readSync(bytes.subarray(got))!;
      const f = new Float32Array(bytes.buffer);
      views = [0, 1].map((k) =>
        tf.tensor4d(f.subarray(k * viewSize, (k + 1) * viewSize), [batchSize, h, w, c])
      );
    } else {
      views = base.views(images, seed);
      if (recordFile) {
        for (const v of views) {
          const bytes = new Uint8Array((v.dataSync() as Float32Array).slice().buffer);
          let put = 0;
          while (put < bytes.length) put += recordFile.writeSync(bytes.subarray(put));
        }
      }
    }
    if (t < 2) stepGradNorms.push(gradNorms(views, t));
    t++;
    return views;
  },
};

const bank = imagesOf(data.labeled!, o.knnBank as number);
const queries = imagesOf(data.test!, o.knnQueries as number);
const monitor = knnMonitor(setup.encoder!, {
  trainImages: bank.images,
  trainLabels: bank.labels,
  testImages: queries.images,
  testLabels: queries.labels,
}, { k: o.knnK as number });
const options: TrainOptions<unknown> = {
  ...recipeTrainOptions(recipe, setup.nets, variables),
  stepsPerEpoch,
  seed: o.seed as number,
  progress: false,
  evaluateAtStart: true,
  evaluateEvery: steps,
  evaluate: () => monitor(),
};
const t0 = performance.now();
const result = await train(
  { ...setup, method } as unknown as Parameters<typeof train>[0],
  () => new Loader(data.train, { batchSize, seed: o.seed as number, epochs: Infinity }),
  options,
);
const seconds = (performance.now() - t0) / 1000;
recordFile?.close();
replayFile?.close();
const report = {
  side: "selfsup",
  backend,
  seed: o.seed,
  steps,
  recipe: {
    lr: recipe.lr,
    warmupSteps: recipe.warmupSteps,
    momentum: recipe.momentum,
    weightDecay: recipe.weightDecay,
    schedule: recipe.schedule,
    minLr: recipe.minLr ?? 0,
  },
  views: own.replay ?? own.record ?? "drawn",
  init: own["init-in"] ?? `seed ${o.seed}`,
  knnTop1Start: result.evaluations[0]?.knnTop1,
  knnTop1: result.evaluations.at(-1)?.knnTop1,
  losses: result.history.map((r) => Number(r.loss)),
  lrs: result.history.map((r) => Number(r.lr)),
  gradNorms: result.history.map((r) => Number(r.gradNorm)),
  stepGradNorms,
  firstGrads,
  final: weights(),
  trainSeconds: seconds,
};
console.log(
  JSON.stringify({
    seed: report.seed,
    views: report.views,
    knnTop1Start: report.knnTop1Start,
    knnTop1: report.knnTop1,
    firstLoss: report.losses[0],
    last100: report.losses.slice(-100).reduce((s, x) => s + x, 0) / 100,
    trainSeconds: seconds,
  }),
);
if (own.log) await Deno.writeTextFile(own.log, JSON.stringify(report));
tf.dispose([bank.images, queries.images]);
await Deno.remove(`runs/shared-views/cli/${tag}`, { recursive: true }).catch(() => {});
