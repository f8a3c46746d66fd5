/**
 * Memory over a long native run: the reference step (bench/_native_reference_step.ts) for
 * `SELFSUP_RSS_STEPS` steps (default 1000) at batch `SELFSUP_RSS_BATCH` (default 16), printing
 * the process RSS, V8's heap, the native buffer pool and `tf.memory().numTensors` every
 * `SELFSUP_RSS_EVERY` steps, then from the warm part (the last 80%, at least from step 100) to the
 * end: RSS's range and its least-squares trend in MiB per 100 steps (RSS climbs over the first
 * ~200 steps, then saw-tooths with V8's garbage collection).
 *
 *   deno run -A bench/native_rss.ts
 *
 * Issue 16 asks for RSS and tensor count flat over 1,000 native steps.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { useBackend } from "../backend/use_backend.ts";
import { registerNativeBackend } from "../backend/native/mod.ts";
import { pooledByteCount } from "../backend/native/_buffers.ts";
import { buildReferenceStep } from "./_native_reference_step.ts";

const steps = Number(Deno.env.get("SELFSUP_RSS_STEPS") ?? 1000);
const batch = Number(Deno.env.get("SELFSUP_RSS_BATCH") ?? 16);
const every = Number(Deno.env.get("SELFSUP_RSS_EVERY") ?? 100);
const info = await registerNativeBackend();
await useBackend("native", { quiet: true });
const mib = (b: number) => b / 2 ** 20;
const step = buildReferenceStep(batch, 1);
console.log(`reference step, batch ${batch}, ${steps} steps on native (${info.library})`);
console.log("step  rss_MiB  heap_MiB  external_MiB  pool_MiB  tensors");
const at: { step: number; rss: number; tensors: number }[] = [];
for (let i = 1; i <= steps; i++) {
  step.step();
  if (i % every === 0 || i === 1) {
    const m = Deno.memoryUsage();
    const tensors = tf.memory().numTensors;
    at.push({ step: i, rss: mib(m.rss), tensors });
    console.log(
      `${String(i).padStart(4)}  ${mib(m.rss).toFixed(1).padStart(7)}  ${
        mib(m.heapUsed).toFixed(1).padStart(8)
      }  ${mib(m.external).toFixed(1).padStart(12)}  ${
        mib(pooledByteCount()).toFixed(1).padStart(8)
      }  ${String(tensors).padStart(7)}`,
    );
  }
}
step.dispose();
const warmFrom = Math.max(100, Math.floor(steps / 5)); // RSS climbs over the first ~200 steps
const warm = at.filter((a) => a.step >= warmFrom);
const from = warm[0] ?? at[0];
const to = at[at.length - 1];
// V8 frees ArrayBuffers and shrinks its heap in cycles, so RSS saw-tooths: the least-squares slope
// over the warm samples says whether it trends up, the range how far it swings.
const mean = (f: (a: typeof at[0]) => number) => warm.reduce((p, a) => p + f(a), 0) / warm.length;
const ms = mean((a) => a.step);
const mr = mean((a) => a.rss);
const slope = warm.reduce((p, a) => p + (a.step - ms) * (a.rss - mr), 0) /
  (warm.reduce((p, a) => p + (a.step - ms) ** 2, 0) || 1);
const rss = warm.map((a) => a.rss);
console.log(
  `RSS ${from.rss.toFixed(1)} MiB at step ${from.step} -> ${
    to.rss.toFixed(1)
  } MiB at step ${to.step}; ` +
    `from step ${from.step}: min ${Math.min(...rss).toFixed(1)}, max ${
      Math.max(...rss).toFixed(1)
    }, trend ${
      (slope * 100).toFixed(2)
    } MiB per 100 steps; tensors ${from.tensors} -> ${to.tensors}`,
);
