/**
 * Forward + backward of the losses at the sizes that matter (issue 3), on the cpu and wasm
 * backends, against the slow float64 loop references of the tests (`baseline: true`, forward only).
 *
 *   deno bench -A bench/losses_bench.ts
 *   SELFSUP_BENCH_BACKENDS=wasm deno bench -A bench/losses_bench.ts   # one backend
 *
 * Samples/s = batch rows / time per iteration. Cases whose single cpu iteration takes many seconds
 * (NT-Xent n = 4096, MoCo K = 65536 ...) run on wasm only unless SELFSUP_BENCH_SLOW=1, and the
 * float64 references run only where one call takes about a second or less.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { type BackendName, useBackend } from "../backend/use_backend.ts";
import { featureFlat, infoNce, mocoInfoNce, ntXent, sinkhorn, swavLoss } from "../losses/mod.ts";
import { pcg32 } from "../data/prng.ts";
import {
  randn,
  refFeatureFlat,
  refInfoNce,
  refMoco,
  refNtXent,
  refSinkhorn,
  refSwav,
} from "../tests/losses/_reference.ts";

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

const BACKENDS = (env("SELFSUP_BENCH_BACKENDS") ?? "cpu,wasm").split(",") as BackendName[];
const SLOW = env("SELFSUP_BENCH_SLOW") === "1";
const D = 128;

/** Inputs are made (and disposed) outside the measured region; `run` is timed with read-back. */
interface Case {
  group: string;
  /** More than ~10 s per cpu iteration: skipped on cpu unless SELFSUP_BENCH_SLOW=1. */
  slowOnCpu?: boolean;
  iterations: number;
  make: () => tf.Tensor[];
  /** The loss of the inputs, differentiated with respect to `wrt` (indices into the inputs). */
  loss?: (xs: tf.Tensor[]) => tf.Scalar;
  wrt?: number[];
  /** A forward-only tensor function (Sinkhorn has no gradient). */
  forward?: (xs: tf.Tensor[]) => tf.Tensor;
}

function register(c: Case): void {
  for (const backend of BACKENDS) {
    const skip = backend === "cpu" && c.slowOnCpu && !SLOW;
    Deno.bench({
      name: `${c.group} [${backend}]`,
      group: c.group,
      ignore: skip,
      n: c.iterations,
      warmup: 1,
      async fn(b) {
        await useBackend(backend, { quiet: true });
        const xs = c.make();
        b.start();
        let out: tf.Tensor[];
        if (c.loss) {
          const wrt = c.wrt ?? xs.map((_, i) => i);
          const { value, grads } = tf.valueAndGrads((...args: tf.Tensor[]) => {
            const all = xs.slice();
            wrt.forEach((at, i) => (all[at] = args[i]));
            return c.loss!(all);
          })(wrt.map((i) => xs[i]));
          out = [value, ...grads];
        } else {
          out = [c.forward!(xs)];
        }
        for (const t of out) t.dataSync();
        b.end();
        tf.dispose([...xs, ...out]);
      },
    });
  }
}

function baseline(group: string, iterations: number, make: () => () => unknown): void {
  Deno.bench({
    name: `${group} [float64 loop reference, forward only]`,
    group,
    baseline: true,
    n: iterations,
    warmup: 1,
    fn(b) {
      const run = make();
      b.start();
      run();
      b.end();
    },
  });
}

const normal = (shape: number[], seed: number, scale = 1) => () =>
  tf.mul(tf.randomNormal(shape, 0, 1, "float32", seed), scale);
const uniform = (shape: number[], seed: number) => () =>
  tf.randomUniform(shape, -1, 1, "float32", seed);

// InfoNCE and NT-Xent, n = 256, 1024, 4096, d = 128.
for (const n of [256, 1024, 4096]) {
  for (
    const [name, fn, ref] of [
      ["infoNce", infoNce, refInfoNce],
      ["ntXent", ntXent, refNtXent],
    ] as const
  ) {
    const group = `${name} n=${n} d=${D}`;
    register({
      group,
      slowOnCpu: n >= 4096 || (name === "ntXent" && n >= 2048),
      iterations: n <= 256 ? 10 : 3,
      make: () => [normal([n, D], 1)(), normal([n, D], 2)()],
      loss: ([a, b]) => fn(a as tf.Tensor2D, b as tf.Tensor2D),
    });
    if (n <= 1024) {
      baseline(group, n <= 256 ? 5 : 1, () => {
        const prng = pcg32(n);
        const a = randn(n, D, prng), b = randn(n, D, prng);
        return () => ref(a, b, 0.1);
      });
    }
  }
}

// MoCo: n = 256 queries, K = 4096 and 65536 negatives, d = 128 (gradient to q only).
for (const K of [4096, 65536]) {
  const group = `mocoInfoNce n=256 K=${K} d=${D}`;
  register({
    group,
    slowOnCpu: K > 4096,
    iterations: K <= 4096 ? 5 : 2,
    make: () => [normal([256, D], 3)(), normal([256, D], 4)(), normal([K, D], 5)()],
    loss: ([q, k, queue]) => mocoInfoNce(q as tf.Tensor2D, k as tf.Tensor2D, queue as tf.Tensor2D),
    wrt: [0],
  });
  if (K <= 4096) {
    baseline(group, 1, () => {
      const prng = pcg32(K);
      const q = randn(256, D, prng), k = randn(256, D, prng), queue = randn(K, D, prng);
      return () => refMoco(q, k, queue, 0.2);
    });
  }
}

// Sinkhorn (forward: the codes carry no gradient), B = 256, K = 3000.
{
  const group = "sinkhorn B=256 K=3000";
  register({
    group,
    iterations: 10,
    make: () => [uniform([256, 3000], 6)()],
    forward: ([s]) => sinkhorn(s as tf.Tensor2D),
  });
  baseline(group, 3, () => {
    const prng = pcg32(6);
    const s = Array.from(
      { length: 256 },
      () => Array.from({ length: 3000 }, () => 2 * prng() - 1),
    );
    return () => refSinkhorn(s, 3, 0.05);
  });
}

// SwAV multi-crop 2x high + 6x low resolution, B = 256, K = 3000, gradient to every crop.
{
  const group = "swavLoss 2+6 crops B=256 K=3000";
  register({
    group,
    iterations: 3,
    make: () => Array.from({ length: 8 }, (_, i) => uniform([256, 3000], 10 + i)()),
    loss: (xs) => swavLoss(xs.slice(0, 2) as tf.Tensor2D[], xs.slice(2) as tf.Tensor2D[]),
  });
  baseline(group, 1, () => {
    const prng = pcg32(7);
    const crop = () =>
      Array.from({ length: 256 }, () => Array.from({ length: 3000 }, () => 2 * prng() - 1));
    const high = [crop(), crop()], low = Array.from({ length: 6 }, crop);
    return () => refSwav(high, low, 0.1, 3, 0.05);
  });
}

// featureFlat on the source's sequence features [96, 64, 512].
{
  const group = "featureFlat [96,64,512] pool 5";
  register({
    group,
    iterations: 10,
    make: () => [normal([96, 64, 512], 8)()],
    loss: ([x]) => tf.sum(featureFlat(x as tf.Tensor3D)) as tf.Scalar,
  });
  baseline(group, 3, () => {
    const prng = pcg32(8);
    const x = Array.from(
      { length: 96 },
      () => Array.from({ length: 64 }, () => Array.from({ length: 512 }, () => prng())),
    );
    return () => refFeatureFlat(x, 5);
  });
}
