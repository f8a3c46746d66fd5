import assert from "node:assert/strict";
import { tf } from "../../backend/mod.ts";
import type { BackendName } from "../../backend/use_backend.ts";
import { requireOrSkip } from "../_ci.ts";
import { assertNoLeak, assertTensorClose, pcg32, randomNormal, setupBackend } from "../_utils.ts";
import { type RefConv, refConv } from "./_conv_reference.ts";

// conv 3x3 (3->4) + relu + maxpool 2x2 + conv 3x3 stride 2 (4->6) + relu + dense (24->5) + softmax CE
const N = 2, S = 8, CLASSES = 5;
const CONV1: RefConv = {
  n: N,
  h: S,
  w: S,
  ci: 3,
  co: 4,
  kh: 3,
  kw: 3,
  stride: [1, 1],
  pad: "same",
};
const CONV2: RefConv = {
  n: N,
  h: S / 2,
  w: S / 2,
  ci: 4,
  co: 6,
  kh: 3,
  kw: 3,
  stride: [2, 2],
  pad: "same",
};
const FLAT = (S / 4) * (S / 4) * 6;
/** Every ReLU input and every max-pool runner-up is at least this far from a tie. */
const MARGIN = 1e-3;

interface Net {
  x: Float32Array;
  w1: Float32Array;
  w2: Float32Array;
  wd: Float32Array;
  labels: number[];
}

/** Smallest distance to a tie (ReLU at 0, max-pool winner vs runner-up) in float64. */
function tieMargin(net: Net): number {
  const f64 = (v: Float32Array) => Float64Array.from(v);
  const z1 = refConv(CONV1, f64(net.x), f64(net.w1)); // [N, S, S, 4]
  let margin = Infinity;
  for (const v of z1) margin = Math.min(margin, Math.abs(v));
  const pooled = new Float64Array(N * (S / 2) * (S / 2) * 4);
  for (let b = 0; b < N; b++) {
    for (let i = 0; i < S / 2; i++) {
      for (let j = 0; j < S / 2; j++) {
        for (let c = 0; c < 4; c++) {
          const win = [0, 1, 2, 3].map((k) =>
            Math.max(0, z1[((b * S + 2 * i + (k >> 1)) * S + 2 * j + (k & 1)) * 4 + c])
          ).sort((p, q) => q - p);
          // a window of all-zero ReLU outputs has no gradient through it: not a tie
          if (win[0] > 0) margin = Math.min(margin, win[0] - win[1]);
          pooled[((b * (S / 2) + i) * (S / 2) + j) * 4 + c] = win[0];
        }
      }
    }
  }
  for (const v of refConv(CONV2, pooled, f64(net.w2))) margin = Math.min(margin, Math.abs(v));
  return margin;
}

/** Random weights and inputs, redrawn until no ReLU or max-pool is within MARGIN of a tie. */
function tieFreeNet(): Net {
  for (let seed = 1;; seed++) {
    const prng = pcg32(seed);
    const normal = (n: number, scale: number) =>
      Float32Array.from(randomNormal(n, prng), (v) => v * scale);
    const net = {
      x: normal(N * S * S * 3, 1),
      w1: normal(3 * 3 * 3 * 4, 0.4),
      w2: normal(3 * 3 * 4 * 6, 0.3),
      wd: normal(FLAT * CLASSES, 0.3),
      labels: Array.from({ length: N }, () => Math.floor(prng() * CLASSES)),
    };
    if (tieMargin(net) > MARGIN) return net;
    if (seed > 200) throw new Error("no tie-free draw in 200 seeds");
  }
}

/** The gradients, read back asynchronously (webgpu has no synchronous read-back in Deno). */
async function gradients(net: Net): Promise<Float32Array[]> {
  const grads = tf.tidy(() => {
    const x = tf.tensor4d(net.x, [N, S, S, 3]);
    const params = [
      x,
      tf.tensor4d(net.w1, [3, 3, 3, 4]),
      tf.tensor4d(net.w2, [3, 3, 4, 6]),
      tf.tensor2d(net.wd, [FLAT, CLASSES]),
    ];
    const onehot = tf.oneHot(tf.tensor1d(net.labels, "int32"), CLASSES);
    const loss = (xi: tf.Tensor, w1: tf.Tensor, w2: tf.Tensor, wd: tf.Tensor) => {
      const h1 = tf.relu(tf.conv2d(xi as tf.Tensor4D, w1 as tf.Tensor4D, 1, "same"));
      const p1 = tf.maxPool(h1, 2, 2, "valid");
      const h2 = tf.relu(tf.conv2d(p1, w2 as tf.Tensor4D, 2, "same"));
      const logits = tf.matMul(tf.reshape(h2, [N, FLAT]), wd as tf.Tensor2D);
      return tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
    };
    return tf.grads(loss)(params);
  });
  const values = await Promise.all(grads.map((g) => g.data() as Promise<Float32Array>));
  tf.dispose(grads);
  return values;
}

const hasGpu = "gpu" in navigator;

Deno.test({
  name: "a small conv net's gradients agree across cpu, wasm and webgpu",
  // webgpu needs --unstable-webgpu and an adapter (lavapipe in CI); cpu and wasm always run
  fn: async () => {
    const net = tieFreeNet();
    const names = ["input", "conv1", "conv2", "dense"];
    const backends: BackendName[] = hasGpu ? ["cpu", "wasm", "webgpu"] : ["cpu", "wasm"];
    const results = new Map<BackendName, Float32Array[]>();
    for (const backend of backends) {
      await setupBackend(backend);
      await assertNoLeak(async () => {
        results.set(backend, await gradients(net));
      });
    }
    const reference = results.get("cpu")!;
    for (const [backend, grads] of results) {
      grads.forEach((g, k) => {
        const scale = Math.max(...reference[k].map(Math.abs));
        assert.ok(scale > 1e-3, `${names[k]} gradient is not degenerate`);
        assertTensorClose(
          g,
          reference[k],
          { rtol: 1e-4, atol: 1e-5 * scale },
          `${backend} ${names[k]} gradient vs cpu`,
        );
      });
    }
    // CI runs with --unstable-webgpu and lavapipe: there the webgpu leg must not be skipped
    requireOrSkip(hasGpu, "webgpu (run with --unstable-webgpu)");
  },
});
