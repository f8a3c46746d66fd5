/**
 * Where a protocol process's memory goes (issue 12: ~2.7 GB resident on 960 unlabeled lines).
 *
 * `protocol <options of deno task protocol>`: runs the protocol in this process and prints, at
 * every line the protocol says (the start and end of each stage), the process RSS, V8's heap
 * and external bytes, the live tensors (`tf.memory()`), and the native buffer pool: bytes of
 * pooled buffers live now and at most, bytes idle in the pool, and all it ever allocated; at
 * the end, the largest RSS seen in each stage. With `--v8-flags=--expose-gc`, V8 collects before
 * every line, so the figures are what the process retains, not garbage awaiting collection.
 *
 * `release [method] [steps]`: a few pretraining steps of batch 96 on synthetic text lines (the
 * sequence encoder, 192 two-view images of 32 x 128), then the same figures after V8's garbage
 * collection, after dropping the pool's idle buffers, and after both: what dropping the pool
 * between stages would give back. Needs `--v8-flags=--expose-gc`.
 *
 * ```
 * deno run -A bench/protocol_memory.ts protocol --dataset synthetic-text --config source \
 *   --unlabeled 192 --labeled 16 --fractions 1 --test 16 --pretrain-epochs 1 --head-epochs 1 \
 *   --finetune-epochs 1 --supervised-epochs 1 --seeds 0 --run-name mem --out runs/mem \
 *   --backend native
 * deno run -A --v8-flags=--expose-gc bench/protocol_memory.ts release simclr 3
 * ```
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { useBackend } from "../backend/use_backend.ts";
import {
  freshAllocations,
  liveByteCount,
  pooledByteCount,
  releaseBuffers,
} from "../backend/native/_buffers.ts";
import { protocolMain } from "../cli/protocol.ts";
import { createMethod } from "../methods/mod.ts";
import { sequenceEncoder } from "../models/mod.ts";
import { textAugment } from "../augment/mod.ts";
import { Loader, syntheticTextLines } from "../data/mod.ts";
import { train } from "../train/mod.ts";

const mib = (b: number) => (b / 2 ** 20).toFixed(0);
const rss = () =>
  Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]) * 1024;

/** One line of figures, in MiB, and the live tensors' count. */
function figures(): string {
  const m = Deno.memoryUsage();
  const pool = liveByteCount();
  return [rss(), m.heapUsed, m.external, tf.memory().numBytes, pool.live, pool.peak]
    .concat([pooledByteCount(), freshAllocations().bytes])
    .map((b) => mib(b).padStart(6)).join(" ") + String(tf.memory().numTensors).padStart(8);
}
const HEADER = "   rss   heap extern tfLive poolLv poolPk poolId  fresh tensors";

const [mode, ...rest] = Deno.args;
if (mode === "protocol") {
  const t0 = performance.now();
  const peaks = new Map<string, number>();
  let stage = "start";
  // with --v8-flags=--expose-gc, V8 collects before every line: what is left is retained
  const gc = (globalThis as { gc?: () => void }).gc;
  console.log(`     s ${HEADER}  protocol line${gc ? " (after V8's gc)" : ""}`);
  const sample = (line: string) => {
    gc?.();
    peaks.set(stage, Math.max(peaks.get(stage) ?? 0, rss()));
    const s = ((performance.now() - t0) / 1000).toFixed(0).padStart(6);
    console.log(`${s} ${figures()}  ${line.slice(0, 80)}`);
  };
  // the protocol reports on stderr; each of its lines marks where the run is
  const error = console.error;
  console.error = (...args: unknown[]) => {
    const line = args.map(String).join(" ");
    if (line.startsWith("[protocol]") && !line.includes("overall")) {
      sample(`(end of) ${stage}`);
      stage = line.slice("[protocol] ".length);
      sample(stage);
    }
    error(...args);
  };
  const code = await protocolMain(rest);
  sample("exit");
  console.log("largest RSS in each stage (MiB):");
  for (const [s, v] of peaks) console.log(`${mib(v).padStart(6)}  ${s.slice(0, 90)}`);
  Deno.exit(code);
} else if (mode === "release") {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --v8-flags=--expose-gc");
  const settle = async () => {
    gc();
    await new Promise((r) => setTimeout(r, 500));
  };
  await useBackend("native", { quiet: true });
  const method = rest[0] ?? "simclr";
  const steps = Number(rest[1] ?? 3);
  const ds = syntheticTextLines({ length: 192, seed: 0 });
  console.log(`${"".padEnd(26)}${HEADER}`);
  const row = (tag: string) => console.log(`${tag.padEnd(26)}${figures()}`);
  row("start");
  const encoder = sequenceEncoder({ inputShape: ds.shape });
  const setup = createMethod(method as "simclr", {
    encoder,
    inputShape: ds.shape,
    seed: 0,
    augment: textAugment(),
  });
  let step = 0;
  await train(
    setup as unknown as Parameters<typeof train>[0],
    () => new Loader(ds, { batchSize: 96, seed: 0, epochs: Infinity }),
    {
      steps,
      optimizer: "sgd",
      lr: 3e-4,
      momentum: 0.8,
      schedule: "constant",
      weightDecay: 0,
      seed: 0,
      progress: false,
      onStep: () => row(`${method} step ${++step} of 96`),
    },
  );
  await settle();
  row("after gc");
  releaseBuffers();
  // V8 frees array buffers' memory on a background sweep: RSS over a few seconds
  for (const wait of [0.5, 2, 5]) {
    await settle();
    await new Promise((r) => setTimeout(r, 1000 * wait));
    row(`pool dropped, gc, ${wait} s`);
  }
} else {
  console.error("usage: protocol <protocol options> | release [method] [steps]");
  Deno.exit(2);
}
