/**
 * NT-Xent, InfoNCE and MoCo's InfoNCE forward + backward (issue 16) on selfsup's backends and in
 * PyTorch (bench/peers/loss_peer.py, a long-lived twin process), alternating in the same run: for
 * each loss and size, every round times each contender in turn, and the ratios are taken within a
 * round, so a machine shared with other work still compares like with like.
 *
 *   deno run -A bench/loss_peer_bench.ts
 *   SELFSUP_THREADS=1 deno run -A bench/loss_peer_bench.ts   # native and PyTorch on one thread
 *
 * Environment: `SELFSUP_THREADS` (native's OpenMP threads and PyTorch's `set_num_threads`;
 * default: one per core), `SELFSUP_BENCH_BACKENDS` (default `native,wasm`), `SELFSUP_BENCH_SIZES`
 * (default `256,1024,4096`), `SELFSUP_BENCH_LOSSES` (default `ntXent,infoNce,mocoInfoNce`),
 * `SELFSUP_BENCH_ROUNDS` (default 3; `native-lse` in the backends is native with InfoNCE and
 * NT-Xent on the log-sum-exp path instead of oneDNN's softmax, for an A/B in one run), `SELFSUP_PYTHON` (default `/usr/bin/python3`, then
 * `python3`; without PyTorch the peer column is left out), `SELFSUP_PEER_MALLOC` (`keep`, the
 * default, or `default`: bench/peers/_malloc_env.ts). d = 128; MoCo uses a queue of K = 4096
 * keys and n queries, with the gradient to the queries only, as in MoCo.
 *
 * Prints, per case, the median milliseconds per forward + backward of each contender and the
 * median over rounds of the per-round ratios `native / torch` and `native / wasm`; then the same
 * for process CPU time (`cpu:` lines; user + system of the whole process, which on a loaded
 * machine tracks the work done where wall time also counts the waits for a core).
 *
 * @module
 */
import process from "node:process";
import { tf } from "../backend/tf.ts";
import { type BackendName, useBackend } from "../backend/use_backend.ts";
import { infoNce, mocoInfoNce, ntXent } from "../losses/mod.ts";
import { peerAllocatorEnv, peerMallocMode } from "./peers/_malloc_env.ts";
import { setInfoNceSoftmax, setNtXentSoftmax } from "../backend/native/_dnnl_softmax.ts";

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

const D = 128;
const K = 4096;
const BACKENDS = (env("SELFSUP_BENCH_BACKENDS") ?? "native,wasm").split(",");
const SIZES = (env("SELFSUP_BENCH_SIZES") ?? "256,1024,4096").split(",").map(Number);
const LOSSES = (env("SELFSUP_BENCH_LOSSES") ?? "ntXent,infoNce,mocoInfoNce").split(",");
const ROUNDS = Number(env("SELFSUP_BENCH_ROUNDS") ?? 3);
const THREADS = Number(env("SELFSUP_THREADS") ?? navigator.hardwareConcurrency ?? 1);

/** Iterations per round: enough to take a median, few enough for n = 4096. */
const iterations = (n: number) => n <= 256 ? 10 : n <= 1024 ? 4 : 2;

const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Milliseconds of each of `count` forward + backward passes of `loss` on `backend`. */
async function timeSelfsup(
  contender: string,
  loss: string,
  n: number,
  count: number,
): Promise<{ ms: number[]; cpuMs: number[]; value: number }> {
  const backend = (contender === "native-lse" ? "native" : contender) as BackendName;
  await useBackend(backend, { quiet: true });
  setInfoNceSoftmax(contender !== "native-lse");
  setNtXentSoftmax(contender !== "native-lse");
  const x1 = tf.randomNormal([n, D], 0, 1, "float32", 1) as tf.Tensor2D;
  const x2 = tf.randomNormal([n, D], 0, 1, "float32", 2) as tf.Tensor2D;
  const queue = tf.randomNormal([K, D], 0, 1, "float32", 3) as tf.Tensor2D;
  const f = loss === "ntXent"
    ? (a: tf.Tensor2D, b: tf.Tensor2D) => ntXent(a, b)
    : loss === "infoNce"
    ? (a: tf.Tensor2D, b: tf.Tensor2D) => infoNce(a, b)
    : (a: tf.Tensor2D) => mocoInfoNce(a, x2, queue);
  const wrt = loss === "mocoInfoNce" ? [x1] : [x1, x2];
  const ms: number[] = [];
  const cpuMs: number[] = [];
  let value = NaN;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const out = tf.valueAndGrads((...xs: tf.Tensor[]) =>
      (f as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Scalar)(
        xs[0] as tf.Tensor2D,
        (xs[1] ?? x2) as tf.Tensor2D,
      )
    )(wrt);
    value = out.value.dataSync()[0];
    for (const g of out.grads) g.dataSync();
    const c = process.cpuUsage(c0);
    cpuMs.push((c.user + c.system) / 1e3);
    ms.push(performance.now() - t0);
    tf.dispose([out.value, ...out.grads]);
  }
  tf.dispose([x1, x2, queue]);
  return { ms, cpuMs, value };
}

