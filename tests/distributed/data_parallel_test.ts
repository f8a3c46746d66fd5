/**
 * Data-parallel training over MPI, as real processes: `mpirun -np 2` with a per-rank batch of B
 * must give the weights of one process on the global batch 2B (SimCLR with gathered negatives
 * and synchronized BN, MoCo v2 with its gathered queue and shuffle-BN across ranks, SimSiam with
 * synchronized BN); a killed rank ends the job with mpirun's message naming it, and the run
 * resumes from its last checkpoint. Without mpirun the tests skip with a message, under CI=true
 * they fail (tests/_ci.ts).
 */
import assert from "node:assert/strict";
import { MPI_ENV, mpiAvailable, MPIRUN } from "./_mpirun.ts";

const WORKER = new URL("./_worker.ts", import.meta.url).pathname;
const METHODS = [
  "simclr",
  "moco-v2",
  "moco-v3",
  "simsiam",
  "swav",
  "barlow-twins",
  "vicreg",
];
const GLOBAL_BATCH = 8; // B = 4 per rank
const STEPS = 5;
const TOLERANCE = 1e-5; // max abs difference of any weight after 5 steps

interface RunOutput {
  [method: string]: {
    weights: number[][];
    initial: number[][];
    losses: number[];
    startStep: number;
  };
}

function deno(): string {
  return Deno.execPath();
}

/** Two ranks under mpirun's shared flags. */
const MPIRUN_2 = [...MPIRUN, "-np", "2"];

async function run(
  args: string[],
  single: boolean,
): Promise<{ code: number; output: string }> {
  const cmd = single
    ? new Deno.Command(deno(), { args: ["run", "-A", WORKER, "--single", ...args] })
    : new Deno.Command("mpirun", {
      args: [...MPIRUN_2, deno(), "run", "-A", WORKER, ...args],
      env: MPI_ENV,
    });
  const { code, stdout, stderr } = await cmd.output();
  const text = new TextDecoder();
  return { code, output: text.decode(stdout) + text.decode(stderr) };
}

async function runWeights(args: string[], single: boolean): Promise<RunOutput> {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/out.json`;
    const { code, output } = await run([...args, "--out", out], single);
    assert.equal(code, 0, `worker failed (${single ? "single" : "mpirun"}):\n${output}`);
    return JSON.parse(await Deno.readTextFile(out));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  assert.equal(a.length, b.length, "different numbers of variables");
  let worst = 0;
  a.forEach((u, i) => {
    assert.equal(u.length, b[i].length, `variable ${i} differs in size`);
    u.forEach((x, j) => worst = Math.max(worst, Math.abs(x - b[i][j])));
  });
  return worst;
}

/** One process on the global batch, every method: the reference of all three tests (run once). */
let reference: Promise<RunOutput> | null = null;
function singleReference(): Promise<RunOutput> {
  reference ??= runWeights([
    "--method",
    METHODS.join(","),
    "--global-batch",
    String(GLOBAL_BATCH),
    "--steps",
    String(STEPS),
  ], true);
  return reference;
}

Deno.test({
  name: "mpirun -np 2 with batch B equals one process on batch 2B (7 methods)",
  ignore: !mpiAvailable,
  async fn() {
    const common = [
      "--method",
      METHODS.join(","),
      "--global-batch",
      String(GLOBAL_BATCH),
      "--steps",
      String(STEPS),
    ];
    // 4 KB buckets: the gradients go in several all-reduces, packed and unpacked across them
    const [single, parallel] = await Promise.all([
      singleReference(),
      runWeights([...common, "--bucket-bytes", "4096"], false),
    ]);
    for (const method of METHODS) {
      const diff = maxAbsDiff(parallel[method].weights, single[method].weights);
      assert.ok(
        diff <= TOLERANCE,
        `${method}: max abs weight difference ${diff} > ${TOLERANCE} after ${STEPS} steps`,
      );
      // the logged loss is the global batch's on every rank (mean of the ranks' shares); float32
      // relative tolerance, as SwAV's Sinkhorn (exp(score / 0.05)) amplifies last-bit differences
      parallel[method].losses.forEach((l, i) =>
        assert.ok(
          Math.abs(l - single[method].losses[i]) <=
            1e-5 + 1e-4 * Math.abs(single[method].losses[i]),
          `${method} step ${i}: loss ${l} vs ${single[method].losses[i]}`,
        )
      );
      // the weights moved: equality is not two untouched copies of the initial weights
      assert.ok(maxAbsDiff(single[method].weights, single[method].initial) > 100 * TOLERANCE);
    }
  },
});

Deno.test({
  name: "without gathered negatives or synchronized BN the ranks train a different model",
  ignore: !mpiAvailable,
  async fn() {
    const common = ["--global-batch", String(GLOBAL_BATCH), "--steps", String(STEPS)];
    const [single, noGather, noSync] = await Promise.all([
      singleReference(),
      runWeights(["--method", "simclr", "--no-gather", ...common], false),
      runWeights(["--method", "simsiam", "--no-sync-bn", ...common], false),
    ]);
    assert.ok(maxAbsDiff(noGather.simclr.weights, single.simclr.weights) > 10 * TOLERANCE);
    assert.ok(maxAbsDiff(noSync.simsiam.weights, single.simsiam.weights) > 10 * TOLERANCE);
  },
});

Deno.test({
  name: "a killed rank ends the job with mpirun's message; the run resumes from its checkpoint",
  ignore: !mpiAvailable,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const steps = STEPS;
      const common = [
        "--method",
        "simclr",
        "--global-batch",
        String(GLOBAL_BATCH),
        "--steps",
        String(steps),
        "--run-dir",
        `${dir}/run`,
        "--checkpoint-every",
        "2",
      ];
      // slow steps, so the kill lands mid-run
      const job = new Deno.Command("mpirun", {
        args: [
          ...MPIRUN_2,
          deno(),
          "run",
          "-A",
          WORKER,
          ...common,
          "--step-delay-ms",
          "400",
          "--pid-dir",
          dir,
        ],
        stdout: "piped",
        stderr: "piped",
        env: MPI_ENV,
      }).spawn();
      const checkpoint = `${dir}/run/checkpoint`;
      const t0 = Date.now();
      let pid = 0;
      while (Date.now() - t0 < 60_000) {
        await new Promise((r) => setTimeout(r, 100));
        const ready = await Deno.stat(checkpoint).then(() => true, () => false);
        if (!ready) continue;
        pid = Number(await Deno.readTextFile(`${dir}/rank1.pid`));
        break;
      }
      assert.ok(pid > 0, "no checkpoint appeared within 60 s");
      Deno.kill(pid, "SIGKILL");
      const killedAt = Date.now();
      const timer = setTimeout(() => job.kill("SIGKILL"), 60_000);
      const { code, stdout, stderr } = await job.output();
      clearTimeout(timer);
      const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
      assert.notEqual(code, 0, `the job should fail when a rank dies:\n${text}`);
      assert.ok(Date.now() - killedAt < 50_000, "the surviving rank hung after the kill");
      assert.match(text, /process rank 1 .*exited on signal 9/, text);

      const resumed = await runWeights([...common, "--resume"], false);
      const start = resumed.simclr.startStep;
      assert.ok(start >= 2 && start < steps, `resumed at step ${start}, expected 2..${steps - 1}`);
      assert.equal(resumed.simclr.losses.length, steps - start);
      const diff = maxAbsDiff(resumed.simclr.weights, (await singleReference()).simclr.weights);
      assert.ok(diff <= TOLERANCE, `resumed run differs from an uninterrupted one by ${diff}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
