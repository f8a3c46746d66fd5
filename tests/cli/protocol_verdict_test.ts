import assert from "node:assert/strict";
import { type ArmRecord, reportMarkdown } from "../../cli/_protocol_report.ts";
import { decidingSize, meanStd, t95, verdicts } from "../../cli/_protocol_verdict.ts";
import { estimateStages, overallProgress, type StepTimes } from "../../cli/_protocol_probe.ts";
import { writePlots } from "../../cli/_protocol_plots.ts";

/** Arms at one labeled size: SSL fine-tune and supervised accuracies by seed (1000 test lines). */
function arms(
  n: number,
  ssl: number[],
  sup: number[],
  extra: Partial<ArmRecord> = {},
): ArmRecord[] {
  const row = (stage: ArmRecord["stage"], accuracy: number, seed: number): ArmRecord => ({
    arm: stage === "supervised" ? "supervised" : `ssl-simclr+${stage}`,
    seed,
    stage,
    method: stage === "supervised" ? null : "simclr",
    labeled: n,
    fraction: 1,
    epochs: 1,
    lr: 3e-4,
    batchSize: 8,
    accuracy,
    cer: 1 - accuracy,
    testCount: 1000,
    losses: [1],
    seconds: 1,
    ...extra,
  });
  return [
    ...ssl.map((a, s) => row("fine-tune", a, s)),
    ...sup.map((a, s) => row("supervised", a, s)),
  ];
}

Deno.test("meanStd and t95 match hand values", () => {
  const s = meanStd([1, 2, 3, 4]);
  assert.equal(s.mean, 2.5);
  // sample std: sqrt(((1.5^2 + 0.5^2) * 2) / 3)
  assert.ok(Math.abs(s.std - Math.sqrt(5 / 3)) < 1e-12);
  assert.deepEqual(meanStd([7]), { mean: 7, std: 0, n: 1 });
  assert.equal(t95(2), 2.920);
  assert.equal(t95(1000), 1.645);
});

Deno.test("verdict: a real win over three seeds is a win", () => {
  // differences 0.10, 0.12, 0.11: mean 0.11, sd 0.01, noise 2.920 * 0.01 / sqrt(3) = 0.0169
  const [v] = verdicts(arms(500, [0.40, 0.42, 0.41], [0.30, 0.30, 0.30]));
  assert.equal(v.outcome, "ssl-beats-supervised");
  assert.ok(Math.abs(v.margin - 0.11) < 1e-12);
  assert.ok(Math.abs(v.noise - 2.920 * 0.01 / Math.sqrt(3)) < 1e-9, `${v.noise}`);
  assert.match(v.text, /^SSL \(simclr\) beats supervised at 500 labeled: 41\.0% vs 30\.0%/);
  // and the mirror image is a loss
  assert.equal(
    verdicts(arms(500, [0.3, 0.3, 0.3], [0.4, 0.42, 0.41]))[0].outcome,
    "supervised-beats-ssl",
  );
});

Deno.test("verdict: a noisy win is within the noise", () => {
  // differences +0.20, -0.05, +0.10: mean +0.083 but sd 0.126, noise 0.212
  const [v] = verdicts(arms(500, [0.50, 0.25, 0.40], [0.30, 0.30, 0.30]));
  assert.equal(v.outcome, "within-noise");
  assert.ok(v.margin > 0 && v.margin < v.noise, `${v.margin} vs ${v.noise}`);
  assert.match(v.text, /within the noise at 500 labeled/);
});

Deno.test("verdict: ties are within the noise, never a win", () => {
  // identical accuracies: no difference; a one-line difference in every seed is below one line
  assert.equal(verdicts(arms(500, [0.3, 0.3, 0.3], [0.3, 0.3, 0.3]))[0].outcome, "within-noise");
  const [v] = verdicts(arms(500, [0.3005, 0.3005, 0.3005], [0.3, 0.3, 0.3]));
  assert.equal(v.noise, 1 / 1000, "at least one test line");
  assert.equal(v.outcome, "within-noise");
});

