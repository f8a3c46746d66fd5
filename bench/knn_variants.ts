/**
 * The method table's kNN on the same encoder features, read three ways, with the features'
 * geometry: for bench/RESULTS.md "Issue 11, fifth session (H11)" (is a row below raw pixels
 * held there by the evaluation, e.g. a large shared mean component that dominates the cosine?).
 *
 * ```sh
 * # encoders saved by bench/table_diagnose.ts ("saveEncoders"), raw pixels, a random-init ConvNet
 * SELFSUP_THREADS=1 deno run -A bench/knn_variants.ts '{"encoders":["raw","random:0","/tmp/enc/fashion-mnist-barlow-twins-s0"]}' out.json
 * ```
 *
 * Each encoder is read as the Fashion-MNIST table reads it (the 4 x 4 x 64 map before the global
 * pooling, flattened; `"features":"pooled"` for the pooled ones) on the 60k training images (the
 * bank) and the 10k test images (`"testLimit"` / `"trainLimit": n` for the first n, for tests;
 * `"firstTest": n` scores every encoder on the first n queries before the rest, and reports
 * both). kNN (cosine, votes exp(sim / 0.1), k = 20 and 200, `knnAccuracies`, the table's) on:
 * the features as they are (the table's figure), centred with the bank's mean, and standardized per dimension with the bank's
 * mean and std (as the table's linear probe reads them); with `"dropPCs": [k, ...]` also centred
 * with the bank's k leading principal directions projected out; `"only": [names]` keeps just
 * those variants; `"noGeometry": true` skips the geometry. Geometry of the bank: mean norm and its
 * coefficient of variation, share of exact zeros, dead dimensions (zero variance), the mean's
 * share of the second moment (|mean|^2 / mean |x|^2), mean cosine of 20,000 random pairs (as they
 * are and centred), the top principal component's share of the variance (centred) and of the
 * second moment (uncentred), the participation ratio (trace(C)^2 / |C|_F^2, an effective number
 * of dimensions), and the 10 largest dimensions' share of the variance.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { useBackend } from "../backend/use_backend.ts";
import { withSeed } from "../backend/with_seed.ts";
import { fashionMnist } from "../data/mod.ts";
import { extractFeatures } from "../eval/extract_features.ts";
import { knnAccuracies } from "../eval/knn_accuracies.ts";
import { loadEncoder } from "../eval/load_encoder.ts";
import { prePoolEncoder } from "../eval/method_table.ts";
import { convNet } from "../models/mod.ts";
import { loadavg, timedLog } from "./_table_bench.ts";

const opts = JSON.parse(Deno.args[0] ?? "{}");
const out = Deno.args[1] ?? "knn_variants.json";
const {
  encoders = ["raw"],
  testLimit,
  trainLimit,
  features: kind = "map",
  pairs = 20000,
  firstTest,
  dropPCs = [],
  only,
  noGeometry = false,
} = opts;
await useBackend("native", { quiet: true });
const load0 = await loadavg();

const images = async (split: "train" | "test", limit?: number) => {
  const ds = await fashionMnist(split);
  const n = limit ? Math.min(limit, ds.length) : ds.length;
  const [h, w, c] = ds.shape;
  return {
    x: tf.tidy(() =>
      tf.div(tf.tensor4d(ds.images.slice(0, n * h * w * c), [n, h, w, c], "int32"), 255)
    ) as tf.Tensor4D,
    labels: Int32Array.from(ds.labels.slice(0, n)),
  };
};
const train = await images("train", trainLimit);
const test = await images("test", testLimit);

/** Bank and query features of one encoder spec, read as the table reads them. */
async function featuresOf(spec: string): Promise<[tf.Tensor2D, tf.Tensor2D]> {
  if (spec === "raw") {
    return [train.x, test.x].map((x) => tf.reshape(x, [x.shape[0], -1])) as [
      tf.Tensor2D,
      tf.Tensor2D,
    ];
  }
  const encoder = spec.startsWith("random:")
    ? withSeed(
      Number(spec.slice(7)),
      () => convNet({ inputShape: [28, 28, 1], widths: [16, 32, 64] }),
    )
    : await loadEncoder(spec);
  const model = kind === "map" ? prePoolEncoder(encoder) : encoder;
  const pool = kind === "map" ? "flatten" : "mean";
  const res: tf.Tensor2D[] = [];
  for (const x of [train.x, test.x]) {
    res.push(await extractFeatures(model, x, { batchSize: 500, pool }) as tf.Tensor2D);
  }
  encoder.dispose();
  return res as [tf.Tensor2D, tf.Tensor2D];
}

