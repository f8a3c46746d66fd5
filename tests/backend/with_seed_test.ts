import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import { tf, withSeed } from "../../backend/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";

await setupBackend();

function build(): tfl.LayersModel {
  const input = tfl.input({ shape: [4, 4, 2] });
  const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 3, kernelInitializer: "heNormal" })
    .apply(input) as tfl.SymbolicTensor;
  const flat = tfl.layers.flatten().apply(conv) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 2 }).apply(flat) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

Deno.test("withSeed makes tfjs-layers initial weights a function of the seed", () => {
  const a = withSeed(3, build);
  const b = withSeed(3, build);
  const c = withSeed(4, build);
  const wa = a.getWeights(), wb = b.getWeights(), wc = c.getWeights();
  assert.equal(wa.length, 4);
  for (let i = 0; i < wa.length; i++) {
    assertTensorClose(wa[i], wb[i], { rtol: 0, atol: 0 }, `weight ${i}`);
  }
  const differs = tf.tidy(() => tf.max(tf.abs(tf.sub(wa[0], wc[0]))).dataSync()[0]);
  assert.ok(differs > 1e-3, `seeds 3 and 4 gave the same kernel (max diff ${differs})`);
  for (const m of [a, b, c]) m.dispose();
});

Deno.test("withSeed restores Math.random, also when fn throws", () => {
  const original = Math.random;
  assert.throws(() =>
    withSeed(1, () => {
      throw new Error("boom");
    }), /boom/);
  assert.equal(Math.random, original);
  assert.throws(() => withSeed(Number.NaN, () => 0), RangeError);
});
