/**
 * `releaseIdleBuffers()` on native: after a training step leaves its buffers idle in the pool, it
 * drops all of them and nothing else (live tensors keep their buffers and values, the live count is
 * unchanged), and the next step allocates fresh buffers and computes the same bits.
 */
import assert from "node:assert/strict";
import { releaseIdleBuffers, tf, useBackend } from "../../backend/mod.ts";
import { registerNativeBackend } from "../../backend/native/mod.ts";
import { freshAllocations, liveByteCount, pooledByteCount } from "../../backend/native/_buffers.ts";
import { pcg32, randomNormal } from "../_utils.ts";

await registerNativeBackend();

Deno.test("native releaseIdleBuffers: drops every idle buffer, keeps live tensors, same next step", async () => {
  await useBackend("native", { quiet: true });
  const prng = pcg32(12);
  // pooled sizes (at least 2^14 floats): x 64 x 512, w 512 x 256, activations 64 x 256
  const x = tf.tensor2d(Float32Array.from(randomNormal(64 * 512, prng)), [64, 512]);
  const w0 = Float32Array.from(randomNormal(512 * 256, prng), (v) => v / 16);
  /** One SGD step from w0: the loss and the updated weights, read back. */
  const step = () =>
    tf.tidy(() => {
      const w = tf.variable(tf.tensor2d(w0, [512, 256]));
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(tf.relu(tf.matMul(x, w)))) as tf.Scalar,
        [w],
      );
      const next = tf.sub(w, tf.mul(grads[w.name], 1e-4));
      const out = { loss: value.dataSync()[0], w: next.dataSync().slice() };
      w.dispose();
      return out;
    });
  const cold = freshAllocations().count;
  const first = step();
  const coldFresh = freshAllocations().count - cold; // every pooled buffer of a step, fresh
  // a step with the pool warm allocates fresh only what it reads back (never recycled)
  const before = freshAllocations().count;
  const again = step();
  assert.ok(freshAllocations().count - before < coldFresh, "a warm pool served the step");
  assert.deepEqual(again, first);
  // two live kernel outputs (negation runs natively) not read back yet, of values no step
  // computes, so a step writing into their buffers would show; `live`'s values computed apart
  const sines = () => tf.sin(tf.matMul(x, tf.tensor2d(w0, [512, 256])));
  const live = tf.tidy(() => tf.neg(sines()));
  const held = tf.tidy(() => tf.neg(tf.cos(live)));
  const expected = tf.tidy(() => tf.neg(sines()).dataSync());
  const idle = pooledByteCount();
  assert.ok(idle >= 4 * 64 * 256, `the steps left buffers idle (${idle} bytes)`);
  const liveBefore = liveByteCount().live;
  assert.equal(releaseIdleBuffers(), idle, "returns the bytes it dropped");
  assert.equal(pooledByteCount(), 0);
  assert.equal(liveByteCount().live, liveBefore, "live buffers are not released");
  assert.ok(liveBefore >= 2 * 4 * 64 * 256, "live and held are pooled-size kernel outputs");
  // the next step finds no idle buffer (it allocates fresh ones) and computes the same bits;
  // had a live buffer been dropped into the pool, this step would overwrite `live`
  const fresh = freshAllocations().count;
  const after = step();
  assert.equal(freshAllocations().count - fresh, coldFresh, "as fresh as the first step");
  assert.deepEqual(after, first);
  assert.deepEqual(live.dataSync(), expected, "a live tensor keeps its values");
  releaseIdleBuffers();
  // `held` stayed counted live through the release: disposed, its buffer goes idle
  held.dispose();
  assert.equal(pooledByteCount(), 4 * 64 * 256, "the held tensor's buffer went idle");
  releaseIdleBuffers();
  live.dispose();
  x.dispose();
});
