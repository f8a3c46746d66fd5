import assert from "node:assert/strict";
import { PRETRAIN_OPTIONS, pretrainMain } from "../../cli/pretrain.ts";
import { parseOptions } from "../../cli/_args.ts";
import { mnist } from "../../data/mod.ts";
import { knnTop1Reference } from "../train/_knn_reference.ts";
import { captureMain } from "./_helpers.ts";

const capture = (args: string[]) => captureMain(pretrainMain, args);

Deno.test("pretrain rejects unknown options with a clear message and exit code 2", async () => {
  const r = await capture(["--epocs", "3"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /Unknown option --epocs \(did you mean --epochs\?\); run with --help/);
  const p = await capture(["mnist"]);
  assert.equal(p.code, 2);
  assert.match(p.err, /Unexpected argument "mnist"/);
});

Deno.test("pretrain rejects bad values saying what was expected and received", async () => {
  const cases: [string[], RegExp][] = [
    [["--method", "dino"], /--method must be one of simclr.*, received "dino"/],
    [["--batch-size", "1"], /--batch-size must be >= 2, received 1/],
    [["--lr", "0"], /--lr must be > 0, received 0/],
    [["--steps", "2.5"], /--steps must be an integer, received 2.5/],
    [["--epochs", "x"], /--epochs must be a number, received "x"/],
    [["--optimizer", "rmsprop"], /--optimizer must be one of sgd, adamw, lars, received "rmsprop"/],
    [["--resume"], /--resume needs --run-name/],
    [["--lr", "-1"], /--lr needs a value/],
  ];
  for (const [args, pattern] of cases) {
    const r = await capture(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.err, pattern);
  }
});

Deno.test("--help lists every option with its default", async () => {
  const r = await capture(["--help"]);
  assert.equal(r.code, 0);
  for (const spec of PRETRAIN_OPTIONS) assert.match(r.out, new RegExp(`--${spec.name}\\b`));
  assert.match(r.out, /--batch-size <n>\s+images per step \(default: 64\)/);
  assert.match(r.out, /--help/);
  // the parser accepts every listed option
  const parsed = parseOptions(
    ["--method", "simsiam", "--batch-size", "32", "--nesterov"],
    PRETRAIN_OPTIONS,
  );
  assert.equal(parsed.method, "simsiam");
  assert.equal(parsed.batchSize, 32);
  assert.equal(parsed.nesterov, true);
  assert.equal(parsed.steps, undefined);
});

Deno.test("pretrain end to end: writes config, metrics, checkpoint and results; --resume continues", async () => {
  const out = await Deno.makeTempDir();
  const args = [
    "--dataset",
    "mnist",
    "--train-size",
    "64",
    "--batch-size",
    "16",
    "--widths",
    "4,8",
    "--projection-dim",
    "8",
    "--knn-bank",
    "40",
    "--knn-queries",
    "20",
    "--knn-k",
    "5",
    "--backend",
    "cpu",
    "--out",
    out,
    "--run-name",
    "tiny",
    "--checkpoint-every",
    "2",
    "--quiet",
  ];
  const r = await capture([...args, "--steps", "3"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`run written to ${out}/tiny`));
  assert.match(
    r.out,
    /kNN top-1 \(k=5\) on 20 held-out MNIST test images: [\d.]+% vs [\d.]+% for the random-init encoder and [\d.]+% for raw pixels/,
  );
  const results = JSON.parse(await Deno.readTextFile(`${out}/tiny/results.json`));
  assert.equal(results.steps, 3);
  assert.equal(typeof results.knnTop1, "number");
  assert.equal(typeof results.knnTop1RandomInit, "number");
  // the raw-pixel baseline on the same bank (first 40 train) and queries (first 20 test), k 5
  const [mnistTrain, mnistTest] = await Promise.all([mnist("train"), mnist("test")]);
  const pixels = (ds: typeof mnistTrain, n: number) =>
    Array.from({ length: n }, (_, i) => ds.images.subarray(i * 784, (i + 1) * 784));
  assert.equal(
    results.knnTop1RawPixels,
    knnTop1Reference(
      pixels(mnistTrain, 40),
      mnistTrain.labels.slice(0, 40),
      pixels(mnistTest, 20),
      mnistTest.labels.slice(0, 20),
      5,
      0.1,
    ),
  );
  const config = JSON.parse(await Deno.readTextFile(`${out}/tiny/config.json`));
  assert.equal(config.options.batchSize, 16);
  // simclr's tuned recipe (the default run): tau 0.2 and the plain head (bench/RESULTS.md)
  assert.deepEqual(config.resolved.simclr, { temperature: 0.2, headBatchNorm: false });
  const lines = (await Deno.readTextFile(`${out}/tiny/metrics.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.equal(lines.filter((l) => l.kind === "step").length, 3);
  assert.ok((await Deno.stat(`${out}/tiny/checkpoint/checkpoint.json`)).isFile);
  // the same run name again without --resume is refused
  const again = await capture([...args, "--steps", "3"]);
  assert.equal(again.code, 2);
  assert.match(again.err, /already holds a run: pass --resume/);
  await Deno.remove(out, { recursive: true });
});

Deno.test("--recipe solo-cifar: moco-v3 trains with LARS trust 0.02 clipped at lr, printed, and train() gets it", async () => {
  const out = await Deno.makeTempDir();
  const run = async (name: string, extra: string[]) => {
    const r = await capture([
      ...["--method", "moco-v3", "--dataset", "mnist", "--train-size", "32", "--batch-size", "16"],
      ...["--widths", "4,8", "--steps", "2", "--knn-bank", "0", "--backend", "cpu"],
      ...["--out", out, "--run-name", name, ...extra],
    ]);
    assert.equal(r.code, 0, r.err);
    const metrics = (await Deno.readTextFile(`${out}/${name}/metrics.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l)).filter((l) => l.kind === "step");
    return { err: r.err, losses: metrics.map((l) => l.loss as number) };
  };
  const solo = await run("solo", ["--recipe", "solo-cifar"]);
  assert.match(
    solo.err,
    /recipe solo-cifar \(solo-learn.*mocov3\.yaml\)\): lars lr 0\.01875 \(0\.3 x 16\/256\), momentum 0\.9, trust 0\.02 clipped at lr/,
  );
  const config = JSON.parse(await Deno.readTextFile(`${out}/solo/config.json`));
  assert.deepEqual(
    [
      config.resolved.recipe.recipe,
      config.resolved.recipe.larsEta,
      config.resolved.recipe.larsClip,
    ],
    ["solo-cifar", 0.02, true],
  );
  // the paper recipe at the same lr, wd, warm-up (0 of 2 steps) and EMA differs only in LARS's
  // trust: the same first loss, another after one update
  const paper = await run("paper", ["--recipe", "paper", "--lr", "0.01875"]);
  assert.equal(solo.losses[0], paper.losses[0]);
  assert.notEqual(solo.losses[1], paper.losses[1]);
  await Deno.remove(out, { recursive: true });
});

