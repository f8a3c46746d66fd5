/**
 * Issue 17: the run folder's files besides the log and the checkpoint (train/_run_files.ts), its
 * mirror test: `writeRunConfig` writes the record as indented JSON with a final newline, creating
 * the folder, leaves an existing config.json alone, leaves no temporary file and passes on an
 * error other than a missing file; `encoderSummary` gives the shapes without the batch axis and
 * the parameter count (counted by hand); `exportRunEncoder` writes `encoder/` and returns it.
 * `train` writing them is tested in `train_test.ts`; the export format in `eval/export_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tfl from "@tensorflow/tfjs-layers";
import { encoderSummary, exportRunEncoder, writeRunConfig } from "../../train/_run_files.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

/** conv 3x3x1 -> 3 (30 parameters), global average pooling, dense 3 -> 2 (8 parameters). */
function tinyEncoder(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [6, 5, 1], filters: 3, kernelSize: 3 }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 2 }),
    ],
  });
}

const names = async (dir: string) =>
  (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();

Deno.test("writeRunConfig: creates the folder and writes indented JSON with a final newline, once", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = `${root}/a/b`;
    await writeRunConfig(dir, { method: "simclr", steps: 3, lr: [0.1] });
    assert.equal(
      await Deno.readTextFile(`${dir}/config.json`),
      '{\n  "method": "simclr",\n  "steps": 3,\n  "lr": [\n    0.1\n  ]\n}\n',
    );
    // a second call (a resume, or a CLI that wrote a richer record first) changes nothing
    await writeRunConfig(dir, { method: "byol" });
    assert.match(await Deno.readTextFile(`${dir}/config.json`), /"simclr"/);
    assert.deepEqual(await names(dir), ["config.json"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("writeRunConfig: an error other than a missing config.json is thrown, nothing written", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.symlink(`${root}/config.json`, `${root}/config.json`); // a loop: stat fails
    await assert.rejects(
      () => writeRunConfig(root, { method: "simclr" }),
      Deno.errors.FilesystemLoop,
    );
    assert.deepEqual(await names(root), ["config.json"]);
    assert.equal((await Deno.lstat(`${root}/config.json`)).isSymlink, true);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("encoderSummary and exportRunEncoder: shapes without the batch axis, 38 parameters, encoder/", async () => {
  const encoder = tinyEncoder();
  assert.deepEqual(encoderSummary(encoder), {
    inputShape: [6, 5, 1],
    outputShape: [2],
    parameters: 3 * 3 * 3 + 3 + 3 * 2 + 2,
  });
  const root = await Deno.makeTempDir();
  try {
    assert.equal(await exportRunEncoder(root, encoder), `${root}/encoder`);
    assert.deepEqual(await names(root), ["encoder"]);
    assert.deepEqual(await names(`${root}/encoder`), ["model.json", "weights.bin"]);
    assert.equal((await Deno.stat(`${root}/encoder/weights.bin`)).size, 38 * 4);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
  encoder.dispose();
});
