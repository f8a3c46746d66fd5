import assert from "node:assert/strict";
import {
  PROTOCOL_OPTIONS,
  protocolMain,
  type ProtocolResults,
  sourceDifferences,
} from "../../cli/protocol.ts";
import { camelCase, givenOptions, parseOptions } from "../../cli/_args.ts";
import {
  applyPresets,
  configOverrides,
  configReasons,
  CONFIGS,
  ourChoices,
  SOURCE_SETTINGS,
} from "../../cli/_protocol_configs.ts";
import { type ArmRecord, reportMarkdown } from "../../cli/_protocol_report.ts";
import { verdicts } from "../../cli/_protocol_verdict.ts";
import { captureMain, exists, tinyProtocolArgs } from "./_helpers.ts";

const capture = (args: string[]) => captureMain(protocolMain, args);

/** A protocol small enough for a test: 32 unlabeled lines, 16 labeled, 16 test, 1 epoch each. */
const TINY = tinyProtocolArgs({ fractions: "0.5,1", "umap-points": "12" });

async function mtimes(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const e of Deno.readDir(`${dir}/arms`)) {
    if (e.isFile) {
      out.set(`arms/${e.name}`, (await Deno.stat(`${dir}/arms/${e.name}`)).mtime!.getTime());
    }
  }
  for (const m of ["simclr", "simsiam"]) {
    const f = `pretrain-${m}/done.json`;
    out.set(f, (await Deno.stat(`${dir}/${f}`)).mtime!.getTime());
  }
  return out;
}

