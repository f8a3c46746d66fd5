/**
 * The native backend against PyTorch on whole training steps, alternating in one run: the
 * reference step (bench/_native_reference_step.ts) and a ResNet-18 SimCLR step (CIFAR stem, batch
 * 64, two 32x32 views as one batch of 128, head 512-512-128, NT-Xent tau 0.5, SGD momentum), on
 * `native` and in bench/peers/native_step_twin.py (python3-torch) with the same thread count.
 *
 *   SELFSUP_THREADS=1 deno run -A bench/peers/native_step_peer.ts   (SELFSUP_PYTHON: python with torch)
 *   SELFSUP_THREADS=2 deno run -A bench/peers/native_step_peer.ts
 *
 * Options (environment): `SELFSUP_PEER_ROUNDS` (rounds of the alternation, default 5),
 * `SELFSUP_PEER_NETS` (`reference,resnet18`), `SELFSUP_PEER_PRIMITIVES=both` to also time
 * `native` with its oneDNN primitives off (the sgemm kernels) in the same rounds. Each round runs
 * one native batch of steps then one PyTorch batch (the first round is warm-up and not counted),
 * and the script prints medians and the ratio native / PyTorch, with `uptime`'s load. Also checks
 * that `tf.memory().numTensors` does not grow over the native steps, and prints the process RSS
 * after the first and the last round.
 *
 * The twin runs with glibc's allocator told to keep freed memory (`MALLOC_MMAP_THRESHOLD_`,
 * `MALLOC_TRIM_THRESHOLD_`, `MALLOC_TOP_PAD_`): with glibc's defaults PyTorch maps and unmaps its
 * large activations every step, and first-touch page faults cost it 2-3x its step time on the VMs
 * here (bench/RESULTS.md, "Quiet rerun against PyTorch"), which would flatter `native`, whose
 * buffer pool reuses memory. `SELFSUP_PEER_MALLOC=default` runs the twin with glibc's defaults.
 *
 * @module
 */
import { tf } from "../../backend/tf.ts";
import { useBackend } from "../../backend/use_backend.ts";
import { registerNativeBackend } from "../../backend/native/mod.ts";
import { setDnnlPrimitives } from "../../backend/native/_dnnl.ts";
import { buildReferenceStep } from "../_native_reference_step.ts";
import { buildResnetStep } from "../_native_resnet_step.ts";
import { peerAllocatorEnv, peerMallocMode } from "./_malloc_env.ts";

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

const rounds = Number(env("SELFSUP_PEER_ROUNDS") ?? 5);
const nets = (env("SELFSUP_PEER_NETS") ?? "reference,resnet18").split(",");
const both = env("SELFSUP_PEER_PRIMITIVES") === "both";
const info = await registerNativeBackend();
await useBackend("native", { quiet: true });
const threads = info.threads || 1;

/** A native step for `net`: returns the loss. */
function nativeStep(net: string): { step: () => number; dispose: () => void } {
  return net === "reference" ? buildReferenceStep(64, 1) : buildResnetStep(64);
}

/** The PyTorch twin, when python3 with torch runs here. */
async function startTwin() {
  const script = new URL("./native_step_twin.py", import.meta.url).pathname;
  try {
    const python = env("SELFSUP_PYTHON") ?? "/usr/bin/python3";
    const child = new Deno.Command(python, {
      args: [script],
      env: peerAllocatorEnv(),
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const writer = child.stdin.getWriter();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    const ask = async (req: Record<string, unknown>) => {
      await writer.write(new TextEncoder().encode(JSON.stringify(req) + "\n"));
      while (!buffered.includes("\n")) {
        const { value, done } = await lines.read();
        if (done) throw new Error("native_step_twin.py exited (is python3-torch installed?)");
        buffered += value;
      }
      const at = buffered.indexOf("\n");
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      return JSON.parse(line) as { ms: number[]; loss: number[] };
    };
    await ask({ net: "reference", threads, iterations: 1 });
    return {
      ask,
      async close() {
        await writer.close();
        await child.status;
      },
    };
  } catch (error) {
    console.error(`native_step_peer: no PyTorch twin: ${(error as Error).message}`);
    return undefined;
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const loadavg = () => {
  try {
    return Deno.loadavg().map((v) => v.toFixed(2)).join(" ");
  } catch {
    return "?";
  }
};

const twin = await startTwin();
console.log(
  `native (${info.library}, ${threads} thread(s)) vs PyTorch, ${rounds} rounds after one warm-up; PyTorch malloc ${peerMallocMode()}; load ${loadavg()}`,
);
for (const net of nets) {
  const perStep = net === "reference" ? 3 : 1;
  const native = nativeStep(net);
  const times: Record<string, number[]> = { native: [], sgemm: [], torch: [] };
  const tensorsAt: number[] = [];
  const rssAt: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    for (const arm of both ? ["native", "sgemm", "torch"] : ["native", "torch"]) {
      if (arm === "torch") {
        if (!twin) continue;
        const r = await twin.ask({ net, threads, iterations: perStep });
        if (round > 0) times.torch.push(...r.ms);
        continue;
      }
      setDnnlPrimitives(arm === "native");
      for (let i = 0; i < perStep; i++) {
        const t0 = performance.now();
        native.step();
        if (round > 0) times[arm].push(performance.now() - t0);
      }
      setDnnlPrimitives(true);
      tensorsAt.push(tf.memory().numTensors);
      rssAt.push(Deno.memoryUsage().rss / 2 ** 20);
    }
  }
  native.dispose();
  const n = median(times.native);
  const parts = [`${net}: native ${n.toFixed(0)} ms`];
  if (both) parts.push(`sgemm kernels ${median(times.sgemm).toFixed(0)} ms`);
  if (times.torch.length) {
    const t = median(times.torch);
    parts.push(`PyTorch ${t.toFixed(0)} ms`, `ratio native/PyTorch ${(n / t).toFixed(2)}`);
  }
  const grew = tensorsAt[tensorsAt.length - 1] - tensorsAt[1];
  parts.push(
    `tensors ${tensorsAt[1]} -> ${tensorsAt[tensorsAt.length - 1]}${grew ? " (LEAK)" : ""}`,
  );
  parts.push(`RSS ${rssAt[1].toFixed(0)} -> ${rssAt[rssAt.length - 1].toFixed(0)} MiB`);
  console.log(parts.join(", "));
}
console.log(`load after: ${loadavg()}`);
await twin?.close();
