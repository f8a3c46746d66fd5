/**
 * Training throughput per method: one full step (views, gradient, optimizer update,
 * afterUpdate) of each method on ResNet-18 (CIFAR stem, 32x32, batch 64) and on the sequence
 * encoder (32x128 text lines, batch 96), plus the momentum update and the queue push alone.
 * Images/s = batch / step time. One backend per run:
 *
 *   SELFSUP_BENCH_BACKEND=native deno bench -A bench/train_bench.ts
 *   SELFSUP_BENCH_GROUPS=update,sequence deno bench -A bench/train_bench.ts   (skip resnet18)
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { type BackendName, useBackend } from "../backend/use_backend.ts";
import {
  createMethod,
  disposeStaleState,
  enqueue,
  type MethodSetup,
  momentumUpdate,
} from "../methods/mod.ts";
import { cloneModel, resnet18 } from "../models/mod.ts";

const env = (k: string) => {
  try {
    return Deno.env.get(k);
  } catch {
    return undefined;
  }
};
const backend = await useBackend((env("SELFSUP_BENCH_BACKEND") ?? "cpu") as BackendName, {
  quiet: true,
});
const groups = new Set((env("SELFSUP_BENCH_GROUPS") ?? "update,sequence,resnet18").split(","));
const METHODS = ["simclr", "moco-v2", "moco-v3", "swav", "simsiam", "byol"] as const;

/** One loop step, as train/ runs it. */
function step(setup: MethodSetup, images: tf.Tensor4D, optimizer: tf.Optimizer, i: number) {
  const { method, nets } = setup;
  const context = { progress: 0.5, step: 1000 + i, epoch: 0 };
  const views = method.views(images, i);
  let next = setup.state;
  const loss = optimizer.minimize(
    () => {
      const r = method.step(nets, views, setup.state, context);
      Object.values(r.metrics).forEach((m) => tf.keep(m));
      for (const t of tensorsOf(r.state)) tf.keep(t);
      next = r.state;
      tf.dispose(Object.values(r.metrics));
      return r.loss;
    },
    true,
    method.trainable(nets),
  )!;
  loss.dataSync();
  tf.dispose([loss, ...views]);
  disposeStaleState(setup.state, next);
  setup.state = next;
  if (method.afterUpdate) {
    const after = method.afterUpdate(nets, setup.state, context);
    disposeStaleState(setup.state, after);
    setup.state = after;
  }
}

function tensorsOf(x: unknown, out: tf.Tensor[] = []): tf.Tensor[] {
  if (x instanceof tf.Tensor) out.push(x);
  else if (Array.isArray(x)) { for (const e of x) tensorsOf(e, out); }
  else if (x && typeof x === "object") { for (const v of Object.values(x)) tensorsOf(v, out); }
  return out;
}

function methodBench(group: string, name: string, shape: [number, number, number], batch: number) {
  const encoder = group === "sequence" ? "sequence" : "resnet18";
  let setup: MethodSetup | undefined;
  let images: tf.Tensor4D | undefined;
  const optimizer = tf.train.momentum(0.03, 0.9);
  let i = 0;
  Deno.bench({
    name: `${name} ${encoder} ${shape.join("x")} b${batch} (${backend})`,
    group: `${group} step`,
    n: group === "resnet18" ? 2 : 3,
    warmup: 1,
    fn(b) {
      setup ??= createMethod(name, {
        encoder,
        inputShape: shape,
        seed: 1,
        ...(name === "moco-v2" ? { queueSize: group === "sequence" ? 96 * 7 * 16 : 65536 } : {}),
        ...(name === "swav" ? { preset: "small" as const, localCrops: 2 } : {}),
      });
      images ??= tf.randomUniform([batch, ...shape], 0, 1, "float32", 1) as tf.Tensor4D;
      b.start();
      step(setup, images, optimizer, i++);
      b.end();
    },
  });
}

if (groups.has("update")) {
  const query = resnet18({ inputShape: [32, 32, 3] });
  const key = cloneModel(query, { freezeBatchNormStatistics: true });
  Deno.bench({
    name: `momentumUpdate resnet18 (11.2M weights + BN statistics, ${backend})`,
    group: "updates",
    fn() {
      momentumUpdate(key, query, 0.999);
      key.weights[0].read().dataSync();
    },
  });
  const queue = tf.randomNormal([65536, 128]) as tf.Tensor2D;
  const keys = tf.randomNormal([256, 128]) as tf.Tensor2D;
  Deno.bench({
    name: `enqueue 256 keys into a 65536x128 queue (${backend})`,
    group: "updates",
    fn() {
      const next = enqueue(queue, keys);
      next.dataSync();
      next.dispose();
    },
  });
}
if (groups.has("sequence")) {
  for (const m of METHODS) methodBench("sequence", m, [32, 128, 1], 96);
}
if (groups.has("resnet18")) {
  for (const m of METHODS) methodBench("resnet18", m, [32, 32, 3], 64);
}