Deno.test("verdict: all arms on the blank plateau is 'no arm learns', whatever the CER", () => {
  const at = arms(8, [0, 0, 0], [0, 0, 0]);
  // SSL's CER far lower than the baseline's: still no win at 0% accuracy
  for (const a of at) a.cer = a.stage === "supervised" ? 1.0 : 0.6;
  const [v] = verdicts(at);
  assert.equal(v.outcome, "no-arm-learns");
  assert.match(v.text, /^no arm learns at 8 labeled/);
  // one arm off the plateau (the head recognizes a line) ends the plateau: a tie then
  const head = { ...at[0], arm: "ssl-simclr+head", stage: "head" as const, accuracy: 0.01 };
  assert.equal(verdicts([...at, head])[0].outcome, "within-noise");
});

Deno.test("verdict: one seed makes no claim; sizes and pairing by seed", () => {
  assert.equal(verdicts(arms(500, [0.9], [0.1]))[0].outcome, "one-seed");
  // seeds pair by their number, not their order: seed 2's baseline missing leaves two pairs
  const all = [...arms(500, [0.5, 0.6, 0.7], [0.2, 0.3]), ...arms(1000, [0.8], [0.8])];
  const vs = verdicts(all);
  assert.deepEqual(vs.map((v) => [v.labeled, v.seeds]), [[500, [0, 1]], [1000, [0]]]);
  assert.deepEqual(vs[0].differences.map((d) => Math.round(d * 100)), [30, 30]);
  assert.equal(decidingSize(all), 500);
  assert.equal(decidingSize(arms(500, [0.5], [0.05])), null);
});

const TIMES: StepTimes = {
  pretrain: { simclr: 2, simsiam: 1 },
  head: 0.1,
  whole: 0.3,
  evalPerImage: 0.01,
  cpuShare: 1,
};

Deno.test("the ETA estimate adds every stage of every seed from the step times", () => {
  const stages = estimateStages({
    seeds: [0, 1, 2],
    methods: ["simclr", "simsiam"],
    pretrainSteps: 100,
    labeledSizes: [80, 160],
    batchSize: 8,
    epochs: { head: 2, fineTune: 8, supervised: 10 },
    test: 100,
  }, TIMES);
  // per seed: 2 pretrainings, 2 sizes x (2 methods x 2 arms + baseline) = 12 stages
  assert.equal(stages.length, 3 * 12);
  const perSeed =
    // stage 1: 100 steps x (2 + 1) s
    300 +
    // head: 2 epochs x (10 + 20 steps) x 0.1 s, per method
    2 * (2 * 30 * 0.1) +
    // fine-tune: 8 epochs x 30 steps x 0.3 s, per method
    2 * (8 * 30 * 0.3) +
    // baseline: 10 epochs x 30 steps x 0.3 s
    10 * 30 * 0.3 +
    // scoring 100 test lines after each of the 2 x 5 arms
    10 * 100 * 0.01;
  const total = stages.reduce((a, s) => a + s.seconds, 0);
  assert.ok(Math.abs(total - 3 * perSeed) < 1e-9, `${total} vs ${3 * perSeed}`);
  assert.deepEqual(stages.slice(0, 3).map((s) => s.key), [
    "seed 0 pretrain simclr",
    "seed 0 pretrain simsiam",
    "seed 0 head simclr n=80",
  ]);
});

Deno.test("the overall ETA scales the estimate by how the finished stages ran", () => {
  const p = overallProgress([
    { key: "a", seconds: 100 },
    { key: "b", seconds: 100 },
    { key: "c", seconds: 200 },
  ]);
  assert.equal(p.line(), "overall: 0/3 stages, 0% of the estimated work, ETA 6m40s");
  // stage a ran twice as long as estimated: the 300 s left become 600 s
  p.finish("a", 200, true);
  assert.equal(p.line(), "overall: 1/3 stages, 25% of the estimated work, ETA 10m00s");
  // a stage skipped on resume counts as done but does not calibrate
  p.finish("b", 5, false);
  assert.equal(p.line(), "overall: 2/3 stages, 50% of the estimated work, ETA 6m40s");
});

