import assert from "node:assert/strict";
import {
  PROTOCOL_OPTIONS,
  protocolMain,
  type ProtocolResults,
  sourceDifferences,
} from "../../cli/protocol.ts";
import { parseOptions } from "../../cli/_args.ts";
import { type ArmRecord, compareAtSmallest, reportMarkdown } from "../../cli/_protocol_report.ts";

async function capture(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await protocolMain(args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** A protocol small enough for a test: 32 unlabeled lines, 16 labeled, 16 test, 1 epoch each. */
const TINY = [
  "--dataset",
  "mnist-lines",
  "--unlabeled",
  "32",
  "--pretrain-batch",
  "16",
  "--labeled",
  "16",
  "--test",
  "16",
  "--fractions",
  "0.5,1",
  "--pretrain-epochs",
  "1",
  "--head-epochs",
  "1",
  "--finetune-epochs",
  "1",
  "--supervised-epochs",
  "1",
  "--widths",
  "4,8",
  "--head-hidden",
  "8",
  "--umap-points",
  "12",
  "--checkpoint-every",
  "1",
];

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
    // the comparison is computed from the rows, at the smallest size
    assert.equal(r.comparison.length, 2);
    for (const c of r.comparison) {
      const ft = r.arms.find((a) => a.arm === `ssl-${c.method}+fine-tune` && a.labeled === 8)!;
      const sup = r.arms.find((a) => a.arm === "supervised" && a.labeled === 8)!;
      assert.equal(c.labeled, 8);
      assert.equal(c.accuracyMargin, ft.accuracy - sup.accuracy);
      assert.equal(c.cerMargin, sup.cer! - ft.cer!);
    }
    const report = await Deno.readTextFile(`${dir}/report.md`);
    for (const a of r.arms) {
      assert.match(
        report,
        new RegExp(`\\| ${a.arm.replace("+", "\\+")} \\| ${a.labeled} \\| 1 \\|`),
      );
    }
    for (const plot of [...r.plots, ...r.umap!.plots]) {
      const svg = await Deno.readTextFile(`${dir}/plots/${plot}`);
      assert.ok(svg.startsWith("<svg"), plot);
      assert.match(report, new RegExp(`plots/${plot}`));
    }
    assert.ok(r.plots.includes("cer_vs_labeled.svg"));
    // one pretraining loss plot per method, each with its own y axis
    for (const p of r.pretraining) {
      const svg = await Deno.readTextFile(`${dir}/plots/loss_pretrain_${p.method}.svg`);
      assert.match(svg, new RegExp(`${p.method} pretraining loss \\(batch 16, lr 0.0003\\)`));
      assert.match(svg, new RegExp(`${p.method} \\(per step\\)`));
    }
    assert.ok(!r.plots.includes("loss_pretrain.svg"));
    // the settings that differ from the source's, in results.json and in the report
    assert.deepEqual(r.sourceDifferences, sourceDifferences(parseOptions(TINY, PROTOCOL_OPTIONS)));
    assert.match(
      report,
      /differ from the source's defaults: --fractions 0\.5,1 \(source: 0\.01,0\.1,1\); --pretrain-epochs 1 \(source: 10\)/,
    );
    assert.match(report, /\| simclr \| 2 \| 1 \| 16 \| 0\.0003 \| \d+\.\d{4} \| \d+\.\d{4} \|/);
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

Deno.test("sourceDifferences lists exactly the training settings that differ from the source's", () => {
  const parse = (args: string[]) => parseOptions(args, PROTOCOL_OPTIONS);
  // the source's defaults, and options that are no training setting (sizes, seed, output)
  assert.deepEqual(sourceDifferences(parse([])), []);
  assert.deepEqual(
    sourceDifferences(
      parse(["--unlabeled", "9600", "--labeled", "300", "--seed", "4", "--backend", "wasm"]),
    ),
    [],
  );
  // passing a default explicitly is no difference
  assert.deepEqual(sourceDifferences(parse(["--finetune-lr", "0.00003"])), []);
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
      "--widths 8,16,32 (source: the encoder's own (sequence: 32,64,128,128))",
    ],
  );
});

Deno.test("the report states a CER tie as equal and a difference with its sign", () => {
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
  const report = (ft: number, sup: number) => {
    const arms = [arm("fine-tune", ft), arm("supervised", sup)];
    return reportMarkdown({
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
      comparison: compareAtSmallest(arms),
      umap: null,
      plots: [],
      seconds: 1,
    });
  };
  assert.match(report(1, 1), /CER 1\.000 vs 1\.000 \(equal\): SSL does not beat the baseline/);
  assert.match(report(0.9, 1), /CER 0\.900 vs 1\.000 \(SSL lower by 0\.100\): SSL beats/);
  assert.match(report(1.2, 1), /CER 1\.200 vs 1\.000 \(SSL higher by 0\.200\): SSL does not/);
  // a few thousandths of CER on tied accuracy is noise, not a win
  assert.match(
    report(0.996, 1),
    /SSL lower by 0\.004\) \(a CER margin under 0\.05 .*\): SSL does not beat/,
  );
  // a run written before sourceDifferences existed has no settings line
  assert.doesNotMatch(report(1, 1), /Training settings/);
});
