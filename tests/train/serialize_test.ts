/**
 * Issue 17: the checkpoint's tree format (train/serialize.ts), its mirror test: `serializeTree`'s
 * spec for every kind of value, written out by hand (markers, indices, the paths in `where`,
 * typed-array copies per dtype), each refusal's exact message with its path; `restoreTree` without
 * and with a template (variables and models restored in place, shapes and counts checked, the
 * template followed only through arrays and plain objects) and each of its refusals;
 * `isModelLike` and `treeTensors`. Checkpoints on disk are tested in the checkpoint tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import { isModelLike, restoreTree, serializeTree, treeTensors } from "../../train/serialize.ts";
import { assertNoLeak, setupBackend, thrown } from "../_utils.ts";

await setupBackend();

const values = (t: tf.Tensor) => Array.from(t.dataSync());

/** dense 3 -> 2 then BatchNorm: kernel, bias, gamma, beta, moving mean, moving variance. */
function tinyModel(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [3], units: 2, kernelInitializer: "ones" }),
      tfl.layers.batchNormalization(),
    ],
  });
}

Deno.test("serializeTree: every kind of value, its marker and its tensor's path", () => {
  const v = tf.variable(tf.tensor1d([1.5, -2]), false, "v_serialize_test");
  const t = tf.tensor2d([[1, 2], [3, 4]], [2, 2], "int32");
  const b = tf.tensor1d([true, false, true], "bool");
  const s = tf.scalar(7);
  const m = tinyModel();
  const names = m.weights.map((w) => w.name);
  const bare = Object.create(null);
  bare.k = 3;
  const saved = serializeTree({
    a: null,
    u: undefined,
    n: -1.25,
    nan: NaN,
    inf: Infinity,
    ninf: -Infinity,
    str: "x",
    yes: true,
    no: false,
    v,
    deep: { list: [1, [t, b]] },
    m,
    bare,
  });
  assert.deepEqual(saved.spec, {
    $object: {
      a: null,
      u: { $undefined: true },
      n: -1.25,
      nan: { $number: "NaN" },
      inf: { $number: "Infinity" },
      ninf: { $number: "-Infinity" },
      str: "x",
      yes: true,
      no: false,
      v: { $variable: 0, trainable: false, name: "v_serialize_test" },
      deep: { $object: { list: [1, [{ $tensor: 1 }, { $tensor: 2 }]] } },
      m: { $model: [3, 4, 5, 6, 7, 8], names },
      bare: { $object: { k: 3 } },
    },
  });
  assert.equal(names.length, 6);
  assert.deepEqual(saved.tensors.slice(0, 3), [
    { dtype: "float32", shape: [2], data: Float32Array.of(1.5, -2), where: "v" },
    { dtype: "int32", shape: [2, 2], data: Int32Array.of(1, 2, 3, 4), where: "deep.list[1][0]" },
    { dtype: "bool", shape: [3], data: Uint8Array.of(1, 0, 1), where: "deep.list[1][1]" },
  ]);
  assert.deepEqual(
    saved.tensors.slice(3).map((x) => [x.where, x.dtype, x.shape, Array.from(x.data)]),
    [
      [`m/${names[0]}`, "float32", [3, 2], [1, 1, 1, 1, 1, 1]],
      [`m/${names[1]}`, "float32", [2], [0, 0]],
      [`m/${names[2]}`, "float32", [2], [1, 1]],
      [`m/${names[3]}`, "float32", [2], [0, 0]],
      [`m/${names[4]}`, "float32", [2], [0, 0]],
      [`m/${names[5]}`, "float32", [2], [1, 1]],
    ],
  );
  // the spec is JSON, and the data are copies: later writes do not reach them
  assert.deepEqual(JSON.parse(JSON.stringify(saved.spec)), saved.spec);
  v.assign(tf.tensor1d([9, 9]));
  assert.deepEqual(saved.tensors[0].data, Float32Array.of(1.5, -2));
  // a tensor, an array or an object at the top
  assert.deepEqual(serializeTree(s), {
    spec: { $tensor: 0 },
    tensors: [{ dtype: "float32", shape: [], data: Float32Array.of(7), where: "the tree" }],
  });
  assert.deepEqual(serializeTree([s]).tensors[0].where, "[0]");
  assert.deepEqual(serializeTree({ q: [s] }).tensors[0].where, "q[0]");
  assert.deepEqual(serializeTree(3), { spec: 3, tensors: [] });
  assert.deepEqual(serializeTree(undefined), { spec: { $undefined: true }, tensors: [] });
  tf.dispose([v, t, b, s]);
  m.dispose();
});

