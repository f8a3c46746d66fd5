/**
 * Issue 17: `disposeStaleState` (methods/dispose_state.ts), the mirror test `deno task mutate`
 * runs: what it disposes, what it keeps, and the values it walks past.
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { disposeStaleState } from "../../methods/mod.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

Deno.test("disposeStaleState disposes what only the previous state holds, at any depth", () => {
  const kept = tf.zeros([2]);
  const inArray = tf.ones([2]);
  const inObject = tf.ones([3]);
  const deep = tf.ones([1]);
  const top = tf.ones([4]);
  disposeStaleState(
    { kept, list: [inArray, { inner: inObject, more: [[deep]] }], top },
    { nested: [{ kept }] },
  );
  assert.equal(inArray.isDisposed, true, "inside an array");
  assert.equal(inObject.isDisposed, true, "inside an object inside an array");
  assert.equal(deep.isDisposed, true, "inside two arrays");
  assert.equal(top.isDisposed, true, "a top-level field");
  assert.equal(kept.isDisposed, false, "held by the next state, nested there");
  kept.dispose();
});

Deno.test("disposeStaleState keeps what the next state holds in an array or as itself", () => {
  const a = tf.zeros([2]), b = tf.ones([2]), c = tf.ones([3]);
  disposeStaleState([a, b, c], [b]);
  assert.deepEqual([a.isDisposed, b.isDisposed, c.isDisposed], [true, false, true]);
  const d = tf.ones([2]), e = tf.ones([2]);
  disposeStaleState({ d, e }, e);
  assert.deepEqual([d.isDisposed, e.isDisposed], [true, false]);
  const f = tf.ones([2]);
  disposeStaleState(f, { f });
  assert.equal(f.isDisposed, false, "a bare tensor as the previous state, kept");
  disposeStaleState(f, null);
  assert.equal(f.isDisposed, true, "a bare tensor as the previous state, dropped");
  b.dispose();
  e.dispose();
});

Deno.test("disposeStaleState never disposes a variable", () => {
  const v = tf.variable(tf.zeros([2]));
  const t = tf.ones([2]);
  disposeStaleState({ v, t, list: [v] }, {});
  assert.equal(v.isDisposed, false);
  assert.equal(t.isDisposed, true);
  v.dispose();
});

Deno.test("disposeStaleState walks past null, numbers, strings and booleans", () => {
  const t = tf.ones([2]);
  const before = tf.memory().numTensors;
  disposeStaleState(
    { a: null, b: undefined, c: 3, d: "queue", e: true, f: [null, "x", 0], t },
    { a: null, s: "queue", n: 1 },
  );
  assert.equal(t.isDisposed, true);
  assert.equal(tf.memory().numTensors, before - 1);
  disposeStaleState(null, undefined);
  disposeStaleState("state", "state");
});

Deno.test("disposeStaleState passes over a tensor already disposed", () => {
  const t = tf.ones([2]), u = tf.ones([2]);
  t.dispose();
  const before = tf.memory().numTensors;
  disposeStaleState({ t, u }, {});
  assert.equal(u.isDisposed, true);
  assert.equal(tf.memory().numTensors, before - 1);
});
