/**
 * Fault cases of `deno task pretrain` (issue 13): every user, data and file-system error is one
 * `error: ...` line with exit 2 and no stack; resume refuses what it cannot continue and never
 * destroys what a run left; another task's run is never overwritten.
 */
import assert from "node:assert/strict";
import { pretrainMain } from "../../cli/pretrain.ts";
import { protocolMain } from "../../cli/protocol.ts";
import { pretextPreviewMain } from "../../cli/_preview_pretext.ts";
import { badFolder } from "../data/_bad_folder.ts";
import { type OptionSpec, runCommand } from "../../cli/_args.ts";
import { assertUserError, captureMain } from "./_helpers.ts";

const capture = (main: (args: string[]) => Promise<number>, args: string[]) =>
  captureMain(main, args, { warnings: "err" });

const pretrain = (args: string[]) => capture(pretrainMain, args);

/** A two-step pretraining run on an image folder (convnet 4-8, batch 4): about a second. */
function tinyArgs(folder: string, out: string, name: string): string[] {
  return [
    ...["--dataset", `folder:${folder}`, "--encoder", "convnet", "--widths", "4,8"],
    ...["--projection-dim", "8", "--hidden-dim", "8", "--batch-size", "4", "--steps", "2"],
    ...["--checkpoint-every", "1", "--knn-bank", "0", "--backend", "cpu", "--quiet"],
    ...["--out", out, "--run-name", name],
  ];
}

async function withRoot(fn: (root: string) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "selfsup_clifault_" });
  try {
    await badFolder(`${root}/imgs`);
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("pretrain: data and file-system errors are one line with exit 2", async () => {
  await withRoot(async (root) => {
    await Deno.mkdir(`${root}/empty`);
    await Deno.writeTextFile(`${root}/afile`, "x");
    const args = (extra: string[]) => [...tinyArgs(`${root}/imgs`, `${root}/runs`, "x"), ...extra];
    const cases: [string[], RegExp][] = [
      [["--dataset", "folder:/nonexistent"], /Cannot load image folder \/nonexistent/],
      [["--dataset", `folder:${root}/empty`], /no usable image/],
      [["--out", `${root}/afile`], /afile/],
      [["--run-name", "../.."], /--run-name must be a single folder name/],
      [["--run-name", "a/b"], /--run-name must be a single folder name/],
    ];
    for (const [extra, pattern] of cases) {
      assertUserError(await pretrain(args(extra)), pattern, extra.join(" "));
    }
  });
});

Deno.test("pretrain on a folder prints the image counts once and records them in config.json", async () => {
  await withRoot(async (root) => {
    const r = await pretrain(tinyArgs(`${root}/imgs`, `${root}/runs`, "ok"));
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.err,
      /imgs: 13 images, 5 skipped \(.*truncated 2.*\), 2 non-image files ignored/,
    );
    // the file only a decode finds is skipped by the loader, reported once
    assert.equal(r.err.split("bad_data.png").length - 1, 1, r.err);
    const config = JSON.parse(await Deno.readTextFile(`${root}/runs/ok/config.json`));
    assert.equal(config.resolved.trainImages, 13);
    assert.deepEqual(
      [
        config.resolved.images.loaded,
        config.resolved.images.skipped,
        config.resolved.images.ignored,
      ],
      [13, 5, 2],
    );
  });
});

