/**
 * Step-by-step parity with the PyTorch twin, same weights and same inputs: builds the default
 * SimCLR setup (ConvNet 16-32-64, head 64-64-128, tau 0.5), takes one batch of 64 MNIST images
 * and its two mnistAugment views, and writes to a JSON file the initial weights, the views, the
 * loss, every gradient, and the weights and BatchNorm moving statistics after two SGD updates
 * (lr 0.06, momentum 0.8, weight decay 5e-4 on kernels) through `train/sgd.ts`. Then
 * `simclr_mnist_twin.py --parity <file>` loads the same weights and views into the twin and
 * prints the largest differences.
 *
 * ```sh
 * deno run -A bench/peers/simclr_mnist_parity_dump.ts /tmp/parity.json [0.2 plain]
 * /usr/bin/python3 bench/peers/simclr_mnist_twin.py --parity /tmp/parity.json
 * ```
 *
 * @module
 */
import { tf } from "../../backend/tf.ts";
import { useBackend } from "../../backend/use_backend.ts";
import { createMethod } from "../../methods/mod.ts";
import type { SimclrNets } from "../../methods/simclr.ts";
import { mnist } from "../../data/mod.ts";
import { mnistAugment } from "../../augment/mod.ts";
import { sgd } from "../../train/mod.ts";

const path = Deno.args[0] ?? "/tmp/parity.json";
// optional: the temperature and "plain" for the paper's head without BatchNorm (the default run's)
const temperature = Number(Deno.args[1] ?? 0.5);
const headBatchNorm = Deno.args[2] !== "plain";
const backend = await useBackend(undefined, { quiet: true });
const train60k = await mnist("train");
const x = tf.tensor4d(
  Float32Array.from(train60k.images.subarray(0, 64 * 784), (b) => b / 255),
  [64, 28, 28, 1],
);
const setup = createMethod("simclr", {
  encoder: "convnet",
  inputShape: [28, 28, 1],
  seed: 0,
  augment: mnistAugment(),
  widths: [16, 32, 64],
  temperature,
  headBatchNorm,
});
const nets = setup.nets as SimclrNets;
const views = setup.method.views(x, 7);

/** Every weight of the nets in layer order, with its name and whether it is trainable. */
function weights() {
  return [nets.encoder, nets.head].flatMap((net) =>
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
const opt = sgd(variables, { momentum: 0.8, weightDecay: 5e-4 });
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
  opt.apply(variables.map((v) => grads[v.name]), 0.06);
  tf.dispose([value, ...Object.values(grads)]);
}
await Deno.writeTextFile(
  path,
  JSON.stringify({
    backend,
    temperature,
    views: views.map((v) => Array.from(v.dataSync())),
    initial,
    losses,
    grads: firstGrads,
    after: weights(),
  }),
);
console.log(`wrote ${path}: losses ${losses.map((l) => l.toFixed(6)).join(", ")} on ${backend}`);
