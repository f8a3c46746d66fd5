import assert from "node:assert/strict";
import { useBackend } from "../../backend/mod.ts";
import { registerNativeBackend } from "../../backend/native/mod.ts";
import { dnnlOrUndefined } from "../../backend/native/_dnnl.ts";
import { setInfoNceSoftmax } from "../../backend/native/_dnnl_softmax.ts";
import { infoNce } from "../../losses/mod.ts";
import { COSINE_XENT_KERNEL } from "../../losses/_ops.ts";
import { requireOrSkip } from "../_ci.ts";
import {
  checkAgainstReference,
  checkFiniteDifferences,
  checkPathsAgree,
} from "./_cosine_xent_harness.ts";

// InfoNCE on native through oneDNN's softmax (`infoNceSoftmax` in _dnnl_softmax.ts: one sgemm, a
// row softmax of S and of Sᵀ, the gradient (P + Q - 2I)/(2n) kept for two backward sgemms), and the
// log-sum-exp path it replaces for 1/τ <= 30, both against a float64 reference written from the
// definition, with the reference's gradient by float64 central differences (no formula shared; the
// harness is shared with the NT-Xent test, _cosine_xent_harness.ts).

const { kernels } = await registerNativeBackend();
const haveDnnl = requireOrSkip(dnnlOrUndefined() !== undefined, "oneDNN 2.x (libdnnl2)");

/** Float64 InfoNCE from its definition: unit rows (norm clamped at 1e-12), logits/τ, both ways. */
function reference(x: Float64Array, y: Float64Array, n: number, d: number, tau: number): number {
  const unit = (v: Float64Array) => {
    const out = new Float64Array(v.length);
    for (let i = 0; i < n; i++) {
      let sq = 0;
      for (let k = 0; k < d; k++) sq += v[i * d + k] ** 2;
      const norm = Math.max(Math.sqrt(sq), 1e-12);
      for (let k = 0; k < d; k++) out[i * d + k] = v[i * d + k] / norm;
    }
    return out;
  };
  const ux = unit(x), uy = unit(y);
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += ux[i * d + k] * uy[j * d + k];
      s[i * n + j] = dot / tau;
    }
  }
  const lse = (at: (k: number) => number) => {
    let m = -Infinity;
    for (let k = 0; k < n; k++) m = Math.max(m, at(k));
    let sum = 0;
    for (let k = 0; k < n; k++) sum += Math.exp(at(k) - m);
    return m + Math.log(sum);
  };
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += lse((j) => s[i * n + j]) - s[i * n + i]; // row i: x_i against every y_j
    total += lse((j) => s[j * n + i]) - s[i * n + i]; // column i: y_i against every x_j
  }
  return total / (2 * n);
}

for (const [path, on] of [["softmax", true], ["log-sum-exp", false]] as const) {
  Deno.test({
    name: `native infoNce (${path} path) matches float64, value and gradients, over seeds`,
    ignore: !haveDnnl,
    async fn() {
      await useBackend("native", { quiet: true });
      assert.ok(kernels.includes(COSINE_XENT_KERNEL));
      const was = setInfoNceSoftmax(on);
      try {
        checkAgainstReference({
          lossName: "infoNce",
          loss: infoNce,
          reference,
          softmax: on,
          seeds: [1, 2, 3, 4, 5],
          mix: [1009, 31],
        });
      } finally {
        setInfoNceSoftmax(was);
      }
    },
  });
}

Deno.test({
  name: "native infoNce's softmax path matches finite differences of itself (float32)",
  ignore: !haveDnnl,
  async fn() {
    await useBackend("native", { quiet: true });
    const was = setInfoNceSoftmax(true);
    try {
      checkFiniteDifferences("infoNce", infoNce);
    } finally {
      setInfoNceSoftmax(was);
    }
  },
});

Deno.test({
  name: "native infoNce: the softmax and log-sum-exp paths agree at n = 256, d = 128",
  ignore: !haveDnnl,
  async fn() {
    await useBackend("native", { quiet: true });
    checkPathsAgree(infoNce, setInfoNceSoftmax, 256);
  },
});