Deno.test("pretrain --resume: refuses with nothing to resume, keeps metrics.jsonl, checks flags and checkpoints", async () => {
  await withRoot(async (root) => {
    const runs = `${root}/runs`;
    const base = tinyArgs(`${root}/imgs`, runs, "r");
    assert.equal((await pretrain(base)).code, 0);
    const dir = `${runs}/r`;
    const resume = (extra: string[] = []) =>
      pretrain(["--resume", "--out", runs, "--run-name", "r", "--quiet", ...extra]);

    // a changed setting that may not change is refused; --steps/--lr apply with a notice
    assertUserError(
      await resume(["--batch-size", "8"]),
      /--batch-size 8 \(saved: 4\) cannot change/,
      "batch",
    );
    const more = await resume(["--steps", "4", "--lr", "0.01"]);
    assert.equal(more.code, 0, more.err);
    assert.match(more.err, /resume: --steps 4 replaces the saved 2/);
    assert.match(more.err, /resume: --lr 0.01 replaces the saved default/);
    assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/results.json`)).steps, 4);

    // a zero-filled tensors.bin of the right size: the previous checkpoint is used, saying so
    await Deno.remove(`${dir}/results.json`);
    const bin = `${dir}/checkpoint/tensors.bin`;
    await Deno.writeFile(bin, new Uint8Array((await Deno.stat(bin)).size));
    const fallback = await resume(["--steps", "5"]);
    assert.equal(fallback.code, 0, fallback.err);
    assert.match(fallback.err, /checksum.*using the previous intact one, .*checkpoint\.step-3/);

    // a missing tensors.bin in every checkpoint: one error line
    await Deno.remove(`${dir}/results.json`);
    for await (const e of Deno.readDir(dir)) {
      if (e.name.startsWith("checkpoint")) await Deno.remove(`${dir}/${e.name}/tensors.bin`);
    }
    assertUserError(
      await resume(["--steps", "6"]),
      /none is intact.*tensors\.bin is missing/,
      "missing bin",
    );

    // no checkpoint at all: refused, exit 2, metrics.jsonl untouched
    for await (const e of Deno.readDir(dir)) {
      if (e.name.startsWith("checkpoint")) {
        await Deno.remove(`${dir}/${e.name}`, { recursive: true });
      }
    }
    const metrics = await Deno.readTextFile(`${dir}/metrics.jsonl`);
    assertUserError(await resume(), /nothing to resume in .*no checkpoint/, "no checkpoint");
    assert.equal(await Deno.readTextFile(`${dir}/metrics.jsonl`), metrics);

    // garbage config.json
    await Deno.writeTextFile(`${dir}/config.json`, "{not json");
    assertUserError(await resume(), /config\.json: not valid JSON/, "garbage config");
  });
});

Deno.test("a fresh run never overwrites a run: an interrupted save, another task's run", async () => {
  await withRoot(async (root) => {
    const runs = `${root}/runs`;
    // only checkpoint.old left by a save killed between its renames
    await Deno.mkdir(`${runs}/cut/checkpoint.old`, { recursive: true });
    await Deno.writeTextFile(`${runs}/cut/checkpoint.old/checkpoint.json`, "{}");
    assertUserError(
      await pretrain(tinyArgs(`${root}/imgs`, runs, "cut")),
      /already holds a run.*checkpoint\.old/,
      "interrupted save",
    );
    assert.equal(await Deno.readTextFile(`${runs}/cut/checkpoint.old/checkpoint.json`), "{}");
    // a protocol run's folder: pretrain neither starts over it nor resumes it
    await Deno.mkdir(`${runs}/proto`);
    const config = JSON.stringify({ command: "protocol", options: { seed: 0 } });
    await Deno.writeTextFile(`${runs}/proto/config.json`, config);
    await Deno.writeTextFile(`${runs}/proto/results.json`, "{}");
    assertUserError(
      await pretrain(tinyArgs(`${root}/imgs`, runs, "proto")),
      /already holds a run.*a protocol run's config\.json/,
      "fresh over protocol",
    );
    assertUserError(
      await pretrain(["--resume", "--out", runs, "--run-name", "proto"]),
      /holds a protocol run, not a pretrain run/,
      "resume of protocol",
    );
    assert.equal(await Deno.readTextFile(`${runs}/proto/config.json`), config);
    assert.equal(await Deno.readTextFile(`${runs}/proto/results.json`), "{}");
    // and the protocol does not resume a pretrain run
    await Deno.mkdir(`${runs}/pre`);
    await Deno.writeTextFile(
      `${runs}/pre/config.json`,
      JSON.stringify({ command: "pretrain", options: {} }),
    );
    assertUserError(
      await capture(protocolMain, ["--resume", "--out", runs, "--run-name", "pre", "--quiet"]),
      /holds a pretrain run, not a protocol run/,
      "protocol resume of pretrain",
    );
  });
});

/** Every float32 value stored in a checkpoint directory. */
async function storedFloats(dir: string): Promise<Float32Array[]> {
  const meta = JSON.parse(await Deno.readTextFile(`${dir}/checkpoint.json`));
  const bin = await Deno.readFile(`${dir}/tensors.bin`);
  return (meta.tensors as { dtype: string; offset: number; bytes: number }[])
    .filter((t) => t.dtype === "float32")
    .map((t) => new Float32Array(bin.slice(t.offset, t.offset + t.bytes).buffer));
}

Deno.test("a diverging pretrain run (--lr 1e6) exits 1 naming a checkpoint that holds only finite values", async () => {
  await withRoot(async (root) => {
    const runs = `${root}/runs`;
    const args = tinyArgs(`${root}/imgs`, runs, "nan");
    args[args.indexOf("--steps") + 1] = "30";
    const r = await pretrain([...args, "--lr", "1e6", "--warmup", "0", "--clip-norm", "1"]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /error: Training diverged at step \d+/);
    assert.ok(!/^\s+at /m.test(r.err), "no stack trace");
    const named = /last good checkpoint is (\S+) \(step (\d+)\)/.exec(r.err);
    assert.ok(named, r.err);
    const manifest = JSON.parse(await Deno.readTextFile(`${named[1]}/manifest.json`));
    assert.equal(manifest.step, Number(named[2]));
    // every checkpoint left on disk is finite (the guard checks weights, BN statistics, slots)
    for await (const e of Deno.readDir(`${runs}/nan`)) {
      if (!e.name.startsWith("checkpoint")) continue;
      for (const values of await storedFloats(`${runs}/nan/${e.name}`)) {
        assert.ok(values.every(Number.isFinite), `${e.name} holds a non-finite value`);
      }
    }
  });
});

Deno.test("pretrain reports the k the kNN monitor used when --knn-k exceeds the bank", async () => {
  const out = await Deno.makeTempDir({ prefix: "selfsup_knnk_" });
  try {
    const r = await pretrain([
      ...["--dataset", "mnist", "--train-size", "32", "--batch-size", "16", "--steps", "1"],
      ...["--widths", "4,8", "--projection-dim", "8", "--knn-bank", "20", "--knn-queries", "10"],
      ...["--knn-k", "50", "--backend", "cpu", "--out", out, "--run-name", "k"],
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /--knn-k 50 is more than the 20 bank images: using k=20/);
    assert.match(r.out, /kNN top-1 \(k=20\)/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("pretrain --keep-checkpoints keeps that many checkpoints", async () => {
  await withRoot(async (root) => {
    const args = tinyArgs(`${root}/imgs`, `${root}/runs`, "keep");
    args[args.indexOf("--steps") + 1] = "4";
    const r = await pretrain([...args, "--keep-checkpoints", "3"]);
    assert.equal(r.code, 0, r.err);
    const names = [];
    for await (const e of Deno.readDir(`${root}/runs/keep`)) {
      if (e.name.startsWith("checkpoint")) names.push(e.name);
    }
    assert.deepEqual(names.sort(), ["checkpoint", "checkpoint.step-2", "checkpoint.step-3"]);
  });
});

Deno.test("preview --method <task> --out <under a file> is one error line, exit 2", async () => {
  const root = await Deno.makeTempDir({ prefix: "selfsup_previewout_" });
  try {
    await Deno.writeTextFile(`${root}/afile`, "x");
    const r = await capture(pretextPreviewMain, [
      ...["--method", "rotation", "--out", `${root}/afile/x.png`, "--steps", "0", "--count", "2"],
      ...["--backend", "cpu"],
    ]);
    assertUserError(r, /afile/, "preview --out");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("runCommand: an allocation failure names the options that size memory; a bug keeps its stack", async () => {
  const specs: OptionSpec[] = [
    { name: "batch-size", type: "integer", description: "images per step", default: 64 },
    { name: "seed", type: "integer", description: "seed", default: 0 },
  ];
  const run = (e: Error) =>
    capture((args) => runCommand(args, specs, "usage", () => Promise.reject(e)), []);
  const oom = await run(new RangeError("Array buffer allocation failed"));
  assertUserError(oom, /allocation failed; out of memory: try a smaller --batch-size$/, "oom");
  // the engine's own TypeError is a bug: rethrown with its stack, not an exit code
  await assert.rejects(
    () =>
      runCommand(
        [],
        specs,
        "usage",
        () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'x')")),
      ),
    TypeError,
  );
  const verbose = await capture(
    (args) => runCommand(args, specs, "usage", () => Promise.reject(new RangeError("bad value"))),
    ["--verbose"],
  );
  assert.equal(verbose.code, 2);
  assert.match(verbose.err, /error: bad value\nRangeError: bad value\n\s+at /);
});
