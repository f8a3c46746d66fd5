/**
 * The native backend's `Softmax`, `Exp`, `Log`, `Max`, `Min`, `Sum` and `Mean` on oneDNN
 * primitives against the kernels they replace (the JavaScript ones it registered before), same
 * process, alternating: the measurement behind each kernel's registration and size threshold in
 * `backend/native/_dnnl_softmax.ts`.
 *
 *   deno run -A bench/native_softmax_bench.ts
 *   SELFSUP_THREADS=1 deno run -A bench/native_softmax_bench.ts
 *   SELFSUP_BENCH_SHAPES=256x256,512x512 SELFSUP_BENCH_OPS=Exp,Sum deno run -A bench/native_softmax_bench.ts
 *
 * Prints, per op and size, the median milliseconds of each and the median per-round ratio
 * `oneDNN / before` (below 1: oneDNN is faster).
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { registerNativeBackend } from "../backend/native/mod.ts";
import { registerDnnlSoftmaxKernels } from "../backend/native/_dnnl_softmax.ts";

const NAMES = ["Softmax", "Exp", "Log", "Max", "Min", "Sum", "Mean"];
await registerNativeBackend();
await tf.setBackend("native");
// The kernels registered now (oneDNN's where registerNativeBackend put them), then the ones they
// replaced: the native JavaScript kernel where there is one, else the cpu backend's.
const dnnl = Object.fromEntries(NAMES.map((n) => [n, tf.getKernel(n, "native")!.kernelFunc]));
const before: Record<string, tf.KernelFunc> = {};
for (const name of NAMES) {
  const cpu = tf.getKernel(name, "cpu")!.kernelFunc;
  before[name] = cpu;
}
// The native JavaScript Exp, Sum and Mean (registered by registerNativeBackend before oneDNN's).
const own = await import("../backend/native/_elementwise.ts");
const { UNARY_OPS, makeUnary, makeReduce } = own;
before.Exp = makeUnary(UNARY_OPS.Exp, before.Exp as never) as unknown as tf.KernelFunc;
before.Sum = makeReduce(false, before.Sum as never) as unknown as tf.KernelFunc;
before.Mean = makeReduce(true, before.Mean as never) as unknown as tf.KernelFunc;
const fresh = registerDnnlSoftmaxKernels(
  "native",
  Object.fromEntries(NAMES.map((n) => [n, before[n] as never])),
  Object.fromEntries(NAMES.map((n) => [n, 0])),
);
for (const name of fresh) {
  if (NAMES.includes(name)) dnnl[name] = tf.getKernel(name, "native")!.kernelFunc;
}

function use(name: string, kernelFunc: tf.KernelFunc): void {
  tf.unregisterKernel(name, "native");
  tf.registerKernel({ kernelName: name, backendName: "native", kernelFunc });
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const CASES: [string, number[], (x: tf.Tensor) => tf.Tensor][] = [];
const SHAPES =
  (Deno.env.get("SELFSUP_BENCH_SHAPES") ?? "32x32,128x128,256x256,512x512,256x3000,2048x2048")
    .split(",").map((s) => s.split("x").map(Number));
const ONLY = Deno.env.get("SELFSUP_BENCH_OPS")?.split(",");
for (const shape of SHAPES) {
  CASES.push(["Softmax", shape, (x) => tf.softmax(x)]);
  CASES.push(["Exp", shape, (x) => tf.exp(x)]);
  CASES.push(["Log", shape, (x) => tf.log(x)]);
  CASES.push(["Max", shape, (x) => tf.max(x, 1)]);
  CASES.push(["Max", shape, (x) => tf.max(x, 0)]);
  CASES.push(["Min", shape, (x) => tf.min(x, 1)]);
  CASES.push(["Sum", shape, (x) => tf.sum(x, 1)]);
  CASES.push(["Sum", shape, (x) => tf.sum(x, 0)]);
  CASES.push(["Mean", shape, (x) => tf.mean(x, 1)]);
}
console.log(
  `native_softmax_bench: load ${Deno.loadavg().map((v) => v.toFixed(2)).join(" ")}`,
);
for (const [name, shape, f] of CASES.filter(([name]) => !ONLY || ONLY.includes(name))) {
  const x = name === "Log"
    ? tf.randomUniform(shape, 0.1, 2, "float32", 1)
    : tf.randomNormal(shape, 0, 1, "float32", 1);
  const size = shape.reduce((p, v) => p * v, 1);
  const reps = Math.max(1, Math.min(200, Math.round(2e6 / size)));
  const times: Record<string, number[]> = { before: [], dnnl: [] };
  for (let round = 0; round < 5; round++) {
    for (const [which, kernel] of [["before", before[name]], ["dnnl", dnnl[name]]] as const) {
      use(name, kernel);
      tf.tidy(() => f(x)).dispose(); // warm: primitive creation, buffers
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) {
        const y = f(x);
        y.dataSync();
        y.dispose();
      }
      times[which].push((performance.now() - t0) / reps);
    }
  }
  const ratio = median(times.dnnl.map((v, i) => v / times.before[i]));
  console.log(
    `${f.toString().replace(/\s+/g, " ").slice(6)} [${shape}]: before ${
      median(times.before).toFixed(3)
    } ms, oneDNN ${median(times.dnnl).toFixed(3)} ms, oneDNN/before ${ratio.toFixed(2)}x`,
  );
  x.dispose();
}
for (const name of NAMES) use(name, dnnl[name]);
