/**
 * Edges of `saveCheckpoint`/`readCheckpoint` that the round-trip tests do not reach (issue 17's
 * fifth mutation pass): the overflow bound of the finite check, `keep`'s message, stale
 * temporaries, checkpoints without a step, a directory already named like the one moved aside,
 * checkpoints of earlier versions (no manifest: read unchecked, but their format and tensor index
 * still checked), a damaged manifest, bool tensors, and relative paths.
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  CheckpointError,
  checkpointLeftovers,
  hasCheckpoint,
  loadCheckpoint,
  NonFiniteStateError,
  readCheckpoint,
  saveCheckpoint,
} from "../../train/mod.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

/** Reads `dir` collecting the fallback notes. */
async function readNoting(dir: string) {
  const notes: string[] = [];
  const got = await readCheckpoint(dir, undefined, { onFallback: (m) => notes.push(m) });
  return { got, notes };
}

Deno.test("checkpoint finite check: a float at or past 1.8e19 is refused (its square overflows), the first bad value named; int32 tensors are not checked", async () => {
  const dir = await Deno.makeTempDir();
  const ok = tf.tensor1d([1e19, -1e19]);
  const ids = tf.tensor1d([2147483647, -2147483648], "int32");
  await saveCheckpoint(`${dir}/c`, { step: 1, ok, ids });
  const big = tf.tensor1d([1, 2e19, NaN, -Infinity]);
  await assert.rejects(
    () => saveCheckpoint(`${dir}/c`, { step: 2, a: ok, b: big }),
    (e: Error) =>
      e instanceof NonFiniteStateError && e.count === 3 && e.where === "b" &&
      Math.abs(e.value - 2e19) < 1e13 &&
      e.message ===
        `Cannot save a checkpoint: the state holds 3 non-finite or overflowing values, the first ${e.value} in b`,
  );
  const negative = tf.tensor1d([-2e19]);
  await assert.rejects(
    () => saveCheckpoint(`${dir}/c`, { step: 2, n: negative }),
    (e: Error) => e instanceof NonFiniteStateError && e.count === 1 && e.value < -1e19,
  );
  assert.equal((await readCheckpoint(`${dir}/c`)).step, 1);
  assert.deepEqual(names(dir), ["c"]);
  tf.dispose([ok, ids, big, negative]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("saveCheckpoint: keep must be an integer >= 1 (message); keep 1 leaves only the newest", async () => {
  const dir = await Deno.makeTempDir();
  for (const keep of [0, 1.5, -1]) {
    await assert.rejects(
      () => saveCheckpoint(`${dir}/c`, { step: 1 }, { keep }),
      (e: Error) =>
        e instanceof RangeError &&
        e.message === `Cannot save a checkpoint: keep must be an integer >= 1, received ${keep}`,
    );
  }
  assert.deepEqual(names(dir), [], "a refused save writes nothing");
  for (let step = 1; step <= 3; step++) await saveCheckpoint(`${dir}/c`, { step }, { keep: 1 });
  assert.deepEqual(names(dir), ["c"]);
  assert.deepEqual(await loadCheckpoint(`${dir}/c`), { step: 3 });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("saveCheckpoint removes the temporaries of an interrupted save, and nothing else", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/c.tmp-1-2`);
  await Deno.writeTextFile(`${dir}/c.tmp-3-4`, "partial");
  await Deno.mkdir(`${dir}/other.tmp-1-2`); // another checkpoint's temporary
  await Deno.mkdir(`${dir}/c.tmpx`);
  await saveCheckpoint(`${dir}/c`, { step: 1 });
  assert.deepEqual(names(dir), ["c", "c.tmpx", "other.tmp-1-2"]);
  assert.deepEqual(await loadCheckpoint(`${dir}/c`), { step: 1 });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoints without a step: the previous one is kept as step-unknown-<time> and used as the fallback", async () => {
  const dir = await Deno.makeTempDir();
  await saveCheckpoint(`${dir}/c`, { v: 1 });
  await saveCheckpoint(`${dir}/c`, { v: 2 });
  const kept = names(dir);
  assert.equal(kept.length, 2);
  assert.equal(kept[0], "c");
  assert.match(kept[1], /^c\.step-unknown-\d+$/);
  await Deno.writeTextFile(`${dir}/c/checkpoint.json`, "{}"); // damage the newest
  const { got, notes } = await readNoting(`${dir}/c`);
  assert.deepEqual(got.contents, { v: 1 });
  assert.equal(got.step, null);
  assert.equal(got.path, `${dir}/${kept[1]}`);
  assert.equal(notes.length, 1);
  // a step that is not an integer >= 0 does not name the checkpoint either
  for (const step of [1.5, "3", null]) {
    const d = await Deno.makeTempDir();
    await saveCheckpoint(`${d}/c`, { step });
    await saveCheckpoint(`${d}/c`, { step: 9 });
    assert.match(names(d)[1], /^c\.step-unknown-\d+$/, `step ${step}`);
    assert.equal((await readCheckpoint(`${d}/c.step-unknown-${names(d)[1].slice(15)}`)).step, null);
    await Deno.remove(d, { recursive: true });
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a step that cannot name a checkpoint (-1, 1e21) is moved aside as step-unknown and pruned, never leaked as a folder history does not list", async () => {
  // [the first saves, then steps 1 and 2]: at keep 2 only `c` and `c.step-1` are left
  const cases: [string, unknown[], boolean][] = [
    ["-1", [-1], false],
    ["-1 also in the manifest", [-1], true], // as an edited or foreign manifest may say
    ["1e21 then 2e21", [1e21, 2e21], false], // "1e+21" is no `\d+` name
  ];
  for (const [label, first, editManifest] of cases) {
    const dir = await Deno.makeTempDir();
    for (const step of first) {
      await saveCheckpoint(`${dir}/c`, { step });
      if (editManifest) {
        const m = JSON.parse(await Deno.readTextFile(`${dir}/c/manifest.json`));
        await Deno.writeTextFile(`${dir}/c/manifest.json`, JSON.stringify({ ...m, step }));
      }
    }
    await saveCheckpoint(`${dir}/c`, { step: 1 });
    assert.match(names(dir).join(" "), /^c c\.step-unknown-\d+$/, `${label}: ${names(dir)}`);
    await saveCheckpoint(`${dir}/c`, { step: 2 });
    assert.deepEqual(names(dir), ["c", "c.step-1"], `${label}: ${names(dir)}`);
    assert.deepEqual((await readCheckpoint(`${dir}/c`)).step, 2, label);
    await Deno.remove(dir, { recursive: true });
  }
  // the largest safe step still names its checkpoint, and is read back by its name
  const dir = await Deno.makeTempDir();
  const max = Number.MAX_SAFE_INTEGER;
  await saveCheckpoint(`${dir}/c`, { step: max - 1 });
  await saveCheckpoint(`${dir}/c`, { step: max });
  assert.deepEqual(names(dir), ["c", `c.step-${max - 1}`]);
  assert.equal((await readCheckpoint(`${dir}/c.step-${max - 1}`)).step, max - 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("saveCheckpoint replaces a stale directory already named like the one it moves aside", async () => {
  const dir = await Deno.makeTempDir();
  await saveCheckpoint(`${dir}/c`, { step: 3, v: "new" });
  await saveCheckpoint(`${dir}/d`, { step: 3, v: "stale" });
  await Deno.rename(`${dir}/d`, `${dir}/c.step-3`);
  await saveCheckpoint(`${dir}/c`, { step: 4 }, { keep: 3 });
  assert.deepEqual(names(dir), ["c", "c.step-3"]);
  assert.deepEqual(await loadCheckpoint(`${dir}/c.step-3`), { step: 3, v: "new" });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("saving a step at or before the current one drops the abandoned newer checkpoints", async () => {
  const dir = await Deno.makeTempDir();
  for (let step = 1; step <= 3; step++) await saveCheckpoint(`${dir}/c`, { step }, { keep: 3 });
  await saveCheckpoint(`${dir}/c`, { step: 3, v: "again" }, { keep: 3 });
  assert.deepEqual(names(dir), ["c", "c.step-1", "c.step-2"]);
  assert.deepEqual(await loadCheckpoint(`${dir}/c`), { step: 3, v: "again" });
  await saveCheckpoint(`${dir}/c`, { step: 2, v: "back" }, { keep: 3 });
  assert.deepEqual(names(dir), ["c", "c.step-1"]);
  assert.deepEqual(await loadCheckpoint(`${dir}/c`), { step: 2, v: "back" });
  await Deno.remove(dir, { recursive: true });
});

/** A checkpoint as an earlier version wrote it: no manifest, `checkpoint.json` edited by `edit`. */
async function earlier(
  dir: string,
  edit: (meta: Record<string, unknown>) => void = () => {},
): Promise<void> {
  const t = tf.tensor1d([1, 2]);
  await saveCheckpoint(dir, { step: 1, t });
  t.dispose();
  await Deno.remove(`${dir}/manifest.json`);
  const meta = JSON.parse(await Deno.readTextFile(`${dir}/checkpoint.json`));
  edit(meta);
  await Deno.writeTextFile(`${dir}/checkpoint.json`, JSON.stringify(meta));
}

Deno.test("a checkpoint without a manifest (an earlier version's) is read unchecked, but its format, version and tensor index are checked", async () => {
  const dir = await Deno.makeTempDir();
  await earlier(`${dir}/ok`);
  assert.equal(await hasCheckpoint(`${dir}/ok`), true);
  const back = await loadCheckpoint(`${dir}/ok`) as { step: number; t: tf.Tensor };
  assert.equal(back.step, 1);
  assert.deepEqual(Array.from(back.t.dataSync()), [1, 2]);
  back.t.dispose();
  const refused = async (
    name: string,
    edit: (meta: Record<string, unknown>) => void,
    reason: string,
  ) => {
    await earlier(`${dir}/${name}`, edit);
    await assert.rejects(
      () => loadCheckpoint(`${dir}/${name}`),
      (e: Error) =>
        e instanceof CheckpointError &&
        e.message ===
          `Cannot load a checkpoint from ${dir}/${name}: none is intact (${dir}/${name}: ${reason})`,
      name,
    );
  };
  await refused(
    "format",
    (m) => m.format = "other",
    "expected a selfsup-checkpoint version 1, received other version 1",
  );
  await refused(
    "version",
    (m) => m.version = 2,
    "expected a selfsup-checkpoint version 1, received selfsup-checkpoint version 2",
  );
  await refused("no-tensors", (m) => delete m.tensors, "checkpoint.json lists no tensors");
  const entry = (m: Record<string, unknown>) => (m.tensors as Record<string, unknown>[])[0];
  const malformed = "checkpoint.json has a malformed tensor entry";
  await refused("dtype", (m) => entry(m).dtype = "complex64", malformed);
  await refused("shape", (m) => entry(m).shape = "2", malformed);
  await refused("shape-neg", (m) => entry(m).shape = [-2], malformed);
  await refused("shape-frac", (m) => entry(m).shape = [1.5], malformed);
  await refused("shape-mixed", (m) => entry(m).shape = [2, -1], malformed);
  await refused("offset", (m) => entry(m).offset = -1, malformed);
  await refused("offset-frac", (m) => entry(m).offset = 0.5, malformed);
  await refused("bytes-frac", (m) => entry(m).bytes = 7.5, malformed);
  await refused("null-entry", (m) => (m.tensors as unknown[])[0] = null, malformed);
  // a checkpoint.json holding JSON null is refused, not a TypeError
  await earlier(`${dir}/null`);
  await Deno.writeTextFile(`${dir}/null/checkpoint.json`, "null");
  await assert.rejects(
    () => loadCheckpoint(`${dir}/null`),
    (e: Error) =>
      e instanceof CheckpointError &&
      e.message.endsWith(
        `${dir}/null: expected a selfsup-checkpoint version 1, received undefined version undefined)`,
      ),
  );
  const inconsistent = (name: string) =>
    `tensors.bin is truncated or inconsistent with checkpoint.json (${dir}/${name})`;
  await refused("bytes", (m) => entry(m).bytes = 4, inconsistent("bytes"));
  await refused("past-end", (m) => entry(m).offset = 4, inconsistent("past-end"));
  // offset + bytes exactly at the end is fine: [1, 2] stored as one float from offset 4
  await earlier(`${dir}/tail`, (m) => {
    Object.assign(entry(m), { offset: 4, bytes: 4, shape: [1] });
  });
  const tail = await loadCheckpoint(`${dir}/tail`) as { t: tf.Tensor };
  assert.deepEqual(Array.from(tail.t.dataSync()), [2]);
  tail.t.dispose();
  await Deno.writeTextFile(`${dir}/ok/checkpoint.json`, "{not json");
  await assert.rejects(
    () => loadCheckpoint(`${dir}/ok`),
    /\/ok: checkpoint\.json is not valid JSON \(/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a damaged manifest or a missing file is refused with its reason, and the previous checkpoint used", async () => {
  // the reasons quote the error's own message
  const thrown = async (f: () => unknown) => {
    try {
      await f();
    } catch (e) {
      // up to the path an OS error names (the other directory's, not the checkpoint's)
      return (e as Error).message.split(": ")[0].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }
    throw new Error("expected a throw");
  };
  const badJson = await thrown(() => JSON.parse("{oops"));
  const aDir = await Deno.makeTempDir();
  const isDir = await thrown(() => Deno.readFile(aDir));
  await Deno.remove(aDir);
  const cases: [string, (c: string) => Promise<void>, RegExp][] = [
    [
      "unreadable manifest",
      (c) => Deno.writeTextFile(`${c}/manifest.json`, "{oops"),
      new RegExp(
        `c: manifest\\.json is unreadable \\(${badJson}\\); using the previous intact one`,
      ),
    ],
    [
      "manifest without the file",
      async (c) => {
        const m = JSON.parse(await Deno.readTextFile(`${c}/manifest.json`));
        delete m.files["tensors.bin"];
        await Deno.writeTextFile(`${c}/manifest.json`, JSON.stringify(m));
      },
      /c: manifest\.json does not list tensors\.bin; using/,
    ],
    [
      "manifest without files",
      (c) => Deno.writeTextFile(`${c}/manifest.json`, "{}"),
      /c: manifest\.json does not list checkpoint\.json; using/,
    ],
    [
      "manifest with no checksum",
      async (c) => {
        const m = JSON.parse(await Deno.readTextFile(`${c}/manifest.json`));
        m.files["checkpoint.json"].sha256 = 5;
        await Deno.writeTextFile(`${c}/manifest.json`, JSON.stringify(m));
      },
      /c: manifest\.json does not list checkpoint\.json; using/,
    ],
    [
      "missing tensors.bin",
      (c) => Deno.remove(`${c}/tensors.bin`),
      /c: tensors\.bin is missing; using/,
    ],
    [
      "tensors.bin that cannot be read",
      async (c) => {
        await Deno.remove(`${c}/tensors.bin`);
        await Deno.mkdir(`${c}/tensors.bin`);
      },
      new RegExp(`c: tensors\\.bin is unreadable \\(${isDir}.*\\); using`),
    ],
    [
      "padded tensors.bin",
      async (c) => {
        const b = await Deno.readFile(`${c}/tensors.bin`);
        await Deno.writeFile(`${c}/tensors.bin`, Uint8Array.from([...b, 0]));
      },
      /c: tensors\.bin is truncated or padded \(9 bytes, expected 8\); using/,
    ],
  ];
  for (const [name, damage, note] of cases) {
    const dir = await Deno.makeTempDir();
    const t = tf.tensor1d([1, 2]);
    await saveCheckpoint(`${dir}/c`, { step: 1, t });
    await saveCheckpoint(`${dir}/c`, { step: 2, t });
    t.dispose();
    await damage(`${dir}/c`);
    const { got, notes } = await readNoting(`${dir}/c`);
    assert.equal(got.step, 1, name);
    assert.equal(got.path, `${dir}/c.step-1`, name);
    assert.equal(notes.length, 1, name);
    assert.match(notes[0], note, name);
    tf.dispose((got.contents as { t: tf.Tensor }).t);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkpoint round trip of a bool tensor and of an empty one", async () => {
  const dir = await Deno.makeTempDir();
  const mask = tf.tensor1d([true, false, true], "bool");
  const empty = tf.zeros([0, 3]);
  const ids = tf.tensor1d([7, -3], "int32");
  await saveCheckpoint(`${dir}/c`, { mask, empty, ids });
  const back = await loadCheckpoint(`${dir}/c`) as Record<string, tf.Tensor>;
  assert.equal(back.mask.dtype, "bool");
  assert.deepEqual(Array.from(back.mask.dataSync()), [1, 0, 1]);
  assert.deepEqual(back.empty.shape, [0, 3]);
  assert.deepEqual(Array.from(back.ids.dataSync()), [7, -3]);
  tf.dispose([mask, empty, ids, back.mask, back.empty, back.ids]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoints under a relative path or one ending in /: kept, pruned and read beside it", async () => {
  const dir = await Deno.makeTempDir();
  const cwd = Deno.cwd();
  Deno.chdir(dir);
  try {
    // a bare relative name: the save once removed its own temporary as a stale one (NotFound)
    for (let step = 1; step <= 3; step++) await saveCheckpoint("c", { step });
    assert.deepEqual(names("."), ["c", "c.step-2"]);
    await Deno.writeTextFile("c/checkpoint.json", "{}");
    const { got } = await readNoting("c");
    assert.deepEqual([got.step, got.path], [2, "./c.step-2"]);
  } finally {
    Deno.chdir(cwd);
  }
  // a trailing slash names the same directory (its temporary once went inside it)
  for (let step = 1; step <= 2; step++) await saveCheckpoint(`${dir}/t/`, { step });
  assert.deepEqual(names(dir), ["c", "c.step-2", "t", "t.step-1"]);
  assert.deepEqual(await loadCheckpoint(`${dir}/t`), { step: 2 });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a save with a step after one without (and the reverse, at step 0) keeps the previous one aside", async () => {
  const dir = await Deno.makeTempDir();
  await saveCheckpoint(`${dir}/c`, { step: 2 });
  await saveCheckpoint(`${dir}/c`, { v: "no step" });
  assert.deepEqual(names(dir), ["c", "c.step-2"]);
  const d = await Deno.makeTempDir();
  await saveCheckpoint(`${d}/c`, { v: "no step" });
  await saveCheckpoint(`${d}/c`, { step: 0 });
  assert.equal(names(d).length, 2);
  assert.match(names(d)[1], /^c\.step-unknown-\d+$/);
  assert.deepEqual(await loadCheckpoint(`${d}/${names(d)[1]}`), { v: "no step" });
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(d, { recursive: true });
});

Deno.test("saveCheckpoint creates missing parent directories", async () => {
  const dir = await Deno.makeTempDir();
  await saveCheckpoint(`${dir}/a/b/c`, { step: 1 });
  assert.deepEqual(await loadCheckpoint(`${dir}/a/b/c`), { step: 1 });
  assert.deepEqual(names(`${dir}/a/b`), ["c"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a save that fails after writing its temporary rethrows, removes the temporary and leaves the old checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  // a name whose temporary (`.tmp-<pid>-<13-digit time>`) fits in 255 bytes but whose aside
  // (`.step-unknown-<13-digit time>`, 27 bytes) does not: moving the old checkpoint aside fails
  const base = "c".repeat(255 - `.tmp-${Deno.pid}-${Date.now()}`.length);
  assert.ok(base.length + 27 > 255);
  await saveCheckpoint(`${dir}/${base}`, { v: 1 });
  await assert.rejects(() => saveCheckpoint(`${dir}/${base}`, { v: 2 }));
  assert.deepEqual(names(dir), [base]);
  assert.deepEqual(await loadCheckpoint(`${dir}/${base}`), { v: 1 });
  await Deno.remove(dir, { recursive: true });
});

// Issue 17, eleventh pass (H17G): survivors of Stryker on checkpoint.ts:336-492 (readCheckpoint's
// messages, hasCheckpoint, checkpointLeftovers, exists, removeIfExists).

Deno.test("readCheckpoint's fallback note and its none-intact message name each refused path and its reason; a fallback without onFallback is silent", async () => {
  const dir = await Deno.makeTempDir();
  await saveCheckpoint(`${dir}/c`, { step: 1 });
  await saveCheckpoint(`${dir}/c`, { step: 2 });
  await Deno.writeTextFile(`${dir}/c/checkpoint.json`, "{}");
  const { got, notes } = await readNoting(`${dir}/c`);
  assert.deepEqual([got.step, got.path], [1, `${dir}/c.step-1`]);
  assert.equal(notes.length, 1);
  assert.ok(notes[0].startsWith(`checkpoint ${dir}/c: `), notes[0]);
  assert.ok(notes[0].endsWith(`; using the previous intact one, ${dir}/c.step-1`), notes[0]);
  // no options at all: the fallback still happens, without a note
  assert.equal((await readCheckpoint(`${dir}/c`)).step, 1);
  assert.deepEqual(await loadCheckpoint(`${dir}/c`), { step: 1 });
  await Deno.writeTextFile(`${dir}/c.step-1/checkpoint.json`, "{}");
  await assert.rejects(
    () => readCheckpoint(`${dir}/c`),
    (e: Error) =>
      e instanceof CheckpointError &&
      e.message.startsWith(`Cannot load a checkpoint from ${dir}/c: none is intact (${dir}/c: `) &&
      e.message.includes(`; ${dir}/c.step-1: `) && e.message.endsWith(")"),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("hasCheckpoint: true only when one of the candidates holds a checkpoint.json (an older one suffices)", async () => {
  const dir = await Deno.makeTempDir();
  assert.equal(await hasCheckpoint(`${dir}/c`), false);
  await Deno.mkdir(`${dir}/c`);
  await Deno.mkdir(`${dir}/c.step-3`);
  await Deno.mkdir(`${dir}/c.old`);
  assert.equal(await hasCheckpoint(`${dir}/c`), false);
  await Deno.writeTextFile(`${dir}/c.step-3/checkpoint.json`, "{}");
  assert.equal(await hasCheckpoint(`${dir}/c`), true);
  assert.equal(await hasCheckpoint(`${dir}/missing/c`), false);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpointLeftovers: a missing parent is none; a path stat cannot read (a symlink loop) is an error, not 'no checkpoint'", async () => {
  const dir = await Deno.makeTempDir();
  assert.deepEqual(await checkpointLeftovers(`${dir}/missing/c`), []);
  await Deno.symlink(`${dir}/c`, `${dir}/c`);
  await assert.rejects(() => checkpointLeftovers(`${dir}/c`), Deno.errors.FilesystemLoop);
  await assert.rejects(() => hasCheckpoint(`${dir}/c`), Deno.errors.FilesystemLoop);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("saveCheckpoint rethrows a removal that fails for a reason other than NotFound", async () => {
  const dir = await Deno.makeTempDir();
  const remove = Deno.remove;
  Deno.remove = (path: string | URL, options?: Deno.RemoveOptions) =>
    String(path).endsWith(".old")
      ? Promise.reject(new Deno.errors.PermissionDenied(`remove ${path}`))
      : remove(path, options);
  try {
    await assert.rejects(
      () => saveCheckpoint(`${dir}/c`, { step: 1 }),
      Deno.errors.PermissionDenied,
    );
  } finally {
    Deno.remove = remove;
  }
  assert.deepEqual(await loadCheckpoint(`${dir}/c`), { step: 1 });
  await Deno.remove(dir, { recursive: true });
});

// ... and on checkpoint.ts:1-76 (writeSynced's truncate, parentOf).

Deno.test("a leftover temporary of the same name (same pid and millisecond) is overwritten, not written into", async () => {
  const dir = await Deno.makeTempDir();
  const now = Date.now;
  Date.now = () => 1_000;
  try {
    const tmp = `${dir}/c.tmp-${Deno.pid}-1000`;
    await Deno.mkdir(tmp);
    for (const f of ["checkpoint.json", "tensors.bin", "manifest.json"]) {
      await Deno.writeTextFile(`${tmp}/${f}`, "x".repeat(4096));
    }
    await saveCheckpoint(`${dir}/c`, { step: 1 });
  } finally {
    Date.now = now;
  }
  assert.deepEqual(names(dir), ["c"]);
  const { got, notes } = await readNoting(`${dir}/c`);
  assert.deepEqual([got.contents, notes], [{ step: 1 }, []]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("checkpoint paths ending in several slashes, or directly under /, name their siblings from the right parent", async () => {
  const dir = await Deno.makeTempDir();
  for (let step = 1; step <= 2; step++) await saveCheckpoint(`${dir}/t//`, { step });
  assert.deepEqual(names(dir), ["t", "t.step-1"]);
  assert.deepEqual(await loadCheckpoint(`${dir}/t///`), { step: 2 });
  // `/name`: the siblings are listed in "/" (nothing is written there: readDir is watched)
  const readDir = Deno.readDir;
  const listed: string[] = [];
  Deno.readDir = (path: string | URL) => {
    listed.push(String(path));
    return readDir(`${dir}/empty-missing`);
  };
  try {
    assert.deepEqual(await checkpointLeftovers("/selfsup-no-such-checkpoint"), []);
  } finally {
    Deno.readDir = readDir;
  }
  assert.deepEqual(listed, ["/", "/"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the fallback note joins two refused checkpoints with '; '", async () => {
  const dir = await Deno.makeTempDir();
  for (let step = 1; step <= 3; step++) await saveCheckpoint(`${dir}/c`, { step }, { keep: 3 });
  await Deno.writeTextFile(`${dir}/c/checkpoint.json`, "{}");
  await Deno.writeTextFile(`${dir}/c.step-2/checkpoint.json`, "{}");
  const { got, notes } = await readNoting(`${dir}/c`);
  assert.equal(got.step, 1);
  assert.equal(notes.length, 1);
  assert.ok(notes[0].includes(`; ${dir}/c.step-2: `), notes[0]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("saveCheckpoint closes every file and directory it opens (Linux: /proc/self/fd)", async () => {
  const dir = await Deno.makeTempDir();
  // only descriptors into this test's folder: tests running in parallel open their own
  const open = () =>
    [...Deno.readDirSync("/proc/self/fd")].filter((e) => {
      try {
        return Deno.readLinkSync(`/proc/self/fd/${e.name}`).startsWith(dir);
      } catch {
        return false; // closed between the listing and the read
      }
    });
  for (let step = 1; step <= 3; step++) await saveCheckpoint(`${dir}/c`, { step });
  assert.deepEqual(open(), []);
  await Deno.remove(dir, { recursive: true });
});

// ... and on checkpoint.ts:194-258 (stepOf, savedStep, history, pruneHistory).

Deno.test("a save removes an earlier version's dir.old; a null state saves and loads", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/c.old`);
  await saveCheckpoint(`${dir}/c`, null);
  assert.deepEqual(names(dir), ["c"]);
  const got = await readCheckpoint(`${dir}/c`);
  assert.deepEqual([got.contents, got.step], [null, null]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the step a checkpoint reports: a non-negative integer, else null", async () => {
  const dir = await Deno.makeTempDir();
  const cases: [unknown, number | null][] = [[0, 0], [7, 7], [-1, null], [1.5, null], ["3", null]];
  for (const [i, [step, want]] of cases.entries()) {
    await saveCheckpoint(`${dir}/c${i}`, { step });
    assert.equal((await readCheckpoint(`${dir}/c${i}`)).step, want, String(step));
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a manifest without a step: the previous checkpoint is kept aside under checkpoint.json's step", async () => {
  const dir = await Deno.makeTempDir();
  await saveCheckpoint(`${dir}/c`, { step: 5 });
  const m = JSON.parse(await Deno.readTextFile(`${dir}/c/manifest.json`));
  delete m.step;
  await Deno.writeTextFile(`${dir}/c/manifest.json`, JSON.stringify(m));
  await saveCheckpoint(`${dir}/c`, { step: 6 });
  assert.deepEqual(names(dir), ["c", "c.step-5"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("steps of several digits are kept and pruned by number; stray names like c.step-x5 are left alone", async () => {
  const dir = await Deno.makeTempDir();
  for (const stray of ["c.step-x5", "c.step-5x", "c.step-unknown-7x"]) {
    await Deno.mkdir(`${dir}/${stray}`);
  }
  await Deno.writeTextFile(`${dir}/c.step-4`, "a file, not a checkpoint");
  for (const step of [9, 10, 11, 12]) await saveCheckpoint(`${dir}/c`, { step }, { keep: 3 });
  assert.deepEqual(names(dir), [
    "c",
    "c.step-10",
    "c.step-11",
    "c.step-4",
    "c.step-5x",
    "c.step-unknown-7x",
    "c.step-x5",
  ]);
  await saveCheckpoint(`${dir}/c`, { v: "no step" }, { keep: 3 });
  await saveCheckpoint(`${dir}/c`, { step: 13 }, { keep: 3 });
  // the step-less one (unknown-<time>) sorts after every numbered one, so it is pruned first
  assert.deepEqual(names(dir).filter((n) => /^c(\.step-\d+)?$/.test(n)), [
    "c",
    "c.step-11",
    "c.step-12",
    "c.step-4",
  ]);
  assert.equal(names(dir).filter((n) => /^c\.step-unknown-\d+$/.test(n)).length, 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("older checkpoints are tried newest first, whatever order the directory lists them in", async () => {
  const dir = await Deno.makeTempDir();
  for (let step = 1; step <= 4; step++) await saveCheckpoint(`${dir}/c`, { step }, { keep: 4 });
  await Deno.writeTextFile(`${dir}/c/checkpoint.json`, "{}");
  const readDir = Deno.readDir;
  Deno.readDir = async function* (path: string | URL) {
    const all: Deno.DirEntry[] = [];
    for await (const e of readDir(path)) all.push(e);
    yield* all.sort((a, b) => a.name < b.name ? -1 : 1); // ascending: step-1 first
  };
  try {
    const { got } = await readNoting(`${dir}/c`);
    assert.equal(got.path, `${dir}/c.step-3`);
  } finally {
    Deno.readDir = readDir;
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a parent directory that cannot be listed (other than missing) is an error", async () => {
  const readDir = Deno.readDir;
  Deno.readDir = () => {
    throw new Deno.errors.PermissionDenied("readdir");
  };
  try {
    await assert.rejects(() => hasCheckpoint("/selfsup-no-such/c"), Deno.errors.PermissionDenied);
  } finally {
    Deno.readDir = readDir;
  }
});

Deno.test("resuming with a smaller keep: the abandoned newer one goes, and the kept count is of the others", async () => {
  const dir = await Deno.makeTempDir();
  for (let step = 1; step <= 4; step++) await saveCheckpoint(`${dir}/c`, { step }, { keep: 4 });
  await saveCheckpoint(`${dir}/c`, { step: 3 }, { keep: 3 });
  assert.deepEqual(names(dir), ["c", "c.step-1", "c.step-2"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a checkpoint path under a regular file has no checkpoint and nothing left over, as one under a missing folder", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/file`, "not a folder");
  try {
    assert.equal(await hasCheckpoint(`${dir}/file/c`), false);
    assert.deepEqual(await checkpointLeftovers(`${dir}/file/c`), []);
    await assert.rejects(() => readCheckpoint(`${dir}/file/c`), CheckpointError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
