import assert from "node:assert/strict";
import { useBackend } from "../../backend/mod.ts";
import { registerNativeBackend } from "../../backend/native/mod.ts";
import { dnnlOrUndefined } from "../../backend/native/_dnnl.ts";
import { NTXENT_SOFTMAX_MAX_N, setNtXentSoftmax } from "../../backend/native/_dnnl_softmax.ts";
import { ntXent } from "../../losses/mod.ts";
import { COSINE_XENT_KERNEL } from "../../losses/_ops.ts";
import { requireOrSkip } from "../_ci.ts";
import {
  checkAgainstReference,
  checkFiniteDifferences,
  checkPathsAgree,
  outputsOf,
} from "./_cosine_xent_harness.ts";

// NT-Xent on native through its softmax (`ntXentSoftmax` in _dnnl_softmax.ts: one sgemm for the
// [2n, 2n] logits S, E = exp(S) with the diagonal zeroed, its row sums z, H = P + Pᵀ - 2T from
// E_ij·(1/zᵢ + 1/zⱼ) kept for one backward sgemm), and the log-sum-exp path it replaces for
// 1/τ <= 30 and n <= 2048, both against a float64 reference written from the definition, with the
// reference's gradient by float64 central differences (no formula shared; the harness is shared
// with the InfoNCE test, _cosine_xent_harness.ts).

const { kernels } = await registerNativeBackend();
const haveDnnl = requireOrSkip(dnnlOrUndefined() !== undefined, "oneDNN 2.x (libdnnl2)");

/**
 * Float64 NT-Xent from its definition (SimCLR): the 2n unit rows of both views (norm clamped at
 * 1e-12), logits/τ, row i against every other row, its positive the other view of its sample;
 * mean over the 2n anchors.
 */
function reference(x: Float64Array, y: Float64Array, n: number, d: number, tau: number): number {
  const u = new Float64Array(2 * n * d);
  [x, y].forEach((v, view) => {
    for (let i = 0; i < n; i++) {
      let sq = 0;
      for (let k = 0; k < d; k++) sq += v[i * d + k] ** 2;
      const norm = Math.max(Math.sqrt(sq), 1e-12);
      for (let k = 0; k < d; k++) u[(view * n + i) * d + k] = v[i * d + k] / norm;
    }
  });
  const sim = (i: number, j: number) => {
    let dot = 0;
    for (let k = 0; k < d; k++) dot += u[i * d + k] * u[j * d + k];
    return dot / tau;
  };
  let total = 0;
  for (let i = 0; i < 2 * n; i++) {
    const others: number[] = [];
    for (let j = 0; j < 2 * n; j++) if (j !== i) others.push(sim(i, j));
    const m = Math.max(...others);
    const lse = m + Math.log(others.reduce((p, v) => p + Math.exp(v - m), 0));
    total += lse - sim(i, i < n ? i + n : i - n);
  }
  return total / (2 * n);
}

for (const [path, on] of [["softmax", true], ["log-sum-exp", false]] as const) {
  Deno.test({
    name: `native ntXent (${path} path) matches float64, value and gradients, over seeds`,
    ignore: !haveDnnl,
    async fn() {
      await useBackend("native", { quiet: true });
      assert.ok(kernels.includes(COSINE_XENT_KERNEL));
      const was = setNtXentSoftmax(on);
      try {
        checkAgainstReference({
          lossName: "ntXent",
          loss: ntXent,
          reference,
          softmax: on,
          seeds: [1, 2, 3],
          mix: [1013, 37],
        });
      } finally {
        setNtXentSoftmax(was);
      }
    },
  });
}

Deno.test({
  name: "native ntXent's softmax path matches finite differences of itself (float32)",
  ignore: !haveDnnl,
  async fn() {
    await useBackend("native", { quiet: true });
    const was = setNtXentSoftmax(true);
    try {
      checkFiniteDifferences("ntXent", ntXent);
    } finally {
      setNtXentSoftmax(was);
    }
  },
});

Deno.test({
  name:
    "native ntXent: the softmax and log-sum-exp paths agree at n = 256, d = 128; above n = 2048 the log-sum-exp path",
  ignore: !haveDnnl,
  async fn() {
    await useBackend("native", { quiet: true });
    checkPathsAgree(ntXent, setNtXentSoftmax, 257);
    assert.equal(outputsOf("ntXent", NTXENT_SOFTMAX_MAX_N, 2, 0.5), 4);
    assert.equal(outputsOf("ntXent", NTXENT_SOFTMAX_MAX_N + 1, 2, 0.5), 7);
  },
});
