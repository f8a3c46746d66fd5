/**
 * Where a native training step spends its time, per tfjs kernel: wraps every kernel registered
 * for `native` with a timer (exclusive time: a kernel that dispatches others through the engine
 * is charged only its own part), runs warm-up steps, then `SELFSUP_PROFILE_STEPS` timed steps and
 * prints each kernel's total ms per step, calls and the mean input size, sorted, with the step's
 * wall time and the part spent outside kernels (tape, augmentation, optimizer bookkeeping).
 *
 *   SELFSUP_THREADS=2 deno run -A bench/native_profile.ts reference   (or resnet18)
 *
 * `SELFSUP_PROFILE_SHAPES=1` splits each kernel's row by input shapes.
 * Compare the per-kernel figures at SELFSUP_THREADS=1 and 2: a kernel whose time does not drop
 * runs on one core.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { useBackend } from "../backend/use_backend.ts";
import { registerNativeBackend } from "../backend/native/mod.ts";
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
      const t0 = performance.now();
      const out = inner(args);
      const total = performance.now() - t0;
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
const t0 = performance.now();
for (let i = 0; i < steps; i++) built.step();
const wall = (performance.now() - t0) / steps;
on = false;
built.dispose();
const kernelMs = [...rows.values()].reduce((p, r) => p + r.ms, 0) / steps;
console.log(
  `${net} on native (${info.library}, ${info.threads} thread(s)), ${steps} steps, load ${
    Deno.loadavg().map((v) => v.toFixed(2)).join(" ")
  }`,
);
console.log(
  `step ${wall.toFixed(1)} ms: kernels ${kernelMs.toFixed(1)} ms, outside kernels ${
    (wall - kernelMs).toFixed(1)
  } ms`,
);
const sorted = [...rows.entries()].sort((a, b) => b[1].ms - a[1].ms);
for (const [name, r] of sorted.slice(0, Number(Deno.env.get("SELFSUP_PROFILE_TOP") ?? 30))) {
  console.log(
    `${name.padEnd(byShape ? 60 : 28)} ${(r.ms / steps).toFixed(2).padStart(9)} ms  ${
      (r.calls / steps).toFixed(0).padStart(5)
    } calls  ${(r.elements / r.calls).toFixed(0).padStart(9)} mean elements`,
  );
}