Deno.test("the report names the deciding size and its verdict", () => {
  // supervised below 10% at 500, at 30% from 1000 on: 1000 decides
  const all = [
    ...arms(500, [0.1, 0.1, 0.1], [0.05, 0.05, 0.05]),
    ...arms(1000, [0.40, 0.42, 0.41], [0.30, 0.30, 0.30]),
  ];
  const report = reportMarkdown({
    name: "t",
    dataset: "synthetic-text",
    task: "sequence",
    backend: "cpu",
    encoder: "sequence",
    sizes: { unlabeled: 10000, labeled: 1000, test: 1000, labeledSizes: [500, 1000] },
    split: "",
    options: {},
    pretraining: [],
    arms: all,
    verdicts: verdicts(all),
    decidingSize: decidingSize(all),
    umap: null,
    plots: [],
    seconds: 1,
  });
  assert.match(
    report,
    /decides the source's question: 1000\. There: SSL \(simclr\) beats supervised at 1000 labeled/,
  );
  assert.match(report, /\| supervised \| 1000 \| 3 \| 30\.0 \+- 0\.0% \| 0\.700 \+- 0\.000 \|/);
});

Deno.test("the report does not call the run's smallest size the smallest where the baseline learns", () => {
  // the baseline is at 30% already at 500, this run's smallest size: whether it reaches 10% with
  // fewer lines is not measured, so 500 decides only among the measured sizes
  const report = (all: ArmRecord[]) =>
    reportMarkdown({
      name: "t",
      dataset: "synthetic-text",
      task: "sequence",
      backend: "cpu",
      encoder: "sequence",
      sizes: {
        unlabeled: 10000,
        labeled: 1000,
        test: 1000,
        labeledSizes: [...new Set(all.map((a) => a.labeled))],
      },
      split: "",
      options: {},
      pretraining: [],
      arms: all,
      verdicts: verdicts(all),
      decidingSize: decidingSize(all),
      umap: null,
      plots: [],
      seconds: 1,
    });
  const first = [
    ...arms(500, [0.40, 0.42, 0.41], [0.30, 0.30, 0.30]),
    ...arms(1000, [0.5, 0.5, 0.5], [0.45, 0.45, 0.45]),
  ];
  assert.match(
    report(first),
    /decides the source's question: 500\. There: [^\n]*\. 500 is the smallest size this run measured: whether the baseline reaches 10% with fewer labeled lines is not measured here\./,
  );
  // below 10% at 250, above at 500: 500 is the smallest such size, no caveat
  const second = [...arms(250, [0.1, 0.1, 0.1], [0.05, 0.05, 0.05]), ...first];
  assert.doesNotMatch(report(second), /smallest size this run measured/);
});

Deno.test("the label-efficiency plots label every measured labeled size", async () => {
  // sizes the log axis's own ticks (1, 2, 5 x 10^k) miss: only 500 was labeled at 250/300/500
  const rows = [250, 300, 500].flatMap((n) => [
    ...arms(n, [0.7, 0.8], [0.2, 0.4]),
    ...arms(n, [0, 0], [0, 0]).filter((a) => a.stage !== "supervised").map((a) => ({
      ...a,
      arm: "ssl-simclr+head",
      stage: "head" as const,
    })),
  ]);
  const dir = await Deno.makeTempDir();
  try {
    await writePlots(dir, { arms: rows, pretraining: [], task: "sequence" });
    for (const file of ["accuracy_vs_labeled.svg", "cer_vs_labeled.svg"]) {
      const svg = await Deno.readTextFile(`${dir}/${file}`);
      // the x tick labels: centred numbers under the frame (the y ticks are right-aligned)
      const ticks = [
        ...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" text-anchor="middle">(\d+)<\/text>/g),
      ]
        .map((m) => ({ x: +m[1], label: +m[2] }));
      assert.deepEqual(ticks.map((t) => t.label), [250, 300, 500], file);
      // each under its points (3 arms a size, drawn left to right)
      const cx = [...new Set([...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => +m[1]))].sort(
        (a, b) => a - b,
      );
      assert.deepEqual(cx, ticks.map((t) => t.x), file);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