Deno.test("a tiny protocol run reports every arm with finite metrics, and --resume skips finished stages", async () => {
  const out = await Deno.makeTempDir();
  const dir = `${out}/tiny`;
  try {
    const first = await capture([...TINY, "--out", out, "--run-name", "tiny", "--quiet"]);
    assert.equal(first.code, 0, first.err);
    const r = JSON.parse(await Deno.readTextFile(`${dir}/results.json`)) as ProtocolResults;
    assert.equal(r.task, "sequence");
    assert.deepEqual(r.sizes.labeledSizes, [8, 16]);
    assert.deepEqual(r.pretraining.map((p) => [p.method, p.steps]), [["simclr", 2], [
      "simsiam",
      2,
    ]]);
    for (const p of r.pretraining) {
      assert.equal(p.losses.length, 2);
      assert.ok(p.losses.every(Number.isFinite), `${p.method} losses ${p.losses}`);
    }
    const expected = [
      "ssl-simclr+head",
      "ssl-simclr+fine-tune",
      "ssl-simsiam+head",
      "ssl-simsiam+fine-tune",
      "supervised",
    ];
    for (const n of [8, 16]) {
      const at = r.arms.filter((a) => a.labeled === n);
      assert.deepEqual(at.map((a) => a.arm).sort(), [...expected].sort(), `arms at n=${n}`);
      for (const a of at) {
        assert.ok(a.accuracy >= 0 && a.accuracy <= 1, `${a.arm} accuracy ${a.accuracy}`);
        assert.ok(Number.isFinite(a.cer) && a.cer! >= 0, `${a.arm} CER ${a.cer}`);
        assert.equal(a.testCount, 16);
        assert.equal(a.losses.length, 1);
        assert.ok(Number.isFinite(a.losses[0]) && a.losses[0] > 0, `${a.arm} loss ${a.losses}`);
        assert.ok(a.seconds > 0);
      }
    }
    // one verdict per labeled size and method, from the rows (one seed: no claim)
    assert.equal(r.verdicts.length, 4);
    for (const v of r.verdicts) {
      const ft = r.arms.find((a) =>
        a.arm === `ssl-${v.method}+fine-tune` && a.labeled === v.labeled
      )!;
      const sup = r.arms.find((a) => a.arm === "supervised" && a.labeled === v.labeled)!;
      assert.deepEqual(v.differences, [ft.accuracy - sup.accuracy]);
      assert.ok(["one-seed", "no-arm-learns"].includes(v.outcome), v.outcome);
    }
    const report = await Deno.readTextFile(`${dir}/report.md`);
    for (const a of r.arms) {
      assert.match(
        report,
        new RegExp(`\\| ${a.arm.replace("+", "\\+")} \\| ${a.labeled} \\| 0 \\| 1 \\|`),
      );
    }
    for (const plot of [...r.plots, ...r.umap!.plots]) {
      const svg = await Deno.readTextFile(`${dir}/plots/${plot}`);
      assert.ok(svg.startsWith("<svg"), plot);
      assert.match(report, new RegExp(`plots/${plot}`));
    }
    assert.deepEqual(r.plots.slice(0, 2), ["accuracy_vs_labeled.svg", "cer_vs_labeled.svg"]);
    assert.ok(
      report.indexOf("accuracy_vs_labeled.svg") < report.indexOf("loss_pretrain"),
      "the label-efficiency curve is the first figure",
    );
    // one pretraining loss plot per method, each with its own y axis
    for (const p of r.pretraining) {
      const svg = await Deno.readTextFile(`${dir}/plots/loss_pretrain_${p.method}.svg`);
      assert.match(svg, new RegExp(`${p.method} pretraining loss \\(batch 16, lr 0.0003\\)`));
      assert.match(svg, new RegExp(`${p.method} \\(per step\\)`));
    }
    assert.ok(!r.plots.includes("loss_pretrain.svg"));
    // the settings that differ from the source's, in results.json and in the report
    assert.deepEqual(
      r.sourceDifferences,
      sourceDifferences(parseOptions(TINY, PROTOCOL_OPTIONS), { unlabeled: 32, labeled: 16 }),
    );
    assert.match(
      report,
      /this run changed \(the source's value in brackets\): --unlabeled 32 \(source: 800000\); --labeled 16 \(source: 40000\); --pretrain-epochs 1 \(source: 10\); --head-epochs 1 \(source: 10\)/,
    );
    assert.doesNotMatch(report, /--fractions [^;\n]*\(source:/);
    assert.match(report, /- labeled sizes: --fractions 0\.5,1 of the labeled set/);
    assert.match(
      report,
      /\| simclr \| 0 \| 2 \| 1 \| 16 \| 0\.0003 \| \d+\.\d{4} \| \d+\.\d{4} \|/,
    );
    assert.deepEqual(r.umap!.plots, [
      "umap_random_init.svg",
      "umap_simclr.svg",
      "umap_simsiam.svg",
    ]);

    // a second run into the same folder needs --resume
    const again = await capture([...TINY, "--out", out, "--run-name", "tiny", "--quiet"]);
    assert.equal(again.code, 2);
    assert.match(again.err, /already holds a run: pass --resume/);

    // resume of a finished run: every stage is skipped, nothing is rewritten
    const before = await mtimes(dir);
    const resumed = await capture(["--resume", "--out", out, "--run-name", "tiny"]);
    assert.equal(resumed.code, 0, resumed.err);
    assert.equal(resumed.err.match(/finished earlier.*skipped/g)?.length, 2 + 10);
    assert.doesNotMatch(resumed.err, /epochs, AdamW/);
    assert.deepEqual(await mtimes(dir), before);
    const r2 = JSON.parse(await Deno.readTextFile(`${dir}/results.json`)) as ProtocolResults;
    assert.deepEqual(r2.arms, r.arms);

    // an interrupted run: simsiam's pretraining lost its result but kept its checkpoint, and one
    // arm never finished; resume reruns exactly those two and skips the rest
    await Deno.remove(`${dir}/pretrain-simsiam/done.json`);
    await Deno.remove(`${dir}/arms/supervised-16.json`);
    const partial = await capture(["--resume", "--out", out, "--run-name", "tiny", "--quiet"]);
    assert.equal(partial.code, 0, partial.err);
    const r3 = JSON.parse(await Deno.readTextFile(`${dir}/results.json`)) as ProtocolResults;
    const simsiam = r3.pretraining.find((p) => p.method === "simsiam")!;
    assert.equal(simsiam.resumed, true);
    assert.equal(simsiam.steps, 2);
    assert.deepEqual(simsiam.losses, r.pretraining[1].losses);
    const after = await mtimes(dir);
    for (const [file, t] of before) {
      if (file === "pretrain-simsiam/done.json" || file === "arms/supervised-16.json") {
        assert.ok(after.has(file), `${file} rewritten`);
      } else {
        assert.equal(after.get(file), t, `${file} must not be rewritten`);
      }
    }
    const sup = r3.arms.find((a) => a.arm === "supervised" && a.labeled === 16)!;
    assert.ok(Number.isFinite(sup.cer));
    // the resumed run read its sets from <run>/data/, and the rerun arm matches the first run's
    for (const set of ["unlabeled", "labeled", "test"]) {
      assert.ok(await exists(`${dir}/data/${set}.bin`), `data/${set}.bin`);
    }
    const sup1 = r.arms.find((a) => a.arm === "supervised" && a.labeled === 16)!;
    assert.deepEqual([sup.losses, sup.accuracy, sup.cer], [sup1.losses, sup1.accuracy, sup1.cer]);
    assert.equal(r3.complete, true);

    // --report of an unfinished run: the stages so far, marked partial, nothing run
    await Deno.remove(`${dir}/arms/supervised-16.json`);
    const rep = await capture(["--report", "--out", out, "--run-name", "tiny", "--quiet"]);
    assert.equal(rep.code, 0, rep.err);
    const r4 = JSON.parse(await Deno.readTextFile(`${dir}/results.json`)) as ProtocolResults;
    assert.equal(r4.complete, false);
    assert.equal(r4.arms.length, r3.arms.length - 1);
    assert.ok(!(await exists(`${dir}/arms/supervised-16.json`)), "--report trains nothing");
    assert.match(await Deno.readTextFile(`${dir}/report.md`), /\*\*Partial report\*\*/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("--seeds runs every stage and arm once per seed, in its own folder, and pairs them", async () => {
  const out = await Deno.makeTempDir();
  try {
    const args = [...TINY, "--methods", "simclr", "--fractions", "1", "--umap-points", "0"];
    const r = await capture([
      ...args,
      "--seeds",
      "3,5",
      "--out",
      out,
      "--run-name",
      "s",
      "--quiet",
    ]);
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(await Deno.readTextFile(`${out}/s/results.json`)) as ProtocolResults;
    assert.deepEqual(res.seeds, [3, 5]);
    assert.deepEqual(res.pretraining.map((p) => p.seed), [3, 5]);
    assert.deepEqual(res.arms.map((a) => `${a.seed} ${a.arm}`), [
      "3 ssl-simclr+head",
      "3 ssl-simclr+fine-tune",
      "3 supervised",
      "5 ssl-simclr+head",
      "5 ssl-simclr+fine-tune",
      "5 supervised",
    ]);
    for (const s of [3, 5]) {
      assert.ok(await exists(`${out}/s/seed-${s}/arms/supervised-16.json`), `seed ${s} arms`);
    }
    // different seeds, different nets: the two pretraining runs differ
    assert.notDeepEqual(res.pretraining[0].losses, res.pretraining[1].losses);
    assert.deepEqual(res.verdicts.map((v) => v.seeds), [[3, 5]]);
    assert.equal(res.complete, true);
    const report = await Deno.readTextFile(`${out}/s/report.md`);
    assert.match(report, /\| supervised \| 16 \| 2 \| \d+\.\d \+- \d+\.\d% \|/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("--estimate times a few steps of each stage, prints the wall time and writes nothing", async () => {
  const out = await Deno.makeTempDir();
  try {
    const r = await capture([
      ...TINY,
      "--seeds",
      "0,1",
      "--out",
      out,
      "--run-name",
      "e",
      "--estimate",
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.err,
      /probe \([\d.]+ s\): pretraining step of 16 simclr [\d.]+ s, simsiam [\d.]+ s; labeled step of 8: head [\d.]+ s, whole network [\d.]+ s; scoring [\d.]+ ms per test image; data [\d.]+ ms per line/,
    );
    const m = r.err.match(
      /estimated wall time: (\S+) at the current load \(data \S+, stage 1 .*2 seed\(s\), 2 pretraining steps per method, arms at 8, 16/,
    );
    assert.ok(m, r.err);
    assert.deepEqual([...Deno.readDirSync(out)], [], "nothing written");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("protocol rejects unknown options and bad values with exit code 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--epochs", "3"], /Unknown option --epochs.*run with --help/],
    [["--method", "simclr"], /Unknown option --method \(did you mean --methods\?\)/],
    [["extra"], /Unexpected argument "extra"/],
    [["--methods", "simclr,dino"], /--methods must list some of simclr.*received "dino"/],
    [["--methods", "simclr,simclr"], /--methods must not repeat a method/],
    [["--fractions", "0.1,0"], /--fractions must be numbers in \(0, 1\]/],
    [["--scale", "2"], /--scale must be <= 1, received 2/],
    [["--dataset", "cifar"], /--dataset must be one of synthetic-text, mnist-lines, folder:/],
    [["--finetune-epochs", "0"], /--finetune-epochs must be >= 1, received 0/],
    [["--widths", "4,x"], /--widths must be positive integers/],
    [["--unlabeled", "10"], /--unlabeled must hold at least one pretraining batch \(96\)/],
    [["--resume"], /--resume needs --run-name/],
    [["--resume", "--run-name", "nope", "--out", "/nonexistent"], /no run to continue/],
    [["--dataset", "folder:"], /needs a folder/],
  ];
  for (const [args, pattern] of cases) {
    const r = await capture([...args, "--quiet"]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, pattern);
  }
});

Deno.test("protocol --help lists every option with the source's defaults", async () => {
  const r = await capture(["--help"]);
  assert.equal(r.code, 0);
  for (const spec of PROTOCOL_OPTIONS) assert.match(r.out, new RegExp(`--${spec.name}\\b`));
  assert.match(r.out, /--pretrain-batch <n>\s+stage 1 batch size \(default: 96\)/);
  assert.match(r.out, /--finetune-lr <n>\s+stage 3 learning rate \(AdamW\) \(default: 0.00003\)/);
  const o = parseOptions([], PROTOCOL_OPTIONS);
  assert.deepEqual(
    [o.methods, o.pretrainLr, o.momentum, o.pretrainEpochs, o.headLr, o.headEpochs, o.batchSize],
    ["simclr,simsiam", 3e-4, 0.8, 10, 3e-4, 10, 8],
  );
  assert.deepEqual([o.finetuneLr, o.finetuneEpochs, o.supervisedLr, o.supervisedEpochs], [
    3e-5,
    40,
    3e-4,
    50,
  ]);
});

Deno.test("sourceDifferences lists exactly the source's settings that a run changes", () => {
  const parse = (args: string[]) => parseOptions(args, PROTOCOL_OPTIONS);
  // the source's settings, and options that are no setting of the source (seed, output)
  assert.deepEqual(sourceDifferences(parse([])), []);
  assert.deepEqual(sourceDifferences(parse(["--seed", "4", "--backend", "wasm"])), []);
  // passing the source's value explicitly is no difference
  assert.deepEqual(sourceDifferences(parse(["--finetune-lr", "0.00003"])), []);
  // the set sizes are the source's too, compared once resolved
  assert.deepEqual(sourceDifferences(parse([]), { unlabeled: 9600, labeled: 40000 }), [
    "--unlabeled 9600 (source: 800000)",
  ]);
  assert.deepEqual(
    sourceDifferences(
      parse([
        "--finetune-lr",
        "3e-4",
        "--pretrain-lr",
        "0.05",
        "--momentum",
        "0.9",
        "--widths",
        "8,16,32",
        "--methods",
        "simclr",
      ]),
    ),
    [
      "--methods simclr (source: simclr,simsiam)",
      "--pretrain-lr 0.05 (source: 0.0003)",
      "--momentum 0.9 (source: 0.8)",
      "--finetune-lr 0.0003 (source: 0.00003)",
    ],
  );
  // epochs after --epochs-scale
  assert.deepEqual(sourceDifferences(parse(["--epochs-scale", "0.5"])), [
    "--pretrain-epochs 10 x --epochs-scale 0.5 = 5 (source: 10)",
    "--head-epochs 10 x --epochs-scale 0.5 = 5 (source: 10)",
    "--finetune-epochs 40 x --epochs-scale 0.5 = 20 (source: 40)",
    "--supervised-epochs 50 x --epochs-scale 0.5 = 25 (source: 50)",
  ]);
});

Deno.test("a setting the source never gives is never printed with a source value, and is listed as ours", () => {
  // what the source gives, read off its protocol paragraph (SimCLR and SimSiam, SGD momentum 0.8,
  // lr 3e-4, batch 96, 10 epochs on 800k; AdamW 3e-4 batch 8 head 10 epochs on 40k; AdamW 3e-5
  // 40 epochs; supervised AdamW 3e-4 batch 8 50 epochs), written here independently of the code
  const given = [
    "methods",
    "unlabeled",
    "labeled",
    "pretrainEpochs",
    "pretrainBatch",
    "pretrainLr",
    "momentum",
    "batchSize",
    "headLr",
    "headEpochs",
    "finetuneLr",
    "finetuneEpochs",
    "supervisedLr",
    "supervisedEpochs",
  ];
  assert.deepEqual(Object.keys(SOURCE_SETTINGS).sort(), [...given].sort());
  const defaults = parseOptions([], PROTOCOL_OPTIONS);
  for (const spec of PROTOCOL_OPTIONS) {
    const key = camelCase(spec.name);
    // --epochs-scale multiplies the source's epochs: it shows as changed epochs (tested above)
    if (given.includes(key) || key === "epochsScale") continue;
    // a value other than the default, of the option's type
    const changed = spec.type === "boolean"
      ? true
      : spec.type === "string"
      ? spec.choices?.find((c) => c !== spec.default) ?? "7,8,9"
      : typeof spec.default === "number"
      ? spec.default + 3
      : 7;
    const diffs = sourceDifferences({ ...defaults, [key]: changed });
    assert.deepEqual(diffs, [], `--${spec.name} ${changed} is not the source's: ${diffs}`);
  }
  const o = parseOptions(["--weight-decay", "0.02", "--head-hidden", "64"], PROTOCOL_OPTIONS);
  const ours = ourChoices(o, { encoder: "sequence", widths: [8, 16], test: 1200, seeds: [0, 1] });
  for (
    const pattern of [
      /--weight-decay 0\.02: AdamW/,
      /--head-hidden 64/,
      /widths 8,16/,
      /1200 held-out/,
    ]
  ) {
    assert.ok(ours.some((c) => pattern.test(c)), `${pattern} in ${ours.join(" | ")}`);
  }
  assert.ok(ours.every((c) => !/\(source: /.test(c)));
  // at the encoder's own widths the list says which
  assert.match(
    ourChoices(o, { encoder: "sequence", widths: null, test: 1, seeds: [0] })[0],
    /own widths 32,64,128,128/,
  );
});

Deno.test("--config tuned changes only what the caller did not give, and lists every change", () => {
  const args = ["--config", "tuned", "--finetune-lr", "1e-4"];
  const o = applyPresets(
    parseOptions(args, PROTOCOL_OPTIONS),
    givenOptions(args, PROTOCOL_OPTIONS),
  );
  for (const [key, setting] of Object.entries(CONFIGS.tuned)) {
    if (key === "finetuneLr") assert.equal(o[key], 1e-4, "the explicit option wins");
    else assert.equal(o[key], setting.value, key);
    assert.ok(setting.why.length > 20, `${key} has a reason`);
  }
  // every tuned change of a source setting shows up as a change
  const diffs = sourceDifferences(o);
  for (const key of Object.keys(CONFIGS.tuned)) {
    if (!(key in SOURCE_SETTINGS)) continue;
    const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    assert.ok(diffs.some((d) => d.startsWith(`--${flag} `)), `${flag} in ${diffs}`);
  }
  // source: the option defaults untouched; machine scale: its sizes unless given
  const src = applyPresets(
    parseOptions(["--scale", "machine", "--test", "300"], PROTOCOL_OPTIONS),
    new Set(["scale", "test"]),
  );
  assert.deepEqual([src.unlabeled, src.labeled, src.test, src.fractions, src.pretrainLr], [
    50000,
    5000,
    300,
    "0.1,0.2,0.5,1",
    3e-4,
  ]);
});

Deno.test("settings given over --config tuned are listed as the run's own, without the configuration's reasons", () => {
  const args = ["--config", "tuned", "--finetune-epochs", "50", "--supervised-epochs", "50"];
  const o = applyPresets(
    parseOptions(args, PROTOCOL_OPTIONS),
    givenOptions(args, PROTOCOL_OPTIONS),
  );
  // --supervised-epochs 50 equals the source's, so sourceDifferences leaves it out: only the
  // overrides say that the run replaced tuned's 5
  assert.ok(!sourceDifferences(o).some((d) => d.startsWith("--supervised-epochs")));
  assert.deepEqual(configOverrides(o), [
    "--finetune-epochs 50 (tuned: 4)",
    "--supervised-epochs 50 (tuned: 5)",
  ]);
  const reasons = configReasons(o);
  assert.ok(!reasons.some((r) => /^(finetune|supervised)-epochs /.test(r)), reasons.join("\n"));
  assert.ok(reasons.some((r) => r.startsWith("pretrain-lr 0.05: ")));
  const plain = applyPresets(
    parseOptions(["--config", "tuned"], PROTOCOL_OPTIONS),
    new Set(["config"]),
  );
  assert.deepEqual(configOverrides(plain), []);
  assert.equal(configReasons(plain).length, Object.keys(CONFIGS.tuned).length);
  const report = reportMarkdown({
    name: "t",
    dataset: "synthetic-text",
    task: "sequence",
    backend: "cpu",
    encoder: "sequence",
    sizes: { unlabeled: 96, labeled: 8, test: 4, labeledSizes: [8] },
    split: "",
    options: o,
    config: "tuned",
    pretraining: [],
    arms: [],
    verdicts: [],
    decidingSize: null,
    umap: null,
    plots: [],
    seconds: 1,
    sourceDifferences: sourceDifferences(o),
    configReasons: reasons,
    configOverrides: configOverrides(o),
  });
  assert.match(
    report,
    /This run's own settings over `--config tuned` .*: --finetune-epochs 50 \(tuned: 4\); --supervised-epochs 50 \(tuned: 5\)\./,
  );
  assert.doesNotMatch(report, /--finetune-epochs 4: the budget/);
});

Deno.test("the report's verdict never claims a win on CER alone", () => {
  const arm = (stage: ArmRecord["stage"], cer: number): ArmRecord => ({
    arm: stage === "supervised" ? "supervised" : `ssl-simclr+${stage}`,
    stage,
    method: stage === "supervised" ? null : "simclr",
    labeled: 8,
    fraction: 0.01,
    epochs: 1,
    lr: 3e-4,
    batchSize: 8,
    accuracy: 0,
    cer,
    testCount: 4,
    losses: [1],
    seconds: 1,
  });
  const arms = [arm("fine-tune", 0.5), arm("supervised", 1)];
  const report = reportMarkdown({
    name: "t",
    dataset: "mnist-lines",
    task: "sequence",
    backend: "cpu",
    encoder: "sequence",
    sizes: { unlabeled: 96, labeled: 8, test: 4, labeledSizes: [8] },
    split: "",
    options: {},
    pretraining: [],
    arms,
    verdicts: verdicts(arms),
    decidingSize: null,
    umap: null,
    plots: [],
    seconds: 1,
  });
  assert.match(report, /no arm learns at 8 labeled/);
  assert.doesNotMatch(report, /beats/);
  // a run without the attribution fields has no settings lines
  assert.doesNotMatch(report, /this run changed/);
});
