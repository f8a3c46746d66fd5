/**
 * Issue 17: `dcganDiscriminator` (methods/_gan_discriminator.ts), its mirror test. Each refusal
 * names the option with its exact message; the defaults build the paper's trunk (5x5 stride-2
 * convolutions of 64 and 128 channels, "same" padding, a bias on the first only, BatchNorm after
 * every convolution but the first with momentum 0.9 and epsilon 1e-5, LeakyReLU 0.2 after each,
 * flattened), and the options reach the layers.
 */
import assert from "node:assert/strict";
import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { dcganDiscriminator } from "../../methods/_gan_discriminator.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

function refusal(options: Record<string, unknown>): Error {
  try {
    dcganDiscriminator({ inputShape: [8, 8, 1], ...options } as never);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`no error: ${JSON.stringify(options)}`);
}

function config(l: tfl.layers.Layer): Record<string, unknown> {
  return l.getConfig() as Record<string, unknown>;
}

function release(d: tfl.LayersModel): void {
  tf.dispose(d.weights.map((w) => w.read()));
}

Deno.test("dcganDiscriminator refuses each bad option by name", () => {
  const cases: [Record<string, unknown>, ErrorConstructor, string][] = [
    [
      { inputShape: [8, 8] },
      TypeError,
      "Cannot build a discriminator: inputShape must be [height, width, channels], received [8,8]",
    ],
    [
      { widths: [4, 0] },
      RangeError,
      "Cannot build a discriminator: widths must be positive integers, received [4,0]",
    ],
    [
      { kernelSize: 0 },
      RangeError,
      "Cannot build a discriminator (kernelSize): widths must be positive integers, received [0]",
    ],
    [
      { widths: [] },
      TypeError,
      "Cannot build a discriminator: expected at least one width, received []",
    ],
    [
      { slope: -0.1 },
      TypeError,
      "Cannot build a discriminator: expected slope in [0, 1), received -0.1",
    ],
    [{ slope: 1 }, TypeError, "Cannot build a discriminator: expected slope in [0, 1), received 1"],
    [
      { slope: NaN },
      TypeError,
      "Cannot build a discriminator: expected slope in [0, 1), received NaN",
    ],
  ];
  for (const [options, kind, text] of cases) {
    const e = refusal(options);
    assert.ok(e instanceof kind, `${JSON.stringify(options)}: ${e}`);
    assert.equal(e.message, text);
  }
  // the ends of [0, 1) that are inside it build
  for (const slope of [0, 0.99]) {
    const d = dcganDiscriminator({ inputShape: [8, 8, 1], widths: [2], slope });
    const leaky = d.layers.filter((l) => l.getClassName() === "LeakyReLU");
    assert.deepEqual(leaky.map((l) => config(l).alpha), [slope]);
    release(d);
  }
});

Deno.test("dcganDiscriminator's defaults: 5x5 stride-2 convs of [64, 128], bias on the first, BN on the rest, LeakyReLU 0.2, flattened", () => {
  const d = dcganDiscriminator({ inputShape: [28, 28, 1] });
  assert.equal(d.name, "dcgan_discriminator");
  assert.deepEqual(d.outputs[0].shape, [null, 7 * 7 * 128]);
  assert.deepEqual(
    d.layers.map((l) => l.getClassName()),
    [
      "InputLayer",
      "Conv2D",
      "LeakyReLU",
      "Conv2D",
      "BatchNormalization",
      "LeakyReLU",
      "Flatten",
    ],
  );
  const convs = d.layers.filter((l) => l.getClassName() === "Conv2D").map(config);
  assert.deepEqual(
    convs.map((c) => [c.filters, c.kernelSize, c.strides, c.padding, c.useBias]),
    [[64, [5, 5], [2, 2], "same", true], [128, [5, 5], [2, 2], "same", false]],
  );
  const bn = config(d.layers.find((l) => l.getClassName() === "BatchNormalization")!);
  assert.equal(bn.momentum, 0.9);
  assert.equal(bn.epsilon, 1e-5);
  const leaky = d.layers.filter((l) => l.getClassName() === "LeakyReLU");
  assert.deepEqual(leaky.map((l) => config(l).alpha), [0.2, 0.2]);
  release(d);
});

Deno.test("dcganDiscriminator's options reach the layers; weights N(0, 0.02), BN gamma N(1, 0.02)", () => {
  const d = dcganDiscriminator({
    inputShape: [16, 12, 3],
    widths: [24, 32, 512],
    kernelSize: 3,
    slope: 0.1,
    name: "critic",
  });
  assert.equal(d.name, "critic");
  assert.deepEqual(d.outputs[0].shape, [null, 2 * 2 * 512]);
  const convs = d.layers.filter((l) => l.getClassName() === "Conv2D");
  assert.deepEqual(
    convs.map((l) => [config(l).filters, config(l).kernelSize, config(l).useBias]),
    [[24, [3, 3], true], [32, [3, 3], false], [512, [3, 3], false]],
  );
  const bns = d.layers.filter((l) => l.getClassName() === "BatchNormalization");
  assert.equal(bns.length, 2);
  // each BatchNorm sits right after the second and third convolutions
  for (const [i, l] of d.layers.entries()) {
    if (l.getClassName() !== "BatchNormalization") continue;
    assert.equal(d.layers[i - 1].getClassName(), "Conv2D");
    assert.notEqual(d.layers[i - 1], convs[0]);
  }
  const leaky = d.layers.filter((l) => l.getClassName() === "LeakyReLU");
  assert.deepEqual(leaky.map((l) => config(l).alpha), [0.1, 0.1, 0.1]);
  const stats = (t: tf.Tensor) => {
    const v = Array.from(t.dataSync());
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const std = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
    return [mean, std];
  };
  // the first kernel (3 * 3 * 3 * 24 draws): Glorot's default would have std ~0.09 there
  const [k0Mean, k0Std] = stats(convs[0].getWeights()[0]);
  assert.ok(Math.abs(k0Mean) < 0.01 && Math.abs(k0Std - 0.02) < 0.004, `${k0Mean} ${k0Std}`);
  const gamma = bns[1].getWeights()[0];
  assert.equal(gamma.size, 512);
  const [gMean, gStd] = stats(gamma);
  assert.ok(Math.abs(gMean - 1) < 0.005 && Math.abs(gStd - 0.02) < 0.005, `${gMean} ${gStd}`);
  release(d);
});