function spawnPretrain(args: string[]): Deno.ChildProcess {
  // the flags of `deno task pretrain`
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-webgpu",
      new URL("../../cli/pretrain.ts", import.meta.url).pathname,
      ...args,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

Deno.test("a pretrain process killed mid-run and resumed repeats the losses the uninterrupted process logged", async () => {
  const out = await Deno.makeTempDir();
  const args = [
    "--dataset",
    "mnist",
    "--train-size",
    "96",
    "--batch-size",
    "16",
    "--widths",
    "4",
    "--projection-dim",
    "8",
    "--knn-bank",
    "0",
    "--backend",
    "cpu",
    "--out",
    out,
    "--checkpoint-every",
    "3",
    "--steps",
    "9",
    "--quiet",
    "--seed",
    "3",
    "--run-name",
    "killed",
  ];
  const child = spawnPretrain(args);
  const dir = `${out}/killed`;
  const stepRecords = async () => {
    try {
      return (await Deno.readTextFile(`${dir}/metrics.jsonl`)).split("\n").filter((l) => l.trim())
        .map((l) => JSON.parse(l)).filter((r) => r.kind === "step");
    } catch {
      return [];
    }
  };
  // kill it once the checkpoint of step 3 exists and steps 3 and 4 ran after it
  let logged: { step: number; loss: number }[] = [];
  for (let i = 0; i < 4800; i++) {
    await new Promise((r) => setTimeout(r, 25));
    logged = await stepRecords();
    if (logged.length >= 5) {
      child.kill("SIGKILL");
      break;
    }
  }
  const status = await child.output();
  assert.notEqual(status.code, 0, "the process was killed before it finished");
  logged = await stepRecords(); // read again: the kill may have raced one more step
  const saved =
    JSON.parse(await Deno.readTextFile(`${dir}/checkpoint/checkpoint.json`)).spec.$object.step;
  assert.ok(saved === 3 || saved === 6, `checkpoint at step ${saved}`);
  const afterCheckpoint = logged.filter((r) => r.step >= saved);
  assert.ok(
    saved === 6 || afterCheckpoint.length >= 2,
    `${afterCheckpoint.length} steps after the checkpoint`,
  );
  await assert.rejects(() => Deno.stat(`${dir}/results.json`), Deno.errors.NotFound);
  const resumed = await spawnPretrain([
    "--run-name",
    "killed",
    "--out",
    out,
    "--resume", // no --backend: the run's saved backend (cpu) is reused
    "--quiet",
  ]).output();
  assert.equal(resumed.code, 0, new TextDecoder().decode(resumed.stderr));
  const final = await stepRecords();
  assert.deepEqual(final.map((r) => r.step), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  // steps before the checkpoint are kept as logged; steps after it are recomputed identically
  for (const r of logged) assert.equal(final[r.step].loss, r.loss, `step ${r.step}`);
  assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/results.json`)).steps, 9);
  await Deno.remove(out, { recursive: true });
});
