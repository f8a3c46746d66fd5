/**
 * Where a native training step spends its time, per tfjs kernel: wraps every kernel registered
 * for `native` with a timer (exclusive time: a kernel that dispatches others through the engine
 * is charged only its own part), runs warm-up steps, then `SELFSUP_PROFILE_STEPS` timed steps and
 * prints each kernel's total ms per step, calls and the mean input size, sorted, with the step's
 * wall time and the part spent outside kernels (tape, augmentation, optimizer bookkeeping).
 *
 *   SELFSUP_THREADS=2 deno run -A bench/native_profile.ts reference   (or resnet18)
 *
 * `SELFSUP_PROFILE_SHAPES=1` splits each kernel's row by input shapes; `SELFSUP_PROFILE_CPU=1`
 * times with process CPU time instead of wall time (for a loaded machine).
 * Compare the per-kernel figures at SELFSUP_THREADS=1 and 2: a kernel whose time does not drop
 * runs on one core.
 *
 * @module
 */
import process from "node:process";
import { tf } from "../backend/tf.ts";
import { useBackend } from "../backend/use_backend.ts";
import { registerNativeBackend } from "../backend/native/mod.ts";
import { freshAllocations, pooledByteCount } from "../backend/native/_buffers.ts";
import { buildReferenceStep } from "./_native_reference_step.ts";
import { buildResnetStep } from "./_native_resnet_step.ts";

const net = Deno.args[0] ?? "reference";
const steps = Number(Deno.env.get("SELFSUP_PROFILE_STEPS") ?? (net === "reference" ? 6 : 2));
const info = await registerNativeBackend();
await useBackend("native", { quiet: true });

interface Row {
  ms: number;
  calls: number;
  elements: number;
}
const rows = new Map<string, Row>();
/**
 * `SELFSUP_PROFILE_CPU=1` charges process CPU time (user + system, `getrusage`) instead of wall
 * time: on a loaded machine a niced run's wall time is mostly waiting, its CPU time is not.
 */
const cpuClock = Deno.env.get("SELFSUP_PROFILE_CPU") === "1";
const clock = cpuClock
  ? () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  : () => performance.now();
const byShape = Deno.env.get("SELFSUP_PROFILE_SHAPES") === "1";
let on = false;
const stack: number[] = []; // child time accumulated per open frame
for (const config of tf.getKernelsForBackend("native")) {
  const inner = config.kernelFunc;
  tf.unregisterKernel(config.kernelName, "native");
  tf.registerKernel({
    ...config,
    kernelFunc: ((args: Parameters<tf.KernelFunc>[0]) => {
      if (!on) return inner(args);
      stack.push(0);
      const t0 = clock();
      const out = inner(args);
      const total = clock() - t0;
      const children = stack.pop()!;
      if (stack.length) stack[stack.length - 1] += total;
      const first = Object.values(args.inputs)[0] as tf.TensorInfo | undefined;
      const key = byShape
        ? `${config.kernelName} ${
          Object.values(args.inputs).filter((t) => t).map((t) => `[${(t as tf.TensorInfo).shape}]`)
            .join("")
        }`
        : config.kernelName;
      const row = rows.get(key) ?? { ms: 0, calls: 0, elements: 0 };
      row.ms += total - children;
      row.calls++;
      row.elements += first ? first.shape.reduce((p, v) => p * v, 1) : 0;
      rows.set(key, row);
      return out;
    }) as tf.KernelFunc,
  });
}

const built = net === "reference" ? buildReferenceStep(64, 1) : buildResnetStep(64);
for (let i = 0; i < 2; i++) built.step();
on = true;
const fresh0 = freshAllocations();
const t0 = clock();
for (let i = 0; i < steps; i++) built.step();
const wall = (clock() - t0) / steps;
const fresh1 = freshAllocations();
const idle = pooledByteCount();
on = false;
built.dispose();
const kernelMs = [...rows.values()].reduce((p, r) => p + r.ms, 0) / steps;
console.log(
  `${net} on native (${info.library}, ${info.threads} thread(s)), ${steps} steps, ${
    cpuClock ? "process CPU time" : "wall time"
  }, load ${Deno.loadavg().map((v) => v.toFixed(2)).join(" ")}`,
);
console.log(
  `step ${wall.toFixed(1)} ms: kernels ${kernelMs.toFixed(1)} ms, outside kernels ${
    (wall - kernelMs).toFixed(1)
  } ms`,
);
console.log(
  `fresh output buffers per step: ${((fresh1.count - fresh0.count) / steps).toFixed(0)} (${
    ((fresh1.bytes - fresh0.bytes) / steps / 2 ** 20).toFixed(0)
  } MiB; pool held ${(idle / 2 ** 20).toFixed(0)} MiB idle)`,
);
const sorted = [...rows.entries()].sort((a, b) => b[1].ms - a[1].ms);
for (const [name, r] of sorted.slice(0, Number(Deno.env.get("SELFSUP_PROFILE_TOP") ?? 30))) {
  console.log(
    `${name.padEnd(byShape ? 60 : 28)} ${(r.ms / steps).toFixed(2).padStart(9)} ms  ${
      (r.calls / steps).toFixed(0).padStart(5)
    } calls  ${(r.elements / r.calls).toFixed(0).padStart(9)} mean elements`,
  );
}
