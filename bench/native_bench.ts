/**
 * The native backend against stock tfjs: matMul and conv GFLOP/s, and the reference training
 * step (issue 8) on native, wasm and cpu.
 *
 * Run: `deno bench -A --unstable-webgpu bench/native_bench.ts`. `SELFSUP_BENCH_CPU=0` skips the
 * cpu reference step (tens of seconds per step); `--filter "/native|wasm/"` skips cpu altogether
 * (its matMul and convs take seconds per call). `SELFSUP_THREADS` sets the BLAS threads. Results go
 * in bench/RESULTS.md.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { type BackendName, useBackend } from "../backend/use_backend.ts";
import { buildReferenceStep } from "./_native_reference_step.ts";

const BACKENDS: BackendName[] = ["native", "wasm", "cpu"];

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/** Backends that load here (native needs a BLAS and --allow-ffi). */
const available: BackendName[] = [];
for (const name of BACKENDS) {
  try {
    await useBackend(name, { quiet: true });
    available.push(name);
  } catch (error) {
    console.error(`native_bench: skipping ${name}: ${(error as Error).message}`);
  }
}

/** Runs `make` on `backend` and times `run` on its result with a read-back. */
function kernelBench(
  group: string,
  backend: BackendName,
  make: () => tf.Tensor[],
  run: (inputs: tf.Tensor[]) => tf.Tensor,
  options: { n?: number; warmup?: number } = {},
) {
  if (!available.includes(backend)) return;
  Deno.bench({
    name: `${group} ${backend}`,
    group,
    baseline: backend === "wasm",
    ...options,
    async fn(b) {
      await useBackend(backend, { quiet: true });
      const inputs = make();
      b.start();
      const y = run(inputs);
      y.dataSync();
      b.end();
      tf.dispose([y, ...inputs]);
    },
  });
}

const rnd = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, "float32", seed);

for (const n of [256, 1024]) {
  for (const backend of BACKENDS) {
    // cpu at n = 1024 takes ~1 s per call: a few samples are enough.
    const slow = backend === "cpu" && n === 1024 ? { n: 3, warmup: 1 } : {};
    kernelBench(
      `matMul n=${n} (${((2 * n ** 3) / 1e9).toFixed(3)} GFLOP)`,
      backend,
      () => [rnd([n, n], 1), rnd([n, n], 2)],
      ([a, b]) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
      slow,
    );
  }
}

// conv3x3 32->32 on a batch of 128 32x32 maps: the reference step's widest layer.
const X = [128, 32, 32, 32];
const W = [3, 3, 32, 32];
const CONV_GFLOP = (2 * 128 * 32 * 32 * 9 * 32 * 32) / 1e9;
for (const backend of BACKENDS) {
  const slow = backend === "cpu" ? { n: 2, warmup: 1 } : {};
  kernelBench(
    `conv2d forward 3x3 32->32 b128 32x32 (${CONV_GFLOP.toFixed(2)} GFLOP)`,
    backend,
    () => [rnd(X, 3), rnd(W, 4)],
    ([x, w]) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same"),
    slow,
  );
  kernelBench(
    `conv2d backprop input 3x3 32->32 b128 32x32 (${CONV_GFLOP.toFixed(2)} GFLOP)`,
    backend,
    () => [rnd(X, 5), rnd(W, 6)],
    ([dy, w]) =>
      tf.conv2dTranspose(
        dy as tf.Tensor4D,
        w as tf.Tensor4D,
        X as [number, number, number, number],
        1,
        "same",
      ),
    slow,
  );
  // wasm gains Conv2DBackpropFilter from backend/kernels; without it this case is skipped.
  if (backend === "wasm" && available.includes("wasm")) {
    await useBackend("wasm", { quiet: true });
    if (!tf.getKernel("Conv2DBackpropFilter", "wasm")) continue;
  }
  kernelBench(
    `conv2d backprop filter 3x3 32->32 b128 32x32 (${CONV_GFLOP.toFixed(2)} GFLOP)`,
    backend,
    () => [rnd(X, 7), rnd(X, 8)],
    ([x, dy]) =>
      tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
        strides: 1,
        pad: "same",
        dataFormat: "NHWC",
        filterShape: W,
      }) as tf.Tensor,
    slow,
  );
}

for (const backend of BACKENDS) {
  if (!available.includes(backend)) continue;
  if (backend === "cpu" && env("SELFSUP_BENCH_CPU") === "0") continue;
  Deno.bench({
    name: `reference step ${backend}`,
    group: "reference step (batch 64, two views, SGD)",
    baseline: backend === "wasm",
    n: backend === "cpu" ? 1 : 5,
    warmup: backend === "cpu" ? 0 : 1,
    async fn(b) {
      await useBackend(backend, { quiet: true });
      const step = buildReferenceStep(64, 1);
      step.step(); // first step: kernel setup, scratch buffers
      b.start();
      step.step(); // reads the loss back, so the step is complete
      b.end();
      step.dispose();
    },
  });
}
