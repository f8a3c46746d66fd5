/**
 * The denoising autoencoder pinned to what it documents (issue 17, fourth mutation pass on
 * methods/denoising_autoencoder.ts, whose only tests were a learning run and a preview):
 * `corrupt`'s three noises checked pixel by pixel against the uniform draw they are defined on
 * (masking zeroes u < level, salt-and-pepper sets u < level/2 to 1 and level/2 <= u < level to 0)
 * and the Gaussian's spread; `step().loss` equal to the MSE or L1 of decoder(encoder(noisy))
 * against the clean view computed from the nets' own outputs, with its metrics; defaults; the
 * exact message of every refusal.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import { corrupt, denoisingAutoencoder } from "../../../methods/denoising_autoencoder.ts";
import { zStd } from "../../../methods/_common.ts";
import type { StepContext } from "../../../methods/mod.ts";
import { assertTensorClose, setupBackend } from "../../_utils.ts";
import { toyEncoder, toySequenceEncoder } from "../_helpers.ts";

await setupBackend();

const AT: StepContext = { progress: 0, step: 0, epoch: 0 };
const SHAPE: [number, number, number] = [8, 8, 1];

function images(n: number, seed: number): tf.Tensor4D {
  // values in [0.2, 0.8]: neither 0 nor 1, so a salted or peppered pixel shows
  return tf.randomUniform([n, ...SHAPE], 0.2, 0.8, "float32", seed) as tf.Tensor4D;
}

Deno.test("corrupt: masking and salt-and-pepper follow the seeded uniform draw pixel by pixel; level 0 changes nothing", () => {
  const x = images(16, 1);
  const xs = Array.from(x.dataSync());
  for (const level of [0.1, 0.3, 0.6]) {
    const u = Array.from(tf.randomUniform(x.shape, 0, 1, "float32", 5).dataSync());
    const masked = Array.from(corrupt(x, "masking", level, 5).dataSync());
    const sp = Array.from(corrupt(x, "salt-and-pepper", level, 5).dataSync());
    let zeros = 0;
    for (let i = 0; i < xs.length; i++) {
      assert.equal(masked[i], u[i] < level ? 0 : xs[i], `masking ${level} at ${i}`);
      const want = u[i] < level / 2 ? 1 : u[i] < level ? 0 : xs[i];
      assert.equal(sp[i], want, `salt-and-pepper ${level} at ${i}`);
      if (masked[i] === 0) zeros++;
    }
    // the fraction masked is the level (1,024 pixels)
    assert.ok(Math.abs(zeros / xs.length - level) < 0.05, `masked ${zeros / xs.length}`);
  }
  for (const kind of ["masking", "salt-and-pepper", "gaussian"] as const) {
    assert.deepEqual(Array.from(corrupt(x, kind, 0, 3).dataSync()), xs, kind);
  }
  x.dispose();
});

Deno.test("corrupt: gaussian noise of standard deviation level, zero mean, seeded (seed 0 too)", () => {
  const x = images(32, 2);
  for (const level of [0.1, 0.5]) {
    const d = Array.from(tf.sub(corrupt(x, "gaussian", level, 7), x).dataSync());
    const mean = d.reduce((a, v) => a + v, 0) / d.length;
    const sd = Math.sqrt(d.reduce((a, v) => a + (v - mean) ** 2, 0) / d.length);
    assert.ok(Math.abs(mean) < 0.05 * level + 0.01, `mean ${mean}`);
    assert.ok(Math.abs(sd / level - 1) < 0.05, `sd ${sd} for level ${level}`);
  }
  for (const seed of [0, 9]) {
    assert.deepEqual(
      Array.from(corrupt(x, "gaussian", 0.3, seed).dataSync()),
      Array.from(corrupt(x, "gaussian", 0.3, seed).dataSync()),
      `seed ${seed} repeats`,
    );
  }
  assert.notDeepEqual(
    Array.from(corrupt(x, "gaussian", 0.3, 0).dataSync()),
    Array.from(corrupt(x, "gaussian", 0.3, 1).dataSync()),
  );
  assert.throws(() => corrupt(x, "gaussian", 1.5, 0), {
    name: "RangeError",
    message: "Cannot build a corruption: level must be in [0, 1], received 1.5",
  });
  assert.throws(() => corrupt(x, "blur" as "gaussian", 0.5, 0), {
    name: "RangeError",
    message: "Cannot corrupt: noise must be gaussian, salt-and-pepper or masking, received blur",
  });
  x.dispose();
});

Deno.test("denoising-autoencoder step: MSE (or L1) of decoder(encoder(noisy)) against the clean view; mse, noisyMse and zStd", () => {
  for (const loss of ["mse", "l1"] as const) {
    const setup = denoisingAutoencoder({
      encoder: toyEncoder(SHAPE, 8, 4),
      inputShape: SHAPE,
      seed: 2,
      noise: "masking",
      noiseLevel: 0.4,
      loss,
      decoderWidths: [4],
    });
    const x = images(3, 6);
    const views = setup.method.views(x, 12);
    const [noisy, clean] = views;
    assertTensorClose(noisy, corrupt(x, "masking", 0.4, 12), { rtol: 0, atol: 0 });
    assertTensorClose(clean, x, { rtol: 0, atol: 0 });
    const z = setup.nets.encoder.apply(noisy, { training: true }) as tf.Tensor2D;
    const recon = setup.nets.decoder.apply(z, { training: true }) as tf.Tensor4D;
    const r = Array.from(recon.dataSync()), c = Array.from(clean.dataSync());
    const n = Array.from(noisy.dataSync());
    const mse = r.reduce((a, v, i) => a + (v - c[i]) ** 2, 0) / r.length;
    const l1 = r.reduce((a, v, i) => a + Math.abs(v - c[i]), 0) / r.length;
    const noisyMse = n.reduce((a, v, i) => a + (v - c[i]) ** 2, 0) / n.length;
    const out = setup.method.step(setup.nets, views, setup.state, AT);
    const got = out.loss.dataSync()[0];
    assert.ok(Math.abs(got - (loss === "mse" ? mse : l1)) < 1e-6, `${loss}: ${got}`);
    assert.ok(Math.abs(out.metrics.mse.dataSync()[0] - mse) < 1e-6);
    assert.ok(Math.abs(out.metrics.noisyMse.dataSync()[0] - noisyMse) < 1e-6);
    assertTensorClose(out.metrics.zStd, zStd(z), { rtol: 1e-5, atol: 1e-6 });
    assert.equal(out.state, setup.state);
    assert.equal(setup.method.name, "denoising-autoencoder");
    tf.dispose([x, ...views, z, recon, out.loss, ...Object.values(out.metrics)]);
  }
});

Deno.test("denoising-autoencoder defaults: gaussian noise of 0.3, MSE, decoder widths [32, 16]; trainable encoder and decoder", () => {
  const setup = denoisingAutoencoder({
    encoder: toyEncoder(SHAPE, 8, 4),
    inputShape: SHAPE,
    seed: 2,
  });
  const x = images(4, 3);
  const [noisy] = setup.method.views(x, 21);
  assertTensorClose(noisy, corrupt(x, "gaussian", 0.3, 21), { rtol: 0, atol: 0 });
  const convs = setup.nets.decoder.layers.filter((l) => l.getClassName() === "Conv2D");
  assert.deepEqual(convs.map((l) => l.getWeights()[0].shape[3]), [32, 16, 1]);
  const views = setup.method.views(x, 21);
  const out = setup.method.step(setup.nets, views, setup.state, AT);
  assert.ok(Math.abs(out.loss.dataSync()[0] - out.metrics.mse.dataSync()[0]) < 1e-7, "MSE");
  const ids = (vs: tf.Variable[]) => vs.map((v) => v.id).sort();
  const want = [...setup.nets.encoder.trainableWeights, ...setup.nets.decoder.trainableWeights]
    .map((w) => (w as unknown as { val: tf.Variable }).val);
  assert.deepEqual(ids(setup.method.trainable(setup.nets)), ids(want));
  assert.equal(setup.encoder, setup.nets.encoder);
  tf.dispose([x, noisy, ...views, out.loss, ...Object.values(out.metrics)]);
});

Deno.test("denoising-autoencoder refuses a sequence encoder, an unknown noise or loss, a level outside [0, 1]", () => {
  const base = { encoder: toyEncoder(SHAPE, 8, 4), inputShape: SHAPE, seed: 0 };
  const cases: [Record<string, unknown>, string, string][] = [
    [
      { encoder: toySequenceEncoder(SHAPE) },
      "TypeError",
      "Cannot build denoising-autoencoder: expected an encoder with [B, D] output, received [B, L, D]",
    ],
    [
      { noise: "blur" },
      "RangeError",
      "Cannot build denoising-autoencoder: noise must be gaussian, salt-and-pepper or masking, received blur",
    ],
    [
      { loss: "l2" },
      "RangeError",
      "Cannot build denoising-autoencoder: loss must be mse or l1, received l2",
    ],
    [
      { noiseLevel: 1.5 },
      "RangeError",
      "Cannot build denoising-autoencoder: noiseLevel must be in [0, 1], received 1.5",
    ],
  ];
  for (const [extra, name, message] of cases) {
    assert.throws(() => denoisingAutoencoder({ ...base, ...extra } as never), { name, message });
  }
  // every documented noise and loss is accepted
  for (const noise of ["gaussian", "salt-and-pepper", "masking"] as const) {
    for (const loss of ["mse", "l1"] as const) {
      denoisingAutoencoder({ ...base, encoder: toyEncoder(SHAPE, 8, 4), noise, loss });
    }
  }
});
