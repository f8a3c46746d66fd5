import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import {
  hasCheckpoint,
  loadCheckpoint,
  restoreTree,
  saveCheckpoint,
  serializeTree,
} from "../../train/mod.ts";
import { assertNoLeak, setupBackend } from "../_utils.ts";
import { toyNets } from "./_toy.ts";

await setupBackend();

const values = (t: tf.Tensor) => Array.from(t.dataSync());

Deno.test("checkpoint round trip: models (BatchNorm statistics too), variables, tensors, numbers", async () => {
  const dir = await Deno.makeTempDir();
  const a = toyNets();
  // move BatchNorm statistics away from their initial values
  tf.tidy(() => {
    a.net.apply(tf.randomNormal([5, 2, 2, 1], 0, 1, "float32", 7), { training: true });
  });
  const proto = tf.variable(tf.randomNormal([4, 3], 0, 1, "float32", 1), true);
  const queue = tf.tensor2d([[1, 2, 3]]);
  const ids = tf.tensor1d([3, 1], "int32");
  const tree = {
    nets: a,
    state: {
      proto,
      queue,
      ids,
      nested: [{ n: 2.5, s: "x", b: true }, null],
      inf: Infinity,
      nan: NaN,
    },
  };
  await saveCheckpoint(`${dir}/ckpt`, tree);
  assert.equal(await hasCheckpoint(`${dir}/ckpt`), true);

  const b = toyNets();
  const proto2 = tf.variable(tf.zeros([4, 3]), true);
  const movingMean = a.net.weights.findIndex((w) => /moving_mean/.test(w.name));
  assert.notDeepEqual(
    values(b.net.getWeights()[movingMean]),
    values(a.net.getWeights()[movingMean]),
  );
  const back = await loadCheckpoint(`${dir}/ckpt`, { nets: b, state: { proto: proto2 } }) as {
    nets: typeof b;
    state: {
      proto: tf.Variable;
      queue: tf.Tensor;
      ids: tf.Tensor;
      nested: unknown[];
      inf: number;
      nan: number;
    };
  };
  assert.equal(back.nets.net, b.net, "models are restored in place");
  assert.equal(back.state.proto, proto2, "variables are restored in place");
  a.net.getWeights().forEach((w, i) => {
    assert.deepEqual(values(b.net.getWeights()[i]), values(w), a.net.weights[i].name);
  });
  assert.deepEqual(values(proto2), values(proto));
  assert.deepEqual(values(back.state.queue), [1, 2, 3]);
  assert.deepEqual(back.state.queue.shape, [1, 3]);
  assert.equal(back.state.ids.dtype, "int32");
  assert.deepEqual(values(back.state.ids), [3, 1]);
  assert.deepEqual(back.state.nested, [{ n: 2.5, s: "x", b: true }, null]);
  assert.equal(back.state.inf, Infinity);
  assert.ok(Number.isNaN(back.state.nan));
  tf.dispose([proto, proto2, queue, ids, back.state.queue, back.state.ids]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("saveCheckpoint is atomic: it replaces the old one, leaves no temporary, and a save interrupted between renames falls back to .old", async () => {
  const dir = await Deno.makeTempDir();
  await saveCheckpoint(`${dir}/c`, { step: 1 });
  await saveCheckpoint(`${dir}/c`, { step: 2 });
  assert.deepEqual((await loadCheckpoint(`${dir}/c`)) as object, { step: 2 });
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert.deepEqual(names, ["c"]);
  // simulate a kill after moving the previous checkpoint aside
  await Deno.rename(`${dir}/c`, `${dir}/c.old`);
  assert.equal(await hasCheckpoint(`${dir}/c`), true);
  assert.deepEqual((await loadCheckpoint(`${dir}/c`)) as object, { step: 2 });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a truncated tensors.bin or a shape mismatch is a clear TypeError", async () => {
  const dir = await Deno.makeTempDir();
  const v = tf.variable(tf.ones([2, 2]));
  await saveCheckpoint(`${dir}/c`, { v });
  const wrong = tf.variable(tf.ones([3]));
  await assert.rejects(
    () => loadCheckpoint(`${dir}/c`, { v: wrong }),
    /expected shape \[3\], received \[2,2\]/,
  );
  await Deno.writeFile(`${dir}/c/tensors.bin`, new Uint8Array(3));
  await assert.rejects(() => loadCheckpoint(`${dir}/c`), /truncated/);
  tf.dispose([v, wrong]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("serializeTree rejects what it cannot store, saying where", async () => {
  assert.throws(
    () => serializeTree({ a: { f: new Map() } }),
    /Cannot serialize a\.f: .*received Map/,
  );
  const s = tf.tensor1d(["a"], "string");
  assert.throws(() => serializeTree([s]), TypeError);
  s.dispose();
  const m = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [2] })] });
  const saved = serializeTree({ m });
  assert.throws(() => restoreTree(saved), /needs a live model/);
  await assertNoLeak(() => serializeTree({ m }));
});