Deno.test("serializeTree: each refusal names the path and what was found", () => {
  const type = (message: string) => ({ name: "TypeError", message });
  const EXPECTED = "expected a LayersModel, tf.Variable, tf.Tensor, number, string, boolean, " +
    "null, array or plain object, received";
  assert.throws(
    () => serializeTree({ a: { d: new Date(0) } }),
    type(`Cannot serialize a.d: ${EXPECTED} Date`),
  );
  assert.throws(
    () => serializeTree([1, [2, new Map()]]),
    type(`Cannot serialize [1][1]: ${EXPECTED} Map`),
  );
  assert.throws(
    () => serializeTree(() => 1),
    type(`Cannot serialize the tree: ${EXPECTED} Function`),
  );
  assert.throws(
    () => serializeTree({ s: Symbol("q") }),
    type(`Cannot serialize s: ${EXPECTED} Symbol`),
  );
  assert.throws(() => serializeTree({ n: 1n }), type(`Cannot serialize n: ${EXPECTED} BigInt`));
  // an object with no constructor anywhere on its prototype chain: its type
  const orphan = Object.create(Object.create(null));
  assert.throws(() => serializeTree({ o: orphan }), type(`Cannot serialize o: ${EXPECTED} object`));
  // a model-like object missing setWeights is not a model
  assert.throws(
    () =>
      serializeTree({
        m: new (class Fake {
          weights = [];
          getWeights() {}
        })(),
      }),
    type(`Cannot serialize m: ${EXPECTED} Fake`),
  );
  const str = tf.tensor1d(["a"], "string");
  assert.throws(
    () => serializeTree({ x: [str] }),
    type("Cannot serialize x[0]: expected a float32, int32 or bool tensor, received string"),
  );
  assert.throws(
    () => serializeTree(str),
    type("Cannot serialize the tree: expected a float32, int32 or bool tensor, received string"),
  );
  str.dispose();
});

Deno.test("restoreTree without a template: new tensors and variables, numbers and undefined back", () => {
  const v = tf.variable(tf.tensor1d([1.5, -2]), false);
  const w = tf.variable(tf.tensor1d([3]), true);
  const t = tf.tensor2d([[1, 2], [3, 4]], [2, 2], "int32");
  const b = tf.tensor1d([true, false], "bool");
  const saved = serializeTree({ v, list: [w, t, b], n: NaN, i: -Infinity, u: undefined, s: "x" });
  // the spec as read back from disk
  const back = restoreTree({
    spec: JSON.parse(JSON.stringify(saved.spec)),
    tensors: saved.tensors,
  }) as {
    v: tf.Variable;
    list: [tf.Variable, tf.Tensor, tf.Tensor];
    n: number;
    i: number;
    u: undefined;
    s: string;
  };
  assert.deepEqual(Object.keys(back), ["v", "list", "n", "i", "u", "s"]);
  assert.ok(back.v instanceof tf.Variable && back.v !== v);
  assert.equal(back.v.trainable, false);
  assert.deepEqual(values(back.v), [1.5, -2]);
  assert.ok(back.list[0] instanceof tf.Variable);
  assert.equal(back.list[0].trainable, true);
  assert.deepEqual(values(back.list[0]), [3]);
  assert.ok(!(back.list[1] instanceof tf.Variable));
  assert.equal(back.list[1].dtype, "int32");
  assert.deepEqual(back.list[1].shape, [2, 2]);
  assert.deepEqual(values(back.list[1]), [1, 2, 3, 4]);
  assert.equal(back.list[2].dtype, "bool");
  assert.deepEqual(values(back.list[2]), [1, 0]);
  assert.ok(Number.isNaN(back.n));
  assert.equal(back.i, -Infinity);
  assert.equal(back.u, undefined);
  assert.equal(back.s, "x");
  assert.deepEqual(restoreTree({ spec: null, tensors: [] }), null);
  assert.deepEqual(restoreTree({ spec: [1, "a", true], tensors: [] }), [1, "a", true]);
  tf.dispose([v, w, t, b, back.v, ...back.list]);
});