/** Reads `stream` line by line (JSR's TextLineStream is out of reach here). */
function lineReader(stream: ReadableStream<Uint8Array>): {
  read(): Promise<{ done: boolean; value: string }>;
} {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  return {
    async read() {
      while (!buffered.includes("\n")) {
        const { done, value } = await reader.read();
        if (done) return { done: true, value: buffered };
        buffered += value;
      }
      const at = buffered.indexOf("\n");
      const value = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      return { done: false, value };
    },
  };
}

/** The PyTorch twin, or `undefined` when no python with torch starts. */
async function startPeer(): Promise<
  | {
    ask(
      request: Record<string, unknown>,
    ): Promise<{ ms: number[]; cpu_ms: number[]; loss: number }>;
    close(): void;
  }
  | undefined
> {
  const candidates = env("SELFSUP_PYTHON") ? [env("SELFSUP_PYTHON")!] : [
    "/usr/bin/python3",
    "python3",
  ];
  const script = new URL("./peers/loss_peer.py", import.meta.url).pathname;
  for (const python of candidates) {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(python, {
        args: [script],
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
        env: { OMP_WAIT_POLICY: "PASSIVE", ...peerAllocatorEnv() },
      }).spawn();
    } catch {
      continue;
    }
    const lines = lineReader(child.stdout);
    const writer = child.stdin.getWriter();
    const first = await lines.read();
    if (first.done || !first.value.includes('"ready"')) {
      await writer.close().catch(() => {});
      await child.status;
      continue;
    }
    console.log(`peer: ${python} ${first.value}`);
    return {
      async ask(request) {
        await writer.write(new TextEncoder().encode(JSON.stringify(request) + "\n"));
        const line = await lines.read();
        if (line.done) throw new Error("Cannot time PyTorch: the peer process ended");
        return JSON.parse(line.value);
      },
      close() {
        writer.close().catch(() => {});
      },
    };
  }
  console.log("peer: no python3 with torch found; PyTorch column left out");
  return undefined;
}

const peer = await startPeer();
console.log(
  `loss_peer_bench: d=${D}, MoCo K=${K}, threads=${THREADS}, rounds=${ROUNDS}, PyTorch malloc ${peerMallocMode()}, ` +
    `load: ${Deno.loadavg().map((v) => v.toFixed(2)).join(" ")}`,
);
const rows: string[] = [];
for (const loss of LOSSES) {
  for (const n of SIZES) {
    const count = iterations(n);
    const perRound: Record<string, number[]> = {};
    const cpuRound: Record<string, number[]> = {};
    const values: Record<string, number> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const backend of BACKENDS) {
        if (round === 0) await timeSelfsup(backend, loss, n, 1); // warm-up: kernels, buffers
        const { ms, cpuMs, value } = await timeSelfsup(backend, loss, n, count);
        (perRound[backend] ??= []).push(median(ms));
        (cpuRound[backend] ??= []).push(median(cpuMs));
        values[backend] = value;
      }
      if (peer) {
        const request = { loss, n, d: D, K, threads: THREADS, iterations: count + (round ? 0 : 1) };
        const { ms, cpu_ms } = await peer.ask(request);
        (perRound.torch ??= []).push(median(round ? ms : ms.slice(1)));
        (cpuRound.torch ??= []).push(median(round ? cpu_ms : cpu_ms.slice(1)));
      }
    }
    const summary = (table: Record<string, number[]>) => {
      const names = Object.keys(table);
      const cells = names.map((name) => `${name} ${median(table[name]).toFixed(1)} ms`);
      const ratio = (a: string, b: string) =>
        table[a] && table[b]
          ? `${a}/${b} ${median(table[a].map((v, i) => v / table[b][i])).toFixed(2)}x`
          : undefined;
      const ratios = [
        ratio("native", "torch"),
        ratio("native", "wasm"),
        ratio("wasm", "torch"),
        ratio("native-lse", "torch"),
        ratio("native", "native-lse"),
      ].filter((r) => r !== undefined);
      return `${cells.join(", ")} | ${ratios.join(", ")}`;
    };
    const line = `${loss} n=${n}: ${summary(perRound)} | loss ` +
      Object.entries(values).map(([k, v]) => `${k} ${v.toFixed(5)}`).join(" ") +
      `\n  cpu: ${summary(cpuRound)}`;
    console.log(line);
    rows.push(line);
  }
}
peer?.close();
console.log(`load after: ${Deno.loadavg().map((v) => v.toFixed(2)).join(" ")}`);
