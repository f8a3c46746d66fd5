/**
 * Throughput of every augmentation and preset, in images per second, on a CIFAR-like batch
 * `[256, 32, 32, 3]` and a text-line batch `[96, 32, 128, 1]`, on the cpu and wasm backends.
 *
 * - `deno bench -A bench/augment_bench.ts`: one group per augmentation and shape, cpu as the
 *   baseline against wasm.
 * - `deno run -A bench/augment_bench.ts [reps]`: prints the markdown table of images/s that
 *   bench/RESULTS.md quotes (median of `reps` timed runs after one warm-up, default 5).
 *
 * Input data is created outside the measured region; every measured call ends with a read-back
 * (`dataSync`) so asynchronous backends are timed too.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { useBackend } from "../backend/use_backend.ts";
import * as aug from "../augment/mod.ts";
import { pcg32 } from "../data/prng.ts";

const SHAPES: [number, number, number, number][] = [[256, 32, 32, 3], [96, 32, 128, 1]];
const BACKENDS = ["cpu", "wasm"] as const;

const OPS: [string, aug.Augmentation][] = [
  ["randomResizedCrop", aug.randomResizedCrop()],
  ["randomScale", aug.randomScale()],
  ["randomAffine", aug.randomAffine()],
  ["gaussianNoise", aug.gaussianNoise()],
  ["gaussianBlur", aug.gaussianBlur()],
  ["colorJitter", aug.colorJitter()],
  ["brightness", aug.brightness()],
  ["contrast", aug.contrast()],
  ["randomGrayscale", aug.randomGrayscale({ p: 0.5 })],
  ["channelShuffle", aug.channelShuffle()],
  ["solarize", aug.solarize()],
  ["horizontalFlip", aug.horizontalFlip()],
  ["cutout", aug.cutout()],
  ["simclrAugment", aug.simclrAugment({ strength: 0.5 })],
  ["textAugment", aug.textAugment()],
  ["mnistAugment", aug.mnistAugment()],
];

function input(shape: [number, number, number, number]): tf.Tensor4D {
  const prng = pcg32(1);
  const n = shape.reduce((a, v) => a * v, 1);
  return tf.tensor4d(Float32Array.from({ length: n }, prng), shape);
}

function runOnce(op: aug.Augmentation, x: tf.Tensor4D, seed: number): void {
  const y = op(x, seed);
  y.dataSync();
  y.dispose();
}

let seed = 0;
for (const [name, op] of OPS) {
  for (const shape of SHAPES) {
    for (const backend of BACKENDS) {
      Deno.bench({
        name: `${name} ${backend}`,
        group: `${name} [${shape}]`,
        baseline: backend === "cpu",
        n: 5,
        warmup: 1,
        async fn(b) {
          await useBackend(backend, { quiet: true });
          const x = input(shape);
          b.start();
          runOnce(op, x, seed++);
          b.end();
          x.dispose();
        },
      });
    }
  }
}

async function table(reps: number): Promise<string> {
  const rows: string[] = [];
  const header = SHAPES.flatMap((s) => BACKENDS.map((b) => `[${s}] ${b}`));
  rows.push(`| augmentation | ${header.join(" | ")} |`);
  rows.push(`|---|${header.map(() => "---:").join("|")}|`);
  const cells = new Map<string, string[]>();
  for (const shape of SHAPES) {
    for (const backend of BACKENDS) {
      await useBackend(backend, { quiet: true });
      const x = input(shape);
      for (const [name, op] of OPS) {
        runOnce(op, x, 0); // warm-up: kernel compilation, caches
        const times: number[] = [];
        for (let r = 0; r < reps; r++) {
          const t0 = performance.now();
          runOnce(op, x, r + 1);
          times.push(performance.now() - t0);
        }
        times.sort((a, b) => a - b);
        const ms = times[Math.floor(times.length / 2)];
        const perSec = shape[0] / (ms / 1000);
        if (!cells.has(name)) cells.set(name, []);
        cells.get(name)!.push(perSec >= 100 ? perSec.toFixed(0) : perSec.toPrecision(3));
      }
      x.dispose();
    }
  }
  for (const [name] of OPS) rows.push(`| ${name} | ${cells.get(name)!.join(" | ")} |`);
  return rows.join("\n");
}

if (import.meta.main) {
  const reps = Number(Deno.args[0] ?? 5);
  console.log(await table(reps));
}
