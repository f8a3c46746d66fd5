import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../../backend/tf.ts";
import {
  CheckpointError,
  checkpointLeftovers,
  hasCheckpoint,
  loadCheckpoint,
  NonFiniteStateError,
  readCheckpoint,
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
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(names, ["c", "c.step-1"]); // the previous one is kept, no temporary left
  // simulate a kill of an earlier version's save after moving the previous checkpoint aside
  await Deno.remove(`${dir}/c.step-1`, { recursive: true });
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
  await assert.rejects(() => loadCheckpoint(`${dir}/c`), CheckpointError);
  await assert.rejects(() => loadCheckpoint(`${dir}/c`), /tensors\.bin is truncated/);
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

Deno.test("checkpoints: the last `keep` are kept, each with a manifest of SHA-256 checksums", async () => {
  const dir = await Deno.makeTempDir();
  for (let step = 1; step <= 4; step++) await saveCheckpoint(`${dir}/c`, { step });
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["c", "c.step-3"]);
  await saveCheckpoint(`${dir}/c`, { step: 5 }, { keep: 3 });
  assert.deepEqual(
    [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
    ["c", "c.step-3", "c.step-4"],
  );
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/c/manifest.json`));
  assert.equal(manifest.step, 5);
  const json = await Deno.readFile(`${dir}/c/checkpoint.json`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", json));
  assert.equal(
    manifest.files["checkpoint.json"].sha256,
    Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
  );
  await assert.rejects(() => saveCheckpoint(`${dir}/c`, { step: 6 }, { keep: 0 }), RangeError);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoints: a zero-filled or bit-flipped file of the right size is refused and the previous intact one used, saying so", async () => {
  const dir = await Deno.makeTempDir();
  const v = tf.variable(tf.tensor1d([1, 2, 3, 4]));
  await saveCheckpoint(`${dir}/c`, { step: 1, v });
  v.assign(tf.tensor1d([5, 6, 7, 8]));
  await saveCheckpoint(`${dir}/c`, { step: 2, v });
  const bin = `${dir}/c/tensors.bin`;
  const size = (await Deno.stat(bin)).size;
  await Deno.writeFile(bin, new Uint8Array(size)); // zero-filled, right length
  const notes: string[] = [];
  const target = tf.variable(tf.zeros([4]));
  const got = await readCheckpoint(`${dir}/c`, { v: target }, { onFallback: (m) => notes.push(m) });
  assert.equal(got.step, 1);
  assert.equal(got.path, `${dir}/c.step-1`);
  assert.deepEqual(Array.from(target.dataSync()), [1, 2, 3, 4]);
  assert.equal(notes.length, 1);
  assert.match(
    notes[0],
    /tensors\.bin does not match its SHA-256 checksum.*using the previous intact one/,
  );
  // a flipped bit in checkpoint.json is caught the same way
  const older = `${dir}/c.step-1/checkpoint.json`;
  const bytes = await Deno.readFile(older);
  bytes[bytes.length >> 1] ^= 1;
  await Deno.writeFile(older, bytes);
  await assert.rejects(
    () => loadCheckpoint(`${dir}/c`),
    (e: Error) =>
      e instanceof CheckpointError && /none is intact/.test(e.message) &&
      /c\.step-1: checkpoint\.json does not match/.test(e.message),
  );
  await assert.rejects(() => loadCheckpoint(`${dir}/none`), /there is none at/);
  tf.dispose([v, target]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoints: a state holding NaN or Infinity is never written", async () => {
  const dir = await Deno.makeTempDir();
  const w = tf.tensor1d([1]);
  await saveCheckpoint(`${dir}/c`, { step: 1, w });
  w.dispose();
  const bad = tf.tensor1d([1, NaN, Infinity]);
  await assert.rejects(
    () => saveCheckpoint(`${dir}/c`, { step: 2, nets: { w: bad } }),
    (e: Error) => e instanceof NonFiniteStateError && e.count === 2 && e.where === "nets.w",
  );
  assert.equal((await readCheckpoint(`${dir}/c`)).step, 1); // untouched
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["c"]);
  // numbers outside tensors (a NaN metric in config) are not weights: they may be stored
  await saveCheckpoint(`${dir}/c`, { step: 2, note: NaN });
  bad.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpointLeftovers finds an interrupted save", async () => {
  const dir = await Deno.makeTempDir();
  assert.deepEqual(await checkpointLeftovers(`${dir}/c`), []);
  await Deno.mkdir(`${dir}/c.old`);
  await Deno.mkdir(`${dir}/c.tmp-1-2`);
  assert.deepEqual((await checkpointLeftovers(`${dir}/c`)).sort(), [
    `${dir}/c.old`,
    `${dir}/c.tmp-1-2`,
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoints: after resuming from an older one, the abandoned newer ones are not kept as fallbacks", async () => {
  const dir = await Deno.makeTempDir();
  for (let step = 1; step <= 4; step++) await saveCheckpoint(`${dir}/c`, { step }, { keep: 3 });
  // the newest two are damaged: a resume falls back to step 2 and continues from there
  await Deno.writeTextFile(`${dir}/c/checkpoint.json`, "{}");
  await Deno.writeTextFile(`${dir}/c.step-3/checkpoint.json`, "{}");
  assert.equal((await readCheckpoint(`${dir}/c`, undefined, { onFallback: () => {} })).step, 2);
  await saveCheckpoint(`${dir}/c`, { step: 3 }, { keep: 3 });
  // the damaged step 4 and step 3 are gone; the fallback is the step 2 the run continued from
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["c", "c.step-2"]);
  await saveCheckpoint(`${dir}/c`, { step: 4 }, { keep: 3 });
  assert.deepEqual(
    [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
    ["c", "c.step-2", "c.step-3"],
  );
  for (const p of ["c", "c.step-2", "c.step-3"]) {
    const notes: string[] = [];
    await readCheckpoint(`${dir}/${p}`, undefined, { onFallback: (m) => notes.push(m) });
    assert.deepEqual(notes, [], `${p} is intact`);
  }
  await Deno.remove(dir, { recursive: true });
});