/** Deterministic pseudo-random integers in [0, n) (LCG), for the random pairs. */
function lcg(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

/** Largest eigenvalue of a symmetric PSD matrix (power iteration). */
function topEigenvalue(m: tf.Tensor2D, iters = 200): number {
  const d = m.shape[0];
  let v = tf.div(tf.ones([d, 1]), Math.sqrt(d)) as tf.Tensor2D;
  for (let i = 0; i < iters; i++) {
    const next = tf.tidy(() => {
      const mv = tf.matMul(m, v);
      return tf.div(mv, tf.maximum(tf.norm(mv), 1e-30)) as tf.Tensor2D;
    });
    v.dispose();
    v = next;
  }
  const lambda = tf.tidy(() => tf.sum(tf.mul(v, tf.matMul(m, v))).dataSync()[0]);
  v.dispose();
  return lambda;
}

/** The k leading eigenvectors `[d, k]` of a symmetric PSD matrix (power iteration, deflation). */
function topEigenvectors(m: tf.Tensor2D, k: number, iters = 200): tf.Tensor2D {
  const d = m.shape[0];
  const found: tf.Tensor2D[] = [];
  let rest = tf.clone(m);
  for (let j = 0; j < k; j++) {
    let v = tf.div(tf.ones([d, 1]), Math.sqrt(d)) as tf.Tensor2D;
    for (let i = 0; i < iters; i++) {
      const next = tf.tidy(() => {
        const mv = tf.matMul(rest, v);
        return tf.div(mv, tf.maximum(tf.norm(mv), 1e-30)) as tf.Tensor2D;
      });
      v.dispose();
      v = next;
    }
    const deflated = tf.tidy(() => {
      const lambda = tf.sum(tf.mul(v, tf.matMul(rest, v)));
      return tf.sub(rest, tf.mul(lambda, tf.matMul(v, v, false, true))) as tf.Tensor2D;
    });
    rest.dispose();
    rest = deflated;
    found.push(v);
  }
  rest.dispose();
  const out = tf.concat(found, 1) as tf.Tensor2D;
  tf.dispose(found);
  return out;
}

/** Geometry of the bank features (see the module doc). */
function geometry(x: tf.Tensor2D) {
  const [n, d] = x.shape;
  return tf.tidy(() => {
    const norms = tf.norm(x, 2, 1);
    const normMean = tf.mean(norms).dataSync()[0];
    const normStd = tf.sqrt(tf.moments(norms).variance).dataSync()[0];
    const zeros = tf.mean(tf.cast(tf.equal(x, 0), "float32")).dataSync()[0];
    const { mean, variance } = tf.moments(x, 0);
    const varData = variance.dataSync() as Float32Array;
    const dead = varData.filter((v) => v <= 0).length;
    const meanSq = tf.sum(tf.square(mean)).dataSync()[0];
    const secondMoment = tf.mean(tf.sum(tf.square(x), 1)).dataSync()[0];
    // second-moment and covariance matrices [d, d]
    const m2 = tf.div(tf.matMul(x, x, true, false), n) as tf.Tensor2D;
    const mu = tf.reshape(mean, [d, 1]);
    const cov = tf.sub(m2, tf.matMul(mu, mu, false, true)) as tf.Tensor2D;
    const traceCov = varData.reduce((s, v) => s + v, 0);
    const frobCov = tf.sum(tf.square(cov)).dataSync()[0];
    const pc1Cov = topEigenvalue(cov);
    const pc1M2 = topEigenvalue(m2);
    const sortedVar = Array.from(varData).sort((a, b) => b - a);
    const top10Var = sortedVar.slice(0, 10).reduce((s, v) => s + v, 0) / traceCov;
    // random pairs (i != j)
    const next = lcg(12345);
    const ia = new Int32Array(pairs), ib = new Int32Array(pairs);
    for (let p = 0; p < pairs; p++) {
      ia[p] = next(n);
      do ib[p] = next(n); while (ib[p] === ia[p]);
    }
    const cosPairs = (y: tf.Tensor2D) => {
      const a = tf.gather(y, ia), b = tf.gather(y, ib);
      const cos = tf.div(
        tf.sum(tf.mul(a, b), 1),
        tf.maximum(tf.mul(tf.norm(a, 2, 1), tf.norm(b, 2, 1)), 1e-12),
      );
      return tf.mean(cos).dataSync()[0];
    };
    return {
      n,
      d,
      normMean,
      normCV: normStd / normMean,
      zeros,
      dead,
      meanShare: meanSq / secondMoment,
      cosRandom: cosPairs(x),
      cosRandomCentred: cosPairs(tf.sub(x, mean) as tf.Tensor2D),
      pc1Variance: pc1Cov / traceCov,
      pc1SecondMoment: pc1M2 / secondMoment,
      participationRatio: traceCov * traceCov / frobCov,
      top10DimsVariance: top10Var,
    };
  });
}

type Variant = [string, (a: tf.Tensor2D, b: tf.Tensor2D) => [tf.Tensor2D, tf.Tensor2D]];
const allVariants: Variant[] = [
  ["plain", (a, b) => [a, b]],
  ["centred", (a, b) =>
    tf.tidy(() => {
      const mean = tf.mean(a, 0);
      return [tf.sub(a, mean), tf.sub(b, mean)] as [tf.Tensor2D, tf.Tensor2D];
    })],
  ["standardized", (a, b) =>
    tf.tidy(() => {
      const { mean, variance } = tf.moments(a, 0);
      const sd = tf.sqrt(tf.add(variance, 1e-6));
      return [tf.div(tf.sub(a, mean), sd), tf.div(tf.sub(b, mean), sd)] as [
        tf.Tensor2D,
        tf.Tensor2D,
      ];
    })],
  // centred, then the k leading principal directions of the bank projected out
  ...(dropPCs as number[]).map((k): Variant => [`centred, top ${k} PCs out`, (a, b) => {
    const mean = tf.mean(a, 0);
    const ac = tf.sub(a, mean) as tf.Tensor2D;
    const cov = tf.div(tf.matMul(ac, ac, true, false), a.shape[0]) as tf.Tensor2D;
    const v = topEigenvectors(cov, k);
    const out = tf.tidy(() => {
      const drop = (x: tf.Tensor2D) => tf.sub(x, tf.matMul(tf.matMul(x, v), v, false, true));
      return [drop(ac), drop(tf.sub(b, mean) as tf.Tensor2D)] as [tf.Tensor2D, tf.Tensor2D];
    });
    tf.dispose([mean, ac, cov, v]);
    return out;
  }]),
];
const variants = allVariants.filter(([name]) => !only || (only as string[]).includes(name));
// the queries in parts: the first `firstTest` for every encoder, then the rest for every encoder,
// so a run stopped for time still has every encoder on the first part
const nTest = test.labels.length;
const first = Math.min(firstTest ?? nTest, nTest);
const parts = first < nTest ? [[0, first], [first, nTest]] : [[0, nTest]];
const results: Record<string, unknown>[] = [];
const feats: [tf.Tensor2D, tf.Tensor2D][] = [];
// correct answers per encoder, variant and k, summed over the parts done
const correct: Record<string, number[]>[] = [];
for (const [p, [start, end]] of parts.entries()) {
  for (const [e, spec] of (encoders as string[]).entries()) {
    const t0 = performance.now();
    if (p === 0) {
      timedLog(`${spec}: features`);
      feats.push(await featuresOf(spec));
      results.push({ spec, kind, ...(noGeometry ? {} : geometry(feats[e][0])), seconds: 0 });
      correct.push({});
    }
    const [a, bAll] = feats[e];
    const b = tf.slice(bAll, [start, 0], [end - start, -1]) as tf.Tensor2D;
    const labels = test.labels.slice(start, end);
    for (const [name, make] of variants) {
      timedLog(`${spec}: kNN ${name}, test ${start}-${end}`);
      const [x, y] = make(a, b);
      const acc = knnAccuracies(x, train.labels, y, labels, [20, 200], { temperature: 0.1 });
      if (x !== a) tf.dispose([x, y]);
      correct[e][name] = acc.map((v, i) => v * (end - start) + (correct[e][name]?.[i] ?? 0));
    }
    b.dispose();
    const knn = Object.fromEntries(
      Object.entries(correct[e]).map(([k, v]) => [k, v.map((c) => c / end)]),
    );
    Object.assign(results[e], {
      knn,
      testImages: end,
      seconds: (results[e].seconds as number) + (performance.now() - t0) / 1000,
    });
    if (p === 0) results[e].knnFirst = knn;
    timedLog(JSON.stringify(results[e]));
    await Deno.writeTextFile(
      out,
      JSON.stringify({ opts, results, load0, load1: await loadavg() }, null, 1),
    );
  }
}
feats.forEach((f) => tf.dispose(f));
const f = (v: number, p = 3) => v.toFixed(p);
const pc = (v: number) => (100 * v).toFixed(1);
console.log(
  "| encoder | test images | mean share | cos random | cos centred | PC1 var | PC1 2nd mom | PR | top-10 dims var | zeros | dead | norm | norm CV |",
);
for (
  const r of noGeometry ? [] : results as (ReturnType<typeof geometry> & Record<string, unknown>)[]
) {
  console.log(
    `| ${r.spec} | ${r.testImages} | ${f(r.meanShare)} | ${f(r.cosRandom)} | ${
      f(r.cosRandomCentred)
    } | ${f(r.pc1Variance)} | ${f(r.pc1SecondMoment)} | ${f(r.participationRatio, 1)} | ${
      f(r.top10DimsVariance)
    } | ${f(r.zeros)} | ${r.dead} | ${f(r.normMean, 2)} | ${f(r.normCV)} |`,
  );
}
console.log("| encoder | test images | variant | kNN20 | kNN200 | kNN20 on the first part |");
for (const r of results) {
  const k = r.knn as Record<string, number[]>, k1 = r.knnFirst as Record<string, number[]>;
  for (const [name, acc] of Object.entries(k)) {
    console.log(
      `| ${r.spec} | ${r.testImages} | ${name} | ${pc(acc[0])} | ${pc(acc[1])} | ${
        pc(k1[name][0])
      } |`,
    );
  }
}
console.log(`load ${load0} | ${await loadavg()}`);
tf.dispose([train.x, test.x]);
