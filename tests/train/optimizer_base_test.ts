/**
 * The optimizer base (`SlotOptimizer`, train/optimizer.ts) for what the sixth mutation pass found
 * untested: a list that holds one non-Variable among Variables is refused; the slots are
 * non-trainable variables (so a `tf.variableGrads` over every trainable variable never reaches
 * them); `dispose` frees them all.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { adamw, lars, type Optimizer, sgd } from "../../train/mod.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

const MAKERS: [string, (vs: tf.Variable[]) => Optimizer, number][] = [
  ["sgd", (vs) => sgd(vs, { momentum: 0.9 }), 1],
  ["adamw", (vs) => adamw(vs), 2],
  ["lars", (vs) => lars(vs), 1],
];

Deno.test("optimizers refuse a list with one non-Variable among Variables", () => {
  const v = tf.variable(tf.zeros([2, 2]));
  const t = tf.zeros([2]);
  for (const [name, make] of MAKERS) {
    for (const bad of [[v, t], [t, v], [v, 1]]) {
      assert.throws(() => make(bad as tf.Variable[]), {
        name: "TypeError",
        message: `Cannot create ${name}: expected an array of tf.Variable`,
      });
    }
  }
  tf.dispose([v, t]);
});

Deno.test("optimizer slots are non-trainable variables, one per variable and slot, freed by dispose", () => {
  const vs = [tf.variable(tf.ones([3, 2])), tf.variable(tf.ones([2]))];
  for (const [name, make, slotsPerVariable] of MAKERS) {
    const before = tf.memory().numTensors;
    const registered = new Set(Object.keys(tf.engine().registeredVariables));
    const opt = make(vs);
    const created = Object.entries(tf.engine().registeredVariables)
      .filter(([k]) => !registered.has(k))
      .map(([, variable]) => variable);
    assert.equal(created.length, vs.length * slotsPerVariable, name);
    for (const s of created) assert.equal(s.trainable, false, `${name}: slot ${s.name}`);
    const grads = vs.map((v) => tf.onesLike(v));
    opt.apply(grads, 0.1);
    tf.dispose(grads);
    opt.dispose();
    assert.equal(tf.memory().numTensors, before, `${name}: every slot freed by dispose`);
    assert.ok(created.every((s) => s.isDisposed), `${name}: slots disposed`);
  }
  tf.dispose(vs);
});