Deno.test("restoreTree with a template: variables and models in place, through arrays and plain objects only", async () => {
  const v = tf.variable(tf.tensor1d([1, 2]));
  const inList = tf.variable(tf.tensor1d([5]));
  const grid = tf.variable(tf.tensor2d([[1, 2, 3], [4, 5, 6]]));
  const m = tinyModel();
  const saved = serializeTree({ v, list: [inList], m, grid });
  const kernel = values(m.getWeights()[0]);
  tf.tidy(() => {
    v.assign(tf.tensor1d([0, 0]));
    inList.assign(tf.tensor1d([0]));
    grid.assign(tf.zeros([2, 3]));
    m.setWeights(m.getWeights().map((x) => tf.zerosLike(x)));
  });
  const back = restoreTree(saved, { v, list: [inList], m, grid }) as Record<string, unknown>;
  assert.equal(back.grid, grid);
  assert.deepEqual(values(grid), [1, 2, 3, 4, 5, 6]);
  assert.equal(back.v, v);
  assert.deepEqual(values(v), [1, 2]);
  assert.deepEqual(back.list, [inList]);
  assert.deepEqual(values(inList), [5]);
  assert.equal(back.m, m);
  assert.deepEqual(values(m.getWeights()[0]), kernel);
  assert.deepEqual(m.getWeights().map((x) => values(x)).slice(1), [[0, 0], [1, 1], [0, 0], [0, 0], [
    1,
    1,
  ]]);
  // restoring in place leaves no tensor behind
  await assertNoLeak(() => {
    restoreTree(saved, { v, list: [inList], m, grid });
  });
  // a template that is not an array (for an array) or not a plain object (for an object) is not
  // followed: new variables come back, the live ones are untouched
  inList.assign(tf.tensor1d([8]));
  const listBack = restoreTree(
    { spec: [{ $variable: 0, trainable: true }], tensors: [saved.tensors[1]] },
    { 0: inList },
  ) as tf.Variable[];
  assert.notEqual(listBack[0], inList);
  assert.deepEqual(values(listBack[0]), [5]);
  assert.deepEqual(values(inList), [8]);
  class Holder {
    v = v;
  }
  v.assign(tf.tensor1d([7, 7]));
  const three = tf.tensor1d([3, 4]);
  const objBack = restoreTree(serializeTree({ v: three }), new Holder()) as { v: tf.Tensor };
  assert.notEqual(objBack.v, v);
  assert.deepEqual(values(objBack.v), [3, 4]);
  assert.deepEqual(values(v), [7, 7]);
  tf.dispose([v, inList, grid, listBack[0], objBack.v, three]);
  m.dispose();
});

Deno.test("restoreTree: each refusal's exact message", () => {
  const type = (message: string) => ({ name: "TypeError", message });
  const v = tf.variable(tf.tensor1d([1, 2, 3]));
  const m = tinyModel();
  const names = m.weights.map((w) => w.name);
  const two = serializeTree({ v: tf.tensor1d([1, 2]) });
  const savedV = {
    spec: { $object: { v: { $variable: 0, trainable: true } } },
    tensors: two.tensors,
  };
  assert.throws(
    () => restoreTree(savedV, { v }),
    type("Cannot restore v: expected shape [3], received [2]"),
  );
  assert.throws(
    () => restoreTree({ spec: { $variable: 0, trainable: true }, tensors: two.tensors }, v),
    type("Cannot restore the tree: expected shape [3], received [2]"),
  );
  assert.deepEqual(values(v), [1, 2, 3]);
  const savedM = serializeTree({ m });
  assert.throws(
    () => restoreTree(savedM),
    type("Cannot restore m: a model needs a live model to restore into, received undefined"),
  );
  assert.throws(
    () => restoreTree(serializeTree(m)),
    type("Cannot restore the tree: a model needs a live model to restore into, received undefined"),
  );
  assert.throws(
    () => restoreTree({ spec: { $model: [0] }, tensors: savedM.tensors }, m),
    type("Cannot restore the tree: expected 6 weights, received 1"),
  );
  assert.throws(
    () => restoreTree(savedM, { m: {} }),
    type("Cannot restore m: a model needs a live model to restore into, received object"),
  );
  assert.throws(
    () =>
      restoreTree(
        { spec: { $object: { m: { $model: [0, 1], names } } }, tensors: savedM.tensors },
        {
          m,
        },
      ),
    type("Cannot restore m: expected 6 weights, received 2"),
  );
  const swapped = savedM.tensors.slice();
  [swapped[0], swapped[1]] = [swapped[1], swapped[0]];
  assert.throws(
    () => restoreTree({ spec: savedM.spec, tensors: swapped }, { m }),
    type(`Cannot restore m/${names[0]}: expected shape [3,2], received [2]`),
  );
  assert.throws(
    () => restoreTree({ spec: savedM.spec, tensors: savedM.tensors.slice(0, 5) }, { m }),
    type(`Cannot restore m/${names[5]}: tensor index 5 is missing`),
  );
  assert.throws(
    () => restoreTree({ spec: { $object: { a: [{ $tensor: 2 }] } }, tensors: two.tensors }),
    type("Cannot restore a[0]: tensor index 2 is missing"),
  );
  assert.throws(
    () => restoreTree({ spec: { $object: { a: { $tensor: "0" } } }, tensors: two.tensors }),
    type("Cannot restore a: tensor index 0 is missing"),
  );
  assert.throws(
    () => restoreTree({ spec: { $variable: 1 }, tensors: two.tensors }),
    type("Cannot restore the tree: tensor index 1 is missing"),
  );
  assert.throws(
    () => restoreTree({ spec: { $object: { a: { $object: { b: { odd: 1 } } } } }, tensors: [] }),
    type("Cannot restore a.b: unrecognized entry"),
  );
  assert.throws(
    () => restoreTree({ spec: { odd: 1 }, tensors: [] }),
    type("Cannot restore the tree: unrecognized entry"),
  );
  const e = thrown(() => restoreTree({ spec: {}, tensors: [] }));
  assert.equal(e.message, "Cannot restore the tree: unrecognized entry");
  v.dispose();
  m.dispose();
});

