/**
 * Not a test: scores the encoders of `deno task pretrain --method <pretext task>` runs with a
 * linear probe and kNN, beside the same encoder at random initialization (same seed), for
 * bench/RESULTS.md. Usage: deno run -A tests/methods/pretext/_probe_runs.ts <runs dir> <method>...
 *
 * @module
 */
import { tf } from "../../../backend/tf.ts";
import { useBackend } from "../../../backend/use_backend.ts";
import { imagesOf, mnist } from "../../../data/mod.ts";
import { mnistAugment } from "../../../augment/mod.ts";
import { createMethod } from "../../../methods/mod.ts";
import { extractFeatures, knnAccuracy, linearProbe } from "../../../eval/mod.ts";
import { loadCheckpoint } from "../../../train/mod.ts";

await useBackend("wasm", { quiet: true });
const [runs, ...methods] = Deno.args;
const [train, test] = await Promise.all([mnist("train"), mnist("test")]);
const bank = imagesOf(train, 2000);
const queries = imagesOf(test, 1000);

async function score(encoder: Parameters<typeof extractFeatures>[0]) {
  const ftr = await extractFeatures(encoder, bank.images, { batchSize: 250 }) as tf.Tensor2D;
  const fte = await extractFeatures(encoder, queries.images, { batchSize: 250 }) as tf.Tensor2D;
  const knn = knnAccuracy(ftr, bank.labels, fte, queries.labels, { k: 200 } as never);
  const probe = await linearProbe(
    { features: ftr, labels: bank.labels },
    { features: fte, labels: queries.labels },
    { lr: 1e-2, epochs: 30, batchSize: 64, numClasses: 10 } as never,
  );
  probe.head.dispose();
  tf.dispose([ftr, fte]);
  return { knn: await knn, probe: probe.accuracy as number };
}

for (const method of methods) {
  const setup = createMethod(method, {
    encoder: "convnet",
    inputShape: [28, 28, 1],
    seed: 0,
    augment: mnistAugment(),
    widths: [16, 32, 64],
  });
  const random = await score(setup.encoder);
  await loadCheckpoint(`${runs}/${method}/checkpoint`, { nets: setup.nets, state: setup.state });
  const trained = await score(setup.encoder);
  console.log(JSON.stringify({ method, random, trained }));
}
