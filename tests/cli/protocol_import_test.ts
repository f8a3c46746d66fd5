import assert from "node:assert/strict";
import {
  ImportMismatchError,
  PROTOCOL_OPTIONS,
  protocolMain,
  type ProtocolResults,
  runProtocol,
} from "../../cli/protocol.ts";
import { givenOptions, parseOptions } from "../../cli/_args.ts";
import { importMismatches, readImports } from "../../cli/_protocol_import.ts";
import { applyPresets } from "../../cli/_protocol_configs.ts";
import { plan } from "../../cli/_protocol_plan.ts";
import { captureMain, exists, tinyProtocolArgs } from "./_helpers.ts";

const capture = (args: string[]) => captureMain(protocolMain, args);

/** One method, one labeled size, 1 epoch each: a seed takes a few seconds. */
const TINY = [...tinyProtocolArgs({ methods: "simclr" }), "--quiet"];

const readResults = async (dir: string) =>
  JSON.parse(await Deno.readTextFile(`${dir}/results.json`)) as ProtocolResults;

Deno.test("a seed that finished is in results.json before the next one fails, and --import takes it back without training it, in every report written after", async () => {
  const out = await Deno.makeTempDir();
  try {
    // seed 7's arms cannot be written (a file stands where its arms/ folder goes): the run fails
    // in seed 7, after seed 5 finished
    await Deno.mkdir(`${out}/a/seed-7`, { recursive: true });
    await Deno.writeTextFile(`${out}/a/seed-7/arms`, "in the way");
    const a = await capture([
      ...TINY,
      "--seeds",
      "5,7",
      "--out",
      out,
      "--run-name",
      "a",
      "--report-dir",
      `${out}/published`,
    ]);
    assert.notEqual(a.code, 0, "seed 7 must fail");
    for (const dir of [`${out}/a`, `${out}/published`]) {
      const r = await readResults(dir);
      assert.deepEqual(r.arms.map((x) => `${x.seed} ${x.arm}`), [
        "5 ssl-simclr+head",
        "5 ssl-simclr+fine-tune",
        "5 supervised",
      ], dir);
      assert.deepEqual(r.pretraining.map((x) => x.seed), [5], dir);
      assert.equal(r.complete, false);
      assert.ok(r.inProgress?.some((l) => l.includes("seed(s) 7 still to run")), `${r.inProgress}`);
      assert.ok(await exists(`${dir}/report.md`) && await exists(`${dir}/config.json`), dir);
      assert.ok(await exists(`${dir}/plots/accuracy_vs_labeled.svg`), dir);
    }
    const before = await readResults(`${out}/published`);

    // a new run (the first run folder gone) over seeds 3, 5, 7: seed 5 imported as it was, seed 3
    // trained, and the report written after seed 3 holds seed 5 too, though 5 comes later in
    // --seeds; seed 7 fails again (blocked), then --resume runs it
    await Deno.remove(`${out}/a`, { recursive: true });
    await Deno.mkdir(`${out}/b/seed-7`, { recursive: true });
    await Deno.writeTextFile(`${out}/b/seed-7/arms`, "in the way");
    const bArgs = [...TINY, "--seeds", "3,5,7", "--out", out, "--run-name", "b"];
    const b = await capture([...bArgs, "--import", `${out}/published`]);
    assert.notEqual(b.code, 0, "seed 7 must fail");
    const mid = await readResults(`${out}/b`);
    assert.deepEqual(mid.pretraining.map((x) => x.seed), [3, 5]);
    assert.deepEqual(mid.arms.filter((x) => x.seed === 5), before.arms, "the imported seed kept");
    assert.deepEqual(mid.arms.map((x) => x.seed), [3, 3, 3, 5, 5, 5]);
    await Deno.remove(`${out}/b/seed-7/arms`);
    const resumed = await capture(["--resume", "--run-name", "b", "--out", out, "--quiet"]);
    assert.equal(resumed.code, 0, resumed.err);
    assert.equal(await exists(`${out}/b/seed-5`), false, "the imported seed trained again");
    assert.ok(await exists(`${out}/b/seed-7/arms/supervised-16.json`), "seed 7 ran");
    const r = await readResults(`${out}/b`);
    assert.equal(r.complete, true);
    assert.deepEqual(r.seeds, [3, 5, 7]);
    assert.deepEqual(r.arms.filter((x) => x.seed === 5), before.arms);
    assert.deepEqual(r.arms.filter((x) => x.seed === 3), mid.arms.filter((x) => x.seed === 3));
    assert.deepEqual(r.pretraining.map((x) => x.seed), [3, 5, 7]);
    assert.deepEqual(r.pretraining[1], before.pretraining[0]);
    assert.deepEqual(r.arms.filter((x) => x.seed === 7).map((x) => x.arm), [
      "ssl-simclr+head",
      "ssl-simclr+fine-tune",
      "supervised",
    ]);
    assert.deepEqual(r.verdicts.map((v) => v.seeds), [[3, 5, 7]]);
    assert.ok(r.imported?.[0].includes("seed(s) 5 taken"), `${r.imported}`);
    assert.match(await Deno.readTextFile(`${out}/b/report.md`), /seed\(s\) 5 taken as finished/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("--import refuses a report of other settings, naming the option and both values, before any work", async () => {
  const out = await Deno.makeTempDir();
  try {
    const a = await capture([...TINY, "--seeds", "3", "--out", out, "--run-name", "a"]);
    assert.equal(a.code, 0, a.err);
    const args = [
      ...TINY,
      "--seeds",
      "3,4",
      "--out",
      out,
      "--run-name",
      "b",
      "--import",
      `${out}/a`,
      "--pretrain-lr",
      "0.01",
    ];
    const o = applyPresets(
      parseOptions(args, PROTOCOL_OPTIONS),
      givenOptions(args, PROTOCOL_OPTIONS),
    );
    await assert.rejects(runProtocol(o), (e: unknown) => {
      assert.ok(e instanceof ImportMismatchError, String(e));
      assert.deepEqual(e.mismatches, [{ option: "pretrainLr", imported: 3e-4, current: 0.01 }]);
      assert.equal(e.dir, `${out}/a`);
      return true;
    });
    const cli = await capture(args);
    assert.equal(cli.code, 2);
    assert.match(cli.err, /--pretrain-lr 0\.0003 there, 0\.01 here/);
    assert.equal(await exists(`${out}/b`), false, "nothing written");
    // another dataset: refused too, with both names
    const other = await capture([
      ...args.filter((x) => x !== "--pretrain-lr" && x !== "0.01").map((x) =>
        x === "mnist-lines" ? "synthetic-text" : x
      ),
    ]);
    assert.equal(other.code, 2);
    assert.match(other.err, /--dataset mnist-lines there, synthetic-text here/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("importMismatches ignores the seed list and runtime options, and reads an absent option as its default", () => {
  const o = parseOptions(
    ["--seeds", "2", "--backend", "native", "--out", "x", "--checkpoint-every", "5"],
    PROTOCOL_OPTIONS,
  );
  const saved: Record<string, unknown> = { ...parseOptions([], PROTOCOL_OPTIONS) };
  saved.seeds = "0,1";
  saved.backend = "auto";
  saved.report = true;
  delete saved.weightDecay; // a report older than the option: its default
  assert.deepEqual(importMismatches(saved, o), []);
  saved.weightDecay = 0.05;
  saved.seed = 1; // the data seed decides the sets: it must match
  assert.deepEqual(importMismatches(saved, o), [
    { option: "weightDecay", imported: 0.05, current: 0.01 },
    { option: "seed", imported: 1, current: 0 },
  ]);
});

Deno.test("--import takes only a seed with every pretraining and arm; a seed short of one arm runs again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const o = applyPresets(
      parseOptions(
        ["--methods", "simclr", "--fractions", "0.5,1", "--labeled", "40"],
        PROTOCOL_OPTIONS,
      ),
      new Set(["methods", "fractions", "labeled"]),
    );
    const p = plan({ ...o, seeds: "0,1,2" });
    const arm = (seed: number, name: string, labeled: number) => ({ seed, arm: name, labeled });
    const armsOf = (seed: number) =>
      [20, 40].flatMap((n) => [
        arm(seed, "ssl-simclr+head", n),
        arm(seed, "ssl-simclr+fine-tune", n),
        arm(seed, "supervised", n),
      ]);
    await Deno.writeTextFile(
      `${dir}/results.json`,
      JSON.stringify({
        options: { ...o, seeds: "0,1,2,9" },
        encoder: "sequence, feature dim 8",
        // seed 1: no supervised arm at 40; seed 2: no pretraining; seed 9: not asked for
        arms: [...armsOf(0), ...armsOf(1).slice(0, -1), ...armsOf(2), ...armsOf(9)],
        pretraining: [0, 1, 9].map((seed) => ({ method: "simclr", seed })),
        umap: null,
      }),
    );
    const imports = await readImports([dir], p, { ...o, seeds: "0,1,2" });
    assert.deepEqual([...imports.seeds.keys()], [0]);
    assert.equal(imports.seeds.get(0)!.arms.length, 6);
    assert.deepEqual(imports.finished.get(dir), [0, 9]);
    assert.equal(imports.encoder, "sequence, feature dim 8");
    assert.match(
      imports.lines[0],
      /seed\(s\) 0 taken.*seed\(s\) 1, 2 unfinished.*seed\(s\) 9 not asked/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--report-dir refuses to overwrite the imported report with a run that leaves out its seeds", async () => {
  const out = await Deno.makeTempDir();
  try {
    const a = await capture([...TINY, "--seeds", "3", "--out", out, "--run-name", "a"]);
    assert.equal(a.code, 0, a.err);
    const r = await capture([
      ...TINY,
      "--seeds",
      "4",
      "--out",
      out,
      "--run-name",
      "b",
      "--import",
      `${out}/a`,
      "--report-dir",
      `${out}/a`,
    ]);
    assert.equal(r.code, 2);
    assert.match(r.err, /leave out its finished seed\(s\) 3/);
    assert.deepEqual((await readResults(`${out}/a`)).seeds, [3]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("--report and --resume take --seeds and --import: a run's own seed pooled with a committed report's, its UMAP kept", async () => {
  const out = await Deno.makeTempDir();
  try {
    const r = await capture([...TINY, "--seeds", "5", "--out", out, "--run-name", "r"]);
    assert.equal(r.code, 0, r.err);
    const b = await capture([
      ...TINY,
      "--seeds",
      "7",
      "--umap-points",
      "12",
      "--out",
      out,
      "--run-name",
      "b",
    ]);
    assert.equal(b.code, 0, b.err);
    const umap = (await readResults(`${out}/b`)).umap;
    assert.ok(umap && umap.seed === 7 && umap.plots.length === 2, JSON.stringify(umap));
    const own = (await readResults(`${out}/b`)).arms;
    const committed = (await readResults(`${out}/r`)).arms;
    for (const mode of ["--report", "--resume"]) {
      const c = await capture([
        mode,
        "--run-name",
        "b",
        "--out",
        out,
        "--seeds",
        "5,7",
        "--import",
        `${out}/r`,
        "--quiet",
      ]);
      assert.equal(c.code, 0, `${mode}: ${c.err}`);
      const res = await readResults(`${out}/b`);
      assert.deepEqual(res.seeds, [5, 7], mode);
      assert.deepEqual(res.arms, [...committed, ...own], mode);
      assert.equal(res.complete, true, mode);
      assert.deepEqual(res.umap, umap, `${mode} keeps the run's UMAP`);
      assert.equal(await exists(`${out}/b/seed-5`), false, `${mode} trained the imported seed`);
    }
    // a run without seed folders cannot take a seed list on resume (its stages sit in the run
    // folder itself)
    await Deno.mkdir(`${out}/c`);
    const saved = { ...parseOptions(TINY, PROTOCOL_OPTIONS), runName: "c", out };
    await Deno.writeTextFile(
      `${out}/c/config.json`,
      JSON.stringify({ command: "protocol", options: saved }),
    );
    const c = await capture(["--resume", "--run-name", "c", "--out", out, "--seeds", "0,1"]);
    assert.equal(c.code, 2);
    assert.match(c.err, /--seeds 0,1 \(saved: default\) cannot change/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
