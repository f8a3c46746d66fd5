/**
 * `ctcHead`: the layers its docs list (one Dense of `C + 1` units, or Dense + ReLU first with
 * `hiddenUnits`), its name, and its refusals with their exact messages.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { ctcHead } from "../../eval/mod.ts";
import { setupBackend, thrown } from "../_utils.ts";

await setupBackend();

/** Each layer's class, and the units of each Dense. */
function layout(model: ReturnType<typeof ctcHead>): string[] {
  return model.layers.map((l) => {
    const name = l.getClassName();
    return name === "Dense" ? `Dense ${l.getConfig().units}` : name;
  });
}

Deno.test("ctcHead: one Dense of C + 1 units by default, Dense + ReLU first with hiddenUnits", () => {
  const plain = ctcHead(3, 5);
  assert.deepEqual(layout(plain), ["InputLayer", "Dense 4"]);
  assert.equal(plain.name, "ctc_head");
  assert.deepEqual(plain.inputs[0].shape, [null, 5]);
  assert.deepEqual(plain.outputs[0].shape, [null, 4]);
  const deep = ctcHead(1, 6, { hiddenUnits: 7, name: "reader" });
  assert.deepEqual(layout(deep), ["InputLayer", "Dense 7", "ReLU", "Dense 2"]);
  assert.equal(deep.name, "reader");
  assert.deepEqual(deep.inputs[0].shape, [null, 6]);
  assert.deepEqual(deep.outputs[0].shape, [null, 2]);
  // the ReLU acts: with the hidden kernel -1 and no bias, positive features give 0 hidden units,
  // so the output is the last bias alone
  const weights = [tf.fill([6, 7], -1), tf.zeros([7]), tf.ones([7, 2]), tf.tensor1d([0.25, -0.5])];
  deep.setWeights(weights);
  const ones = tf.ones([1, 6]);
  const y = deep.predict(ones) as tf.Tensor;
  assert.deepEqual(Array.from(y.dataSync()), [0.25, -0.5]);
  tf.dispose([...weights, ones, y]);
  plain.dispose();
  deep.dispose();
});

Deno.test("ctcHead refuses a numClasses that is not a positive integer, with its message", () => {
  for (const n of [0, -1, 1.5, NaN]) {
    const e = thrown(() => ctcHead(n, 4), `numClasses ${n}`);
    assert.equal(e.name, "RangeError");
    assert.equal(
      e.message,
      `Cannot build a CTC head: numClasses must be a positive integer, received ${n}`,
    );
  }
  const one = ctcHead(1, 4); // the smallest charset: one symbol and the blank
  assert.deepEqual(one.outputs[0].shape, [null, 2]);
  one.dispose();
});
