import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import { DCGAN_ADAM, gan } from "../../../methods/gan.ts";
import { setupBackend } from "../../_utils.ts";

await setupBackend();

Deno.test("gan follows DCGAN: z ~ U(-1, 1), tanh generator with BatchNorm on all but its output, Adam 2e-4 / 0.5", () => {
  const setup = gan({
    encoder: "convnet",
    inputShape: [8, 8, 1],
    seed: 0,
    widths: [4],
    zDim: 64,
    generatorWidths: [4],
  });
  const x = tf.randomUniform([64, 8, 8, 1], 0, 1, "float32", 1) as tf.Tensor4D;
  const [real, z] = setup.method.views(x, 3);
  assert.deepEqual(real.dataSync(), x.dataSync()); // D sees real images in [0, 1]
  const zs = Array.from(z.dataSync());
  const mean = zs.reduce((s, v) => s + v, 0) / zs.length;
  const std = Math.sqrt(zs.reduce((s, v) => s + (v - mean) ** 2, 0) / zs.length);
  // uniform on [-1, 1]: bounded, std 1 / sqrt(3) = 0.577 (a standard normal: unbounded, std 1)
  assert.ok(Math.min(...zs) >= -1 && Math.max(...zs) <= 1 && Math.max(...zs) > 0.99);
  assert.ok(Math.abs(std - 1 / Math.sqrt(3)) < 0.01, `z std ${std}`);
  // generator: tanh output; every hidden Dense/transposed conv is followed by BatchNorm, the output
  // not
  const layers = setup.nets.generator.layers;
  const weighted = layers.map((l, i) => [l, i] as const).filter(([l]) =>
    ["Dense", "Conv2DTranspose"].includes(l.getClassName())
  );
  const last = weighted[weighted.length - 1];
  assert.equal((last[0].getConfig() as { activation: string }).activation, "tanh");
  assert.equal(last[1], layers.length - 1);
  // (the projection's BatchNorm comes after its reshape to a 4 x 4 x C map: per channel, as
  // dcgan.torch)
  for (const [, i] of weighted.slice(0, -1)) {
    const next = layers[i + 1].getClassName() === "Reshape" ? i + 2 : i + 1;
    assert.equal(layers[next].getClassName(), "BatchNormalization", layers[i].name);
  }
  // samples come back in [0, 1] and use the range
  const s = setup.method.sample(setup.nets, 16, 0);
  const [lo, hi] = [tf.min(s).dataSync()[0], tf.max(s).dataSync()[0]];
  assert.ok(lo >= 0 && hi <= 1 && hi > lo);
  assert.deepEqual({ ...DCGAN_ADAM }, { lr: 2e-4, beta1: 0.5, beta2: 0.999 });
  tf.dispose([x, real, z, s]);
});
