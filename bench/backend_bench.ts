/**
 * Backend kernels at the shapes of a small ResNet on 32x32 images, batch 64: conv2d forward and
 * both backprops (3x3, 32->32 stride 1 and 32->64 stride 2), batch-norm forward+backward and
 * MatMul, on wasm (stock vs selfsup's kernels), cpu (stock vs selfsup's; smaller batch, the stock
 * weight gradient takes seconds) and webgpu.
 *
 * Run: `XDG_RUNTIME_DIR=/tmp deno bench -A --unstable-webgpu bench/backend_bench.ts`
 *
 * @module
 */
// The stock kernels register on import; capture them before useBackend replaces them.
import "@tensorflow/tfjs-backend-wasm";
import { tf, useBackend } from "../backend/mod.ts";
import type { BackendName } from "../backend/use_backend.ts";

const stock = {
  wasmInput: tf.getKernel("Conv2DBackpropInput", "wasm"),
  cpuFilter: tf.getKernel("Conv2DBackpropFilter", "cpu"),
  cpuInput: tf.getKernel("Conv2DBackpropInput", "cpu"),
};

const hasGpu = "gpu" in navigator;

interface Conv {
  n: number;
  h: number;
  ci: number;
  co: number;
  stride: number;
}

const S1: Conv = { n: 64, h: 32, ci: 32, co: 32, stride: 1 };
const S2: Conv = { n: 64, h: 32, ci: 32, co: 64, stride: 2 };

function convTensors(c: Conv) {
  const ho = Math.ceil(c.h / c.stride);
  return {
    x: tf.randomNormal<tf.Rank.R4>([c.n, c.h, c.h, c.ci], 0, 1, "float32", 1),
    filter: tf.randomNormal<tf.Rank.R4>([3, 3, c.ci, c.co], 0, 1, "float32", 2),
    dy: tf.randomNormal<tf.Rank.R4>([c.n, ho, ho, c.co], 0, 1, "float32", 3),
  };
}

const label = (c: Conv) => `${c.n}x${c.h}x${c.h}x${c.ci} 3x3 ${c.ci}->${c.co} s${c.stride}`;

async function readBack(t: tf.Tensor): Promise<void> {
  if (tf.getBackend() === "webgpu") await t.data(); // no synchronous read-back under Deno
  else t.dataSync();
}

type Op = "Conv2D" | "Conv2DBackpropFilter" | "Conv2DBackpropInput";

function convKernelCall(
  op: Op,
  c: Conv,
  t: ReturnType<typeof convTensors>,
): { inputs: tf.NamedTensorMap; attrs: tf.NamedAttrMap } {
  const attrs = { strides: c.stride, pad: "same", dataFormat: "NHWC", dilations: 1 };
  if (op === "Conv2D") return { inputs: { x: t.x, filter: t.filter }, attrs };
  if (op === "Conv2DBackpropFilter") {
    return { inputs: { x: t.x, dy: t.dy }, attrs: { ...attrs, filterShape: t.filter.shape } };
  }
  return { inputs: { dy: t.dy, filter: t.filter }, attrs: { ...attrs, inputShape: t.x.shape } };
}

/** A bench of one conv kernel: the registered one, or a captured stock kernel func. */
function convBench(
  backend: BackendName,
  op: Op,
  c: Conv,
  options: { baseline?: boolean; stockKernel?: tf.KernelConfig; n?: number } = {},
) {
  const { baseline = false, stockKernel, n } = options;
  const who = stockKernel ? "stock" : op === "Conv2D" || backend === "webgpu" ? "tfjs" : "selfsup";
  Deno.bench({
    name: `${backend} ${who}`,
    group: `${op} ${label(c)}`,
    baseline,
    n,
    warmup: n === undefined ? undefined : 1,
    ignore: backend === "webgpu" && !hasGpu,
    async fn(b) {
      await useBackend(backend, { quiet: true });
      const t = convTensors(c);
      const { inputs, attrs } = convKernelCall(op, c, t);
      if (stockKernel) {
        const be = tf.backend();
        b.start();
        const out = stockKernel.kernelFunc({ inputs, attrs, backend: be }) as tf.TensorInfo;
        be.readSync(out.dataId);
        b.end();
        be.disposeData(out.dataId);
      } else {
        b.start();
        const out = tf.engine().runKernel(op, inputs, attrs) as tf.Tensor;
        await readBack(out);
        b.end();
        out.dispose();
      }
      tf.dispose(t);
    },
  });
}