Deno.test("a model at the top of the tree: its weights' paths are their names (no leading '/'), in where and in restoreTree's messages; the spec holds names only", async () => {
  const type = (message: string) => ({ name: "TypeError", message });
  const m = tinyModel();
  const names = m.weights.map((w) => w.name);
  const saved = serializeTree(m);
  assert.deepEqual(saved.tensors.map((t) => t.where), names);
  // nested, a path still joins with '/'
  assert.deepEqual(serializeTree([m]).tensors.map((t) => t.where), names.map((n) => `[0]/${n}`));
  // the spec, what reaches checkpoint.json, names weights, never paths: a checkpoint written
  // before this fix is the same JSON, restored the same way (the spec written out by hand)
  const onDisk = { $model: [0, 1, 2, 3, 4, 5], names };
  assert.deepEqual(saved.spec, onDisk);
  const kernel = values(m.getWeights()[0]);
  tf.tidy(() => m.setWeights(m.getWeights().map((x) => tf.zerosLike(x))));
  await assertNoLeak(() => {
    assert.equal(restoreTree({ spec: onDisk, tensors: saved.tensors }, m), m);
  });
  assert.deepEqual(values(m.getWeights()[0]), kernel);
  const swapped = saved.tensors.slice();
  [swapped[0], swapped[1]] = [swapped[1], swapped[0]];
  assert.throws(
    () => restoreTree({ spec: onDisk, tensors: swapped }, m),
    type(`Cannot restore ${names[0]}: expected shape [3,2], received [2]`),
  );
  assert.throws(
    () => restoreTree({ spec: onDisk, tensors: saved.tensors.slice(0, 5) }, m),
    type(`Cannot restore ${names[5]}: tensor index 5 is missing`),
  );
  m.dispose();
});

Deno.test("isModelLike: weights an array, getWeights and setWeights functions, on an object", () => {
  const m = tinyModel();
  const fns = { getWeights() {}, setWeights() {} };
  assert.equal(isModelLike(m), true);
  assert.equal(isModelLike({ weights: [], ...fns }), true);
  assert.equal(isModelLike({ weights: {}, ...fns }), false);
  assert.equal(isModelLike({ weights: [], getWeights: 1, setWeights: fns.setWeights }), false);
  assert.equal(isModelLike({ weights: [], getWeights: fns.getWeights }), false);
  assert.equal(isModelLike(null), false);
  assert.equal(isModelLike(undefined), false);
  assert.equal(isModelLike(3), false);
  assert.equal(isModelLike(Object.assign(() => 1, { weights: [], ...fns })), false);
  m.dispose();
});

Deno.test("treeTensors: tensors and variables through arrays and plain objects, not into models or other objects", () => {
  const a = tf.scalar(1), b = tf.variable(tf.scalar(2)), c = tf.scalar(3), d = tf.scalar(4);
  const m = tinyModel();
  const bare = Object.create(null);
  bare.d = d;
  const out = [c];
  const got = treeTensors({ x: [a, 2, { y: b }], m, map: new Map([[0, c]]), bare, s: "a" }, out);
  assert.equal(got, out);
  assert.deepEqual(got, [c, a, b, d]);
  assert.deepEqual(treeTensors(a), [a]);
  assert.deepEqual(treeTensors(m), []);
  assert.deepEqual(treeTensors(null), []);
  tf.dispose([a, b, c, d]);
  m.dispose();
});
