import assert from "node:assert/strict";
import {
  BACKEND_ORDER,
  BackendUnavailableError,
  stopGradient,
  tf,
  useBackend,
} from "../../backend/mod.ts";
import { assertNoLeak, assertTensorClose } from "../_utils.ts";

Deno.test("useBackend selects cpu and wasm by name", async () => {
  assert.equal(await useBackend("cpu", { quiet: true }), "cpu");
  assert.equal(tf.getBackend(), "cpu");
  assert.equal(await useBackend("wasm", { quiet: true }), "wasm");
  assert.equal(tf.getBackend(), "wasm");
});

Deno.test("useBackend rejects unknown names with a RangeError", async () => {
  await assert.rejects(
    () => useBackend("tpu" as "cpu"),
    (e: unknown) => e instanceof RangeError && /received "tpu"/.test(e.message),
  );
});

Deno.test("useBackend('auto') picks a working backend and says which", async () => {
  const lines: string[] = [];
  const chosen = await useBackend("auto", { log: (l) => lines.push(l) });
  assert.equal(tf.getBackend(), chosen);
  assert.equal(lines.length, 1);
  assert.match(lines[0], new RegExp(`using the ${chosen} backend`));
});

Deno.test("useBackend('auto') notice: one short line, the reasons only with verbose", async () => {
  const short: string[] = [], long: string[] = [];
  const chosen = await useBackend("auto", { log: (l) => short.push(l) });
  await useBackend("auto", { log: (l) => long.push(l), verbose: true });
  assert.equal(short.length, 1);
  assert.ok(short[0].length <= 100, `${short[0].length} characters: ${short[0]}`);
  if (chosen !== BACKEND_ORDER[0]) {
    // a faster backend was skipped: the short line names it, the verbose one says why
    assert.match(
      short[0],
      new RegExp(`\\(${BACKEND_ORDER[0]}.* unavailable; --verbose says why\\)`),
    );
    assert.ok(long[0].length > short[0].length);
    assert.match(long[0], new RegExp(`${BACKEND_ORDER[0]}: `));
  }
});

Deno.test("tensorflow backend absent gives an error that says what to install", async () => {
  if (tf.findBackend("tensorflow")) return; // a machine that has it: nothing to check here
  await assert.rejects(
    () => useBackend("tensorflow", { quiet: true }),
    (e: unknown) =>
      e instanceof BackendUnavailableError && /tfjs-node/.test(e.message) &&
      /CUDA 11\.2/.test(e.message),
  );
});

Deno.test("stopGradient is identity forward and zero gradient backward", async () => {
  await useBackend("cpu", { quiet: true });
  await assertNoLeak(() => {
    const x = tf.tensor1d([1.5, -2, 3]);
    const y = stopGradient(x);
    assertTensorClose(y, x, { rtol: 0, atol: 0 });
    // d/dx sum(x^2 + x * sg(x)) = 2x + sg(x) = 3x
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.add(tf.square(v), tf.mul(v, stopGradient(v)))))(
      x,
    );
    assertTensorClose(g, [4.5, -6, 9], { rtol: 1e-6, atol: 0 });
    tf.dispose([x, y, g]);
  });
});

Deno.test("wasm trains: gradients flow through conv2d", async () => {
  await useBackend("wasm", { quiet: true });
  const x = tf.randomNormal<tf.Rank.R4>([2, 6, 6, 3], 0, 1, "float32", 1);
  const w = tf.variable(tf.randomNormal<tf.Rank.R4>([3, 3, 3, 4], 0, 0.1, "float32", 2));
  const loss = () => tf.mean(tf.square(tf.conv2d(x, w, 1, "same"))) as tf.Scalar;
  const before = loss().dataSync()[0];
  const opt = tf.train.sgd(0.1);
  for (let i = 0; i < 5; i++) opt.minimize(loss);
  const after = loss().dataSync()[0];
  assert.ok(after < before * 0.9, `loss ${before} -> ${after}`);
});
