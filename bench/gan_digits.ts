/**
 * Does the DCGAN draw digits? Trains `gan` on MNIST with DCGAN's Adam (2e-4, beta1 0.5), trains
 * a supervised MNIST classifier, and reports the share of 1,000 samples it assigns a class with
 * p > 0.9 and the class histogram (issue: >= 80% and all 10 digits). Writes the samples' grid.
 *
 * deno run -A bench/gan_digits.ts [backend=auto] [steps=3000] [minutes=30] [out.png]
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { useBackend } from "../backend/use_backend.ts";
import { withSeed } from "../backend/with_seed.ts";
import { mnist } from "../data/mod.ts";
import { DCGAN_ADAM, gan, ganPhase } from "../methods/gan.ts";
import { convNet } from "../models/conv_net.ts";
import { pcg32 } from "../data/prng.ts";

const [backendArg = "auto", stepsArg = "3000", minutesArg = "30", out] = Deno.args;
await useBackend(backendArg as "auto", { quiet: true } as never);
console.log("backend", tf.getBackend());
const ds = await mnist("train");
const n = 60000;
const batch = 64;
const rnd = pcg32(0);
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

// 1. the GAN
const setup = withSeed(
  0,
  () => gan({ encoder: "convnet", inputShape: [28, 28, 1], seed: 0, widths: [32, 64] }),
);
const { method, nets } = setup;
const optD = tf.train.adam(DCGAN_ADAM.lr, DCGAN_ADAM.beta1, DCGAN_ADAM.beta2);
const optG = tf.train.adam(DCGAN_ADAM.lr, DCGAN_ADAM.beta1, DCGAN_ADAM.beta2);
const steps = Number(stepsArg);
const deadline = performance.now() + Number(minutesArg) * 60e3;
const t0 = performance.now();
let done = 0;
for (let step = 0; step < 2 * steps && performance.now() < deadline; step++) {
  const context = { progress: step / (2 * steps), step, epoch: 0 };
  const { x, y } = batchOf(batch);
  const views = method.views(x, step);
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
  if (step % 200 === 0) {
    console.log(
      `step ${step} loss ${loss!.dataSync()[0].toFixed(3)} dReal ${
        m.dReal.dataSync()[0].toFixed(3)
      } dFake ${m.dFake.dataSync()[0].toFixed(3)} ${((performance.now() - t0) / 1e3).toFixed(0)}s`,
    );
  }
  tf.dispose([x, y, loss!, ...views, ...Object.values(m)]);
  done = step + 1;
}
console.log(
  `GAN: ${done} steps (${done / 2} per net) in ${((performance.now() - t0) / 1e3).toFixed(0)}s`,
);

// 2. a supervised classifier
const trunk = withSeed(1, () => convNet({ inputShape: [28, 28, 1], widths: [32, 64] }));
const clf = tfl.sequential({ layers: [trunk, tfl.layers.dense({ units: 10 })] });
const optC = tf.train.adam(1e-3);
for (let step = 0; step < 400; step++) {
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
console.log(`classifier test accuracy ${acc.toFixed(4)} (2,000 test digits)`);

// 3. 1,000 samples
const samples = method.sample(nets, 1000, 7);
const p = tf.tidy(() => tf.softmax(clf.apply(samples, { training: false }) as tf.Tensor2D));
const pd = p.arraySync() as number[][];
const hist = new Array(10).fill(0);
let confident = 0;
for (const row of pd) {
  const k = row.indexOf(Math.max(...row));
  if (row[k] > 0.9) {
    confident++;
    hist[k]++;
  }
}
console.log(
  `confident (p > 0.9): ${(confident / 10).toFixed(1)}% of 1,000; histogram ${
    JSON.stringify(hist)
  }`,
);
if (out) {
  const grid = tf.tidy(() => {
    const s = tf.slice(samples, [0, 0, 0, 0], [64, 28, 28, 1]);
    const rows = tf.reshape(tf.transpose(tf.reshape(s, [8, 8, 28, 28]), [0, 2, 1, 3]), [224, 224]);
    return tf.cast(tf.mul(rows, 255), "int32");
  });
  const sharp = (await import("sharp")).default;
  await sharp(Uint8Array.from(grid.dataSync()), { raw: { width: 224, height: 224, channels: 1 } })
    .resize(448, 448, { kernel: "nearest" }).png().toFile(out);
  console.log(`wrote ${out}`);
  grid.dispose();
}
