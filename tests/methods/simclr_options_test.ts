/**
 * SimCLR's defaults and head options for effect (issue 17, survivors of `deno task mutate
 * methods/simclr.ts`): NT-Xent at temperature 0.5 by default (SimCLR's CIFAR setting), the
 * head's depth, width and BatchNorm switches, and the messages of the options it checks.
 *
 * @module
 */
import assert from "node:assert/strict";
import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { simclr } from "../../methods/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { type Matrix, refNtXent } from "../losses/_reference.ts";
import { seededImages, toyEncoder } from "./_helpers.ts";

await setupBackend();

const IMG: [number, number, number] = [6, 6, 1];

const view = seededImages;

function layout(m: tfl.LayersModel): string[] {
  return m.layers.slice(1).map((l) =>
    l.getClassName() === "Dense"
      ? `Dense:${(l.getConfig() as { units: number }).units}`
      : l.getClassName()
  );
}

Deno.test("simclr by default: NT-Xent at temperature 0.5 over both views as one BatchNorm batch", () => {
  const setup = simclr({ encoder: toyEncoder(IMG, 8, 81), inputShape: IMG, seed: 1 });
  const { encoder, head } = setup.nets;
  const v = [view([6, ...IMG], 1), view([6, ...IMG], 2)];
  const both = tf.concat(v, 0) as tf.Tensor4D;
  const z = tf.tidy(() =>
    (head.apply(encoder.apply(both, { training: true }), { training: true }) as tf.Tensor)
      .arraySync() as Matrix
  );
  const r = setup.method.step(setup.nets, v, setup.state, { progress: 0, step: 0, epoch: 0 });
  assertTensorClose(r.loss, refNtXent(z.slice(0, 6), z.slice(6), 0.5), {
    rtol: 1e-4,
    atol: 1e-5,
  });
  // 128 out, hidden = the encoder's width, BatchNorm after each Dense (the official head)
  assert.deepEqual(layout(head), [
    "Dense:8",
    "BatchNormalization",
    "ReLU",
    "Dense:128",
    "BatchNormalization",
  ]);
  tf.dispose([r.loss, ...Object.values(r.metrics), ...v, both]);
});

Deno.test("simclr head options: headLayers 3, hiddenDim, headBatchNorm false", () => {
  const base = { encoder: toyEncoder(IMG, 8, 82), inputShape: IMG, seed: 1, projectionDim: 5 };
  assert.deepEqual(
    layout(simclr({ ...base, headLayers: 3, hiddenDim: 7 }).nets.head).filter((l) =>
      l.startsWith("Dense")
    ),
    ["Dense:7", "Dense:7", "Dense:5"],
  );
  assert.deepEqual(layout(simclr({ ...base, headBatchNorm: false, hiddenDim: 7 }).nets.head), [
    "Dense:7",
    "ReLU",
    "Dense:5",
  ]);
});

Deno.test("simclr refuses an unknown loss and a non-positive temperature, naming them", () => {
  const base = { encoder: toyEncoder(IMG, 8, 83), inputShape: IMG, seed: 1 };
  assert.throws(() => simclr({ ...base, loss: "mse" as never }), {
    name: "TypeError",
    message: 'Cannot build simclr: loss must be "nt-xent" or "info-nce", received mse',
  });
  assert.throws(() => simclr({ ...base, temperature: 0 }), {
    name: "RangeError",
    message: "Cannot build simclr: temperature must be in (0, Infinity], received 0",
  });
});
