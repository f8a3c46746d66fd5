import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import * as tfl from "@tensorflow/tfjs-layers";
import { exportEncoder, extractFeatures, loadEncoder } from "../../eval/mod.ts";
import { convNet, sequenceEncoder } from "../../models/mod.ts";
import { assertNoLeak, setupBackend } from "../_utils.ts";

await setupBackend();

/** Gives BatchNorm layers non-trivial moving statistics so a reload that lost them would show. */
function perturbWeights(model: tfl.LayersModel): void {
  const fresh = model.getWeights().map((w, i) =>
    tf.tidy(() => tf.add(w, tf.abs(tf.randomNormal(w.shape, 0, 0.1, "float32", i + 1))))
  );
  model.setWeights(fresh);
  tf.dispose(fresh);
}

for (
  const [name, build, shape] of [
    ["convNet", () => convNet({ widths: [4, 8], inputShape: [16, 16, 3] }), [3, 16, 16, 3]],
    [
      "sequenceEncoder",
      () => sequenceEncoder({ inputShape: [16, 32, 1], widths: [4, 8, 8], featureDim: 6 }),
      [2, 16, 32, 1],
    ],
  ] as const
) {
  Deno.test(`exportEncoder/loadEncoder: ${name} reloads with identical embeddings`, async () => {
    const encoder = build();
    perturbWeights(encoder);
    const x = tf.randomUniform([...shape], 0, 1, "float32", 7) as tf.Tensor4D;
    const dir = await Deno.makeTempDir();
    try {
      const { modelPath, weightsPath, weightBytes } = await exportEncoder(encoder, dir);
      const json = JSON.parse(await Deno.readTextFile(modelPath));
      assert.equal(json.format, "layers-model");
      assert.deepEqual(json.weightsManifest[0].paths, ["weights.bin"]);
      const expectedBytes = encoder.weights.reduce(
        (n, w) => n + 4 * w.shape.reduce((a, b) => a! * b!, 1)!,
        0,
      );
      assert.equal(weightBytes, expectedBytes);
      assert.equal((await Deno.stat(weightsPath)).size, expectedBytes);
      assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), [
        "model.json",
        "weights.bin",
      ]);

      const reloaded = await loadEncoder(dir);
      const a = await extractFeatures(encoder, x);
      const b = await extractFeatures(reloaded, x);
      assert.deepEqual(b.shape, a.shape);
      assert.deepEqual(
        Array.from(b.dataSync()),
        Array.from(a.dataSync()),
        "bit-identical embeddings",
      );

      // what a browser does: plain tf.loadLayersModel over HTTP, files served as they are
      const fetchFunc = async (url: URL | RequestInfo) => {
        const file = `${dir}/${new URL(String(url)).pathname.split("/").pop()}`;
        return new Response(await Deno.readFile(file), { status: 200 });
      };
      const viaHttp = await tfl.loadLayersModel(
        tf.io.http("http://models.example/enc/model.json", { fetchFunc }),
      );
      const c = await extractFeatures(viaHttp, x);
      assert.deepEqual(Array.from(c.dataSync()), Array.from(a.dataSync()));
      tf.dispose([a, b, c]);
      await assertNoLeak(() => extractFeatures(reloaded, x));
      reloaded.dispose();
      viaHttp.dispose();
    } finally {
      encoder.dispose();
      x.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("exportEncoder and loadEncoder reject bad arguments", async () => {
  await assert.rejects(() => exportEncoder({} as never, "/tmp/never"), TypeError);
  await assert.rejects(() => loadEncoder("/nonexistent/selfsup-model"), /model\.json/);
});
