/**
 * Per-op view statistics of `mnistAugment` (bench/RESULTS.md, "Learning gap"): each op alone at
 * probability 1, and the whole pipeline, on the first 4,096 MNIST training images; the same
 * figures as `simclr_mnist_twin.py --op-stats` prints for the PyTorch twin's ops (mean and std of
 * the pixels, cosine and mean |difference| to the image, mass ratio, ink centroid shift in pixels,
 * radius of gyration ratio, fractions of pixels at 0 and at 1).
 *
 * ```sh
 * deno run -A bench/peers/simclr_mnist_view_ops.ts [--seed 0] [--png views.png]
 * /usr/bin/python3 bench/peers/simclr_mnist_twin.py --op-stats
 * ```
 *
 * `--per-sample FILE` (both sides) also writes each view's figures (cosine to the image, centroid
 * shift, gyration ratio, mass ratio, mean pixel) per op, and
 * `simclr_mnist_twin.py --ks SELFSUP.json TWIN.json` compares the two sides' per-sample
 * distributions (two-sample Kolmogorov-Smirnov distance and quantiles).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { tf } from "../../backend/tf.ts";
import { useBackend } from "../../backend/use_backend.ts";
import { mnist, saveImageGrid } from "../../data/mod.ts";
import {
  type Augmentation,
  colorJitter,
  gaussianBlur,
  gaussianNoise,
  mnistAugment,
  randomAffine,
  randomResizedCrop,
} from "../../augment/mod.ts";

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    seed: { type: "string", default: "0" },
    count: { type: "string", default: "4096" },
    png: { type: "string" },
    "per-sample": { type: "string" },
  },
});
await useBackend(undefined, { quiet: true });
const n = Number(a.count), seed = Number(a.seed);
const train = await mnist("train");
const images = tf.tensor4d(
  Float32Array.from(train.images.subarray(0, n * 784), (b) => b / 255),
  [n, 28, 28, 1],
);

/** The ops of mnistAugment (augment/mnist_augment.ts) with its arguments, each alone. */
const ops: Record<string, Augmentation> = {
  affine: randomAffine({
    degrees: 15,
    shear: 10,
    scale: [0.85, 1.1],
    translate: [0.1, 0.1],
    fill: "constant",
    fillValue: 0,
  }),
  crop: randomResizedCrop({ scale: [0.5, 1], ratio: [3 / 4, 4 / 3] }),
  jitter: colorJitter({ brightness: 0.4, contrast: 0.4 }),
  blur: gaussianBlur({ sigma: [0.1, 1] }),
  noise: gaussianNoise({ std: [0, 0.1] }),
  pipeline: mnistAugment(),
};

/** Per op, each view's figures (the `--per-sample` file). */
const perSample: Record<string, Record<string, number[]>> = {};

function stats(
  view: Float32Array,
  image: Float32Array,
  samples?: Record<string, number[]>,
): Record<string, number> {
  const per = 784;
  const count = view.length / per;
  let sum = 0, sum2 = 0, cos = 0, abs = 0, mass = 0, at0 = 0, at1 = 0;
  const shifts: number[] = [], gyr: number[] = [];
  const centroid = (t: Float32Array, o: number) => {
    let m = 0, cy = 0, cx = 0;
    for (let p = 0; p < per; p++) {
      const v = t[o + p];
      m += v;
      cy += v * Math.floor(p / 28);
      cx += v * (p % 28);
    }
    m = Math.max(m, 1e-9);
    cy /= m;
    cx /= m;
    let r = 0;
    for (let p = 0; p < per; p++) {
      r += t[o + p] * ((Math.floor(p / 28) - cy) ** 2 + ((p % 28) - cx) ** 2);
    }
    return { m, cy, cx, r: Math.sqrt(r / m) };
  };
  for (let i = 0; i < count; i++) {
    const o = i * per;
    let dot = 0, nv = 0, nx = 0;
    for (let p = 0; p < per; p++) {
      const v = view[o + p], x = image[o + p];
      sum += v;
      sum2 += v * v;
      dot += v * x;
      nv += v * v;
      nx += x * x;
      abs += Math.abs(v - x);
      if (v < 1e-3) at0++;
      if (v > 0.999) at1++;
    }
    const cosI = dot / Math.max(Math.sqrt(nv * nx), 1e-12);
    cos += cosI;
    const cv = centroid(view, o), ci = centroid(image, o);
    mass += cv.m / ci.m;
    shifts.push(Math.hypot(cv.cy - ci.cy, cv.cx - ci.cx));
    gyr.push(cv.r / ci.r);
    if (samples) {
      samples.cos.push(cosI);
      samples.shift.push(shifts.at(-1)!);
      samples.gyr.push(gyr.at(-1)!);
      samples.mass.push(cv.m / ci.m);
      samples.mean.push(cv.m / per);
    }
  }
  const total = view.length;
  const mean = sum / total;
  const avg = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const sd = (v: number[]) => {
    const m = avg(v);
    return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1));
  };
  return {
    mean,
    std: Math.sqrt((sum2 - total * mean * mean) / (total - 1)),
    cosImage: cos / count,
    absDiff: abs / total,
    massRatio: mass / count,
    centroidShift: avg(shifts),
    centroidShiftStd: sd(shifts),
    gyrationRatio: avg(gyr),
    gyrationRatioStd: sd(gyr),
    at0: at0 / total,
    at1: at1 / total,
  };
}

const x = images.dataSync() as Float32Array;
const out: Record<string, Record<string, number>> = { image: stats(x, x) };
let k = 0;
for (const [name, op] of Object.entries(ops)) {
  const parts: Float32Array[] = [];
  for (let i = 0; i < n; i += 256) {
    const chunk = tf.slice(images, [i, 0, 0, 0], [Math.min(256, n - i), -1, -1, -1]);
    const v = op(chunk as tf.Tensor4D, seed * 1000 + k++);
    parts.push(v.dataSync() as Float32Array);
    tf.dispose([chunk, v]);
  }
  const all = new Float32Array(n * 784);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  perSample[name] = { cos: [], shift: [], gyr: [], mass: [], mean: [] };
  out[name] = stats(all, x, perSample[name]);
}
console.log(JSON.stringify(out, null, 1));
if (a["per-sample"]) await Deno.writeTextFile(a["per-sample"], JSON.stringify(perSample));

if (a.png) {
  // rows: 16 images, then each op's view of them
  const first = tf.slice(images, [0, 0, 0, 0], [16, -1, -1, -1]) as tf.Tensor4D;
  const rows = [first, ...Object.values(ops).map((op, i) => op(first, seed * 7 + i))];
  const grid = tf.concat(rows);
  await saveImageGrid(grid.dataSync() as Float32Array, [16 * rows.length, 28, 28, 1], a.png, {
    columns: 16,
  });
  tf.dispose([...rows, grid]);
}
images.dispose();
