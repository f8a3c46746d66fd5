/**
 * How far one LARS step moves each adapted layer of a table method (ConvNet 16-32-64, the
 * table's Fashion-MNIST views and method options) under two recipe families, for
 * bench/RESULTS.md "LARS at batch 64: solo-cifar (H11L)": on the first 64 Fashion-MNIST training
 * images at initialization, each kernel's `||w||`, `||g||` and step / `||w||` before momentum:
 * `paper` (trust 0.001, local rate `0.001 ||w|| / ||g|| x lr`) and `solo-cifar` (trust 0.02,
 * local rate `min(0.02 ||w|| / ||g||, lr)`), and which bound holds for the clipped one.
 *
 * ```sh
 * SELFSUP_THREADS=1 deno run -A bench/lars_local_rates.ts moco-v3
 * ```
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { useBackend } from "../backend/use_backend.ts";
import { createMethod, type CreateMethodOptions, resolveRecipe } from "../methods/mod.ts";
import { tableAugment, tableMethodOptions } from "../eval/method_table.ts";
import { fashionMnist } from "../data/mod.ts";
import { excludedFromWeightDecay } from "../train/mod.ts";

const method = Deno.args[0] ?? "moco-v3";
await useBackend("native", { quiet: true });
const ds = await fashionMnist("train");
const x = tf.tidy(() =>
  tf.div(tf.tensor4d(ds.images.subarray(0, 64 * 784), [64, 28, 28, 1], "int32"), 255)
) as tf.Tensor4D;
const size = { batchSize: 64, steps: 1000 };
const paper = resolveRecipe(method, { ...size, recipe: "paper" });
const solo = resolveRecipe(method, { ...size, recipe: "solo-cifar" });
const eta = { paper: paper.larsEta ?? 0.001, solo: solo.larsEta ?? 0.001 };
const setup = createMethod(
  method as Parameters<typeof createMethod>[0],
  {
    encoder: "convnet",
    inputShape: [28, 28, 1],
    seed: 0,
    widths: [16, 32, 64],
    augment: tableAugment("fashion"),
    ...tableMethodOptions(method, size.steps),
  } as CreateMethodOptions,
);
const variables = setup.method.trainable(setup.nets);
const views = setup.method.views(x, 1);
const { grads } = tf.variableGrads(
  () => setup.method.step(setup.nets, views, setup.state, { progress: 0, step: 0, epoch: 0 }).loss,
  variables,
);
console.log(
  `${method}: paper lars lr ${paper.lr} trust ${eta.paper}; solo-cifar lars lr ${solo.lr} trust ${eta.solo} clipped`,
);
const e = (v: number) => v.toExponential(2);
for (const v of variables) {
  const g = grads[v.name];
  if (!g || excludedFromWeightDecay(v)) continue; // biases and BN: plain lr in both
  const wn = tf.norm(v).dataSync()[0], gn = tf.norm(g).dataSync()[0];
  const paperStep = eta.paper * paper.lr; // (eta ||w|| / ||g|| x lr) ||g|| / ||w||
  const trust = eta.solo * wn / gn;
  const soloStep = Math.min(trust, solo.lr) * gn / wn;
  console.log(
    `${v.name.padEnd(24)} |w| ${wn.toFixed(3)} |g| ${e(gn)}  step/|w|: paper ${e(paperStep)}, ` +
      `solo-cifar ${e(soloStep)} (${trust < solo.lr ? "trust" : "lr"}-bound), ${
        (soloStep / paperStep).toFixed(0)
      }x`,
  );
}