for (const c of [S1, S2]) {
  convBench("wasm", "Conv2D", c, { baseline: true });
  convBench("webgpu", "Conv2D", c, { n: 3 });
  convBench("cpu", "Conv2D", c, { n: 2 });
  convBench("wasm", "Conv2DBackpropInput", c, { baseline: true, stockKernel: stock.wasmInput });
  convBench("wasm", "Conv2DBackpropInput", c);
  convBench("webgpu", "Conv2DBackpropInput", c, { n: 3 });
  // wasm has no stock Conv2DBackpropFilter: the forward conv above is the yardstick
  convBench("wasm", "Conv2DBackpropFilter", c, { baseline: true });
  convBench("webgpu", "Conv2DBackpropFilter", c, { n: 3 });
}

// cpu at batch 4: the stock weight gradient takes seconds even there
const CPU: Conv = { n: 4, h: 32, ci: 32, co: 32, stride: 1 };
convBench("cpu", "Conv2DBackpropFilter", CPU, {
  baseline: true,
  stockKernel: stock.cpuFilter,
  n: 2,
});
convBench("cpu", "Conv2DBackpropFilter", CPU, { n: 5 });
convBench("cpu", "Conv2DBackpropInput", CPU, { baseline: true, stockKernel: stock.cpuInput, n: 3 });
convBench("cpu", "Conv2DBackpropInput", CPU, { n: 5 });

/** Batch norm with batch statistics, forward and backward (what a training step runs). */
function batchNormStep(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, dy: tf.Tensor4D) {
  return tf.grads((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(xi, [0, 1, 2]);
    const y = tf.batchNorm(
      xi as tf.Tensor4D,
      mean,
      variance,
      b as tf.Tensor1D,
      g as tf.Tensor1D,
      1e-3,
    );
    return tf.sum(tf.mul(y, dy));
  })([x, gamma, beta]);
}

for (const backend of ["wasm", "native", "cpu", "webgpu"] as const) {
  Deno.bench({
    name: backend,
    group: "batchNorm fwd+bwd 64x32x32x32",
    baseline: backend === "wasm",
    n: backend === "wasm" || backend === "native" ? undefined : 3,
    warmup: backend === "wasm" || backend === "native" ? undefined : 1,
    ignore: backend === "webgpu" && !hasGpu,
    async fn(b) {
      await useBackend(backend, { quiet: true });
      const x = tf.randomNormal<tf.Rank.R4>([64, 32, 32, 32], 0, 1, "float32", 4);
      const dy = tf.randomNormal<tf.Rank.R4>([64, 32, 32, 32], 0, 1, "float32", 5);
      const gamma = tf.ones<tf.Rank.R1>([32]), beta = tf.zeros<tf.Rank.R1>([32]);
      b.start();
      const grads = batchNormStep(x, gamma, beta, dy);
      for (const g of grads) await readBack(g);
      b.end();
      tf.dispose([x, dy, gamma, beta, ...grads]);
    },
  });
}

// a 3x3 conv as one GEMM (im2col of the 16x16x64 stage) and a projection-head layer
for (const [m, k, n] of [[16384, 576, 64], [64, 512, 512]]) {
  for (const backend of ["wasm", "native", "cpu", "webgpu"] as const) {
    Deno.bench({
      name: backend,
      group: `MatMul [${m},${k}]x[${k},${n}]`,
      baseline: backend === "wasm",
      n: backend === "wasm" || backend === "native" ? undefined : 3,
      warmup: backend === "wasm" || backend === "native" ? undefined : 1,
      ignore: backend === "webgpu" && !hasGpu,
      async fn(b) {
        await useBackend(backend, { quiet: true });
        const a = tf.randomNormal<tf.Rank.R2>([m, k], 0, 1, "float32", 6);
        const w = tf.randomNormal<tf.Rank.R2>([k, n], 0, 1, "float32", 7);
        b.start();
        const y = tf.matMul(a, w);
        await readBack(y);
        b.end();
        tf.dispose([a, w, y]);
      },
    });
  }
}
