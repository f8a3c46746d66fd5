/**
 * Step-by-step parity of the method table's Barlow Twins (solo-cifar) with its PyTorch twin, same
 * weights and same inputs: builds the table's setup (ConvNet 16-32-64, `scaledProjector`: 256-wide
 * projector, loss x0.1), takes the first 64 Fashion-MNIST training images and their two
 * `fashionAugment` views, and writes to a JSON file the initial weights, the views, the losses,
 * every gradient of the first step, and the weights and BatchNorm moving statistics after two
 * LARS updates as solo-cifar resolves them (lr 0.075, momentum 0.9, wd 1e-4, trust 0.02 clipped at
 * lr) through `train/lars.ts`. Then `barlow_fashion_twin.py --parity <file>` loads the same
 * weights and views into the twin and prints the largest differences.
 *
 * ```sh
 * deno run -A bench/peers/barlow_fashion_parity_dump.ts /tmp/barlow-parity.json
 * /usr/bin/python3 bench/peers/barlow_fashion_twin.py --parity /tmp/barlow-parity.json
 * ```
 *
 * @module
 */
import { tf } from "../../backend/tf.ts";
import { useBackend } from "../../backend/use_backend.ts";
import { createMethod } from "../../methods/mod.ts";
import type { BarlowTwinsNets } from "../../methods/barlow_twins.ts";
import { fashionMnist } from "../../data/mod.ts";
import { fashionAugment } from "../../augment/mod.ts";
import { lars } from "../../train/mod.ts";

const path = Deno.args[0] ?? "/tmp/barlow-parity.json";
const lr = 0.075;
const backend = await useBackend(undefined, { quiet: true });
const train60k = await fashionMnist("train");
const x = tf.tensor4d(
  Float32Array.from(train60k.images.subarray(0, 64 * 784), (b) => b / 255),
  [64, 28, 28, 1],
);
const setup = createMethod("barlow-twins", {
  encoder: "convnet",
  inputShape: [28, 28, 1],
  seed: 0,
  augment: fashionAugment(),
  widths: [16, 32, 64],
  scaledProjector: true,
  scaleLoss: 0.1,
});
const nets = setup.nets as BarlowTwinsNets;
const views = setup.method.views(x, 7);

/** Every weight of the nets in layer order, with its name and whether it is trainable. */
function weights() {
  return [nets.encoder, nets.projector].flatMap((net) =>
    net.weights.map((w) => ({
      name: w.name,
      trainable: w.trainable,
      shape: w.shape,
      values: Array.from(w.read().dataSync()),
    }))
  );
}
const initial = weights();
const variables = setup.method.trainable(nets);
const opt = lars(variables, { momentum: 0.9, weightDecay: 1e-4, eta: 0.02, clip: true });
const losses: number[] = [];
let firstGrads: { name: string; values: number[] }[] = [];
for (let i = 0; i < 2; i++) {
  const { value, grads } = tf.variableGrads(
    () => setup.method.step(nets, views, setup.state, { progress: 0, step: i, epoch: 0 }).loss,
    variables,
  );
  losses.push(value.dataSync()[0]);
  if (i === 0) {
    firstGrads = variables.map((v) => ({
      name: v.name,
      values: Array.from(grads[v.name].dataSync()),
    }));
  }
  opt.apply(variables.map((v) => grads[v.name]), lr);
  tf.dispose([value, ...Object.values(grads)]);
}
await Deno.writeTextFile(
  path,
  JSON.stringify({
    backend,
    lr,
    views: views.map((v) => Array.from(v.dataSync())),
    initial,
    losses,
    grads: firstGrads,
    after: weights(),
  }),
);
console.log(`wrote ${path}: losses ${losses.map((l) => l.toFixed(6)).join(", ")} on ${backend}`);
