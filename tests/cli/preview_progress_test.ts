// The pretext preview's training run (gan: 300 steps, minutes on a CPU) prints its progress with
// an ETA instead of running silently; --quiet and the library default stay silent.
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { inMemoryDataset } from "../../data/in_memory.ts";
import { createMethod, type MethodSetup } from "../../methods/mod.ts";
import { trainForPreview } from "../../cli/_preview_pretext_train.ts";
import { pretextPreviewMain } from "../../cli/_preview_pretext.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

/** 40 random 28x28 "digits": enough for the preview's batches of 32. */
function fakeMnist() {
  const n = 40;
  const images = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 2654435761) >>> 24);
  return inMemoryDataset("fake", images, new Uint8Array(n), [28, 28, 1], 10);
}

/**
 * A stand-in for the GAN (the real one's DCGAN nets take seconds per step on the cpu backend):
 * two scalar "nets", trained alternately as gan's even/odd steps, loss (w - 1)^2 * mean(x).
 */
function fakeGan(): MethodSetup {
  const d = tf.variable(tf.scalar(0)), g = tf.variable(tf.scalar(0));
  const method = {
    name: "gan",
    views: (x: tf.Tensor4D) => [tf.clone(x)],
    step: (_n: unknown, [x]: tf.Tensor4D[], state: unknown, c: { step: number }) => {
      const w = c.step % 2 === 0 ? d : g;
      return {
        loss: tf.mul(tf.square(tf.sub(w, 1)), tf.mean(x)) as tf.Scalar,
        metrics: {},
        state,
      };
    },
    trainable: () => [d, g],
    trainableAt: (_n: unknown, c: { step: number }) => [c.step % 2 === 0 ? d : g],
  };
  return { method, nets: {}, state: {}, encoder: null } as unknown as MethodSetup;
}

const base = { encoder: "convnet" as const, inputShape: [28, 28, 1] as [number, number, number] };

for (
  const [name, setup] of [
    ["gan", fakeGan],
    [
      "denoising-autoencoder",
      () =>
        createMethod("denoising-autoencoder", {
          ...base,
          seed: 0,
          widths: [2],
          decoderWidths: [2],
        }),
    ],
  ] as const
) {
  Deno.test(`pretext preview training (${name}) reports progress with an ETA`, async () => {
    const s = setup();
    const lines: string[] = [];
    await trainForPreview(name, s, fakeMnist(), {
      steps: 2,
      seed: 0,
      progress: true,
      log: (t) => lines.push(t),
    });
    const text = lines.join("");
    assert.match(text, new RegExp(`^training ${name} for 2 steps of 32`), text);
    assert.match(text, /step 2\/2 .*ETA \d+s/, text);
    if (name === "gan") assert.match(text, /step 2\/2 lossD [\d.]+ lossG [\d.]+ ETA/, text);
    // silent without progress
    const quiet: string[] = [];
    await trainForPreview(name, s, fakeMnist(), {
      steps: 1,
      seed: 0,
      progress: false,
      log: (t) => quiet.push(t),
    });
    assert.deepEqual(quiet, []);
    tf.dispose(s.method.trainable(s.nets));
  });
}

/** stderr as the CLI writes it (the progress bar writes bytes, not console lines). */
async function stderrOf(run: () => Promise<number>): Promise<{ code: number; err: string }> {
  const chunks: string[] = [];
  const writeSync = Deno.stderr.writeSync;
  const { error, log } = console;
  Deno.stderr.writeSync = (b: Uint8Array) => {
    chunks.push(new TextDecoder().decode(b));
    return b.length;
  };
  console.error = (...a: unknown[]) => chunks.push(a.join(" ") + "\n");
  console.log = () => {};
  try {
    return { code: await run(), err: chunks.join("") };
  } finally {
    Deno.stderr.writeSync = writeSync;
    Object.assign(console, { error, log });
  }
}

Deno.test("preview --method gan prints progress with an ETA; --quiet does not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "selfsup_preview_progress_" });
  try {
    // wasm, the preview's default: the full-size DCGAN is slow on the cpu backend
    const args = ["--method", "gan", "--steps", "1", "--count", "1", "--zoom", "1"];
    const loud = await stderrOf(() => pretextPreviewMain([...args, "--out", `${dir}/a.png`]));
    assert.equal(loud.code, 0, loud.err);
    assert.match(loud.err, /training gan for 1 step of 32/, loud.err);
    assert.match(loud.err, /1\/1 .*ETA/, loud.err);
    const quiet = await stderrOf(() =>
      pretextPreviewMain([...args, "--quiet", "--out", `${dir}/b.png`])
    );
    assert.equal(quiet.code, 0, quiet.err);
    assert.doesNotMatch(quiet.err, /ETA|training gan/, quiet.err);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
