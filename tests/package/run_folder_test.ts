// A pretrain run folder is enough to reuse the run: config.json records the options that rebuild
// the nets with createMethod, encoder/ holds the trained encoder as a plain tfjs LayersModel
// (loadEncoder(runDir)), and --export writes the same encoder elsewhere.
import assert from "node:assert/strict";
import { pretrainMain } from "../../cli/pretrain.ts";
import { tf } from "../../backend/tf.ts";
import { createMethod } from "../../methods/mod.ts";
import { loadEncoder } from "../../eval/load_encoder.ts";

Deno.test("pretrain run folder: config.json rebuilds the nets, encoder/ and --export reload the trained encoder", async () => {
  const out = await Deno.makeTempDir();
  const exported = `${out}/exported`;
  const { log, error } = console;
  const printed: string[] = [];
  console.log = (...a: unknown[]) => printed.push(a.join(" "));
  console.error = () => {};
  let code: number;
  try {
    code = await pretrainMain([
      "--method",
      "simsiam",
      "--dataset",
      "mnist",
      "--train-size",
      "64",
      "--batch-size",
      "16",
      "--widths",
      "4,8",
      "--projection-dim",
      "8",
      "--hidden-dim",
      "8",
      "--knn-bank",
      "0",
      "--backend",
      "cpu",
      "--out",
      out,
      "--run-name",
      "r",
      "--steps",
      "2",
      "--quiet",
      "--export",
      exported,
    ]);
  } finally {
    console.log = log;
    console.error = error;
  }
  assert.equal(code, 0, printed.join("\n"));
  assert.match(printed.join("\n"), new RegExp(`encoder: ${out}/r/encoder \\(tfjs LayersModel`));
  const config = JSON.parse(await Deno.readTextFile(`${out}/r/config.json`));
  const options = config.resolved.methodOptions;
  assert.deepEqual(options.widths, [4, 8]);
  assert.deepEqual(options.inputShape, [28, 28, 1]);
  // the recorded options rebuild nets of the trained encoder's architecture
  const rebuilt = createMethod("simsiam", options);
  const fromRun = await loadEncoder(`${out}/r`);
  const fromExport = await loadEncoder(exported);
  try {
    const shapes = (m: { weights: { shape: unknown }[] }) => m.weights.map((w) => w.shape);
    assert.deepEqual(shapes(fromRun), shapes(rebuilt.encoder));
    const x = tf.randomUniform([3, 28, 28, 1], 0, 1, "float32", 3);
    const [a, b, r] = [fromRun, fromExport, rebuilt.encoder].map((m) => m.predict(x) as tf.Tensor);
    assert.deepEqual(a.dataSync(), b.dataSync());
    // trained for 2 steps: not the initial weights (a run folder of the initial encoder fails)
    const moved = tf.max(tf.abs(tf.sub(a, r))).dataSync()[0];
    assert.ok(moved > 0, "the exported encoder equals the untrained one");
    tf.dispose([x, a, b, r]);
  } finally {
    fromRun.dispose();
    fromExport.dispose();
    for (const net of Object.values(rebuilt.nets as Record<string, unknown>)) {
      (net as { dispose?: () => void })?.dispose?.();
    }
    await Deno.remove(out, { recursive: true });
  }
});
