import assert from "node:assert/strict";
import { convNet } from "../../models/mod.ts";
import { withSeed } from "../../backend/with_seed.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

/** Max |w| and std of each Conv2D kernel of a model, with its fan-in. */
function convKernels(net: ReturnType<typeof convNet>) {
  return net.layers.filter((l) => l.getClassName() === "Conv2D").map((l) => {
    const w = l.getWeights()[0];
    const [kh, kw, cin] = w.shape;
    const v = w.dataSync();
    let max = 0, sum = 0, sq = 0;
    for (const x of v) {
      max = Math.max(max, Math.abs(x));
      sum += x;
      sq += x * x;
    }
    const mean = sum / v.length;
    return { fanIn: kh * kw * cin, max, std: Math.sqrt(sq / v.length - mean * mean), n: v.length };
  });
}

Deno.test("convNet draws its kernels as PyTorch's nn.Conv2d default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))", () => {
  // PyTorch: kaiming_uniform_(a = sqrt(5)) -> gain sqrt(2 / 6), bound gain * sqrt(3 / fan_in)
  // = 1 / sqrt(fan_in); a uniform on [-b, b] has std b / sqrt(3).
  const net = withSeed(3, () => convNet({ widths: [16, 32, 64] }));
  for (const { fanIn, max, std, n } of convKernels(net)) {
    const bound = 1 / Math.sqrt(fanIn);
    assert.ok(max <= bound * (1 + 1e-6), `max |w| ${max} above the bound ${bound}`);
    // the largest of n >= 144 uniform draws lies within 5% of the bound (P(fail) < 0.001)
    assert.ok(max >= bound * 0.95, `max |w| ${max} far below the bound ${bound} (n ${n})`);
    // std of n draws: relative standard error ~ sqrt(0.8 / n) <= 7.5% for n = 144; allow 4 SE
    const tol = 4 * Math.sqrt(0.8 / n);
    assert.ok(
      Math.abs(std / (bound / Math.sqrt(3)) - 1) < tol,
      `std ${std} vs ${bound / Math.sqrt(3)} (fan_in ${fanIn}, tolerance ${tol})`,
    );
  }
  net.dispose();
});

Deno.test("convNet init 'he-normal' keeps tfjs' heNormal kernels, 2.15x PyTorch's std", () => {
  const net = withSeed(3, () => convNet({ widths: [16, 32, 64], init: "he-normal" }));
  for (const { fanIn, std, n } of convKernels(net)) {
    // tfjs truncates a normal of std sqrt(2 / fan_in) at 2 std without rescaling: the draws'
    // std is 0.8796 sqrt(2 / fan_in)
    const expected = 0.87962566103423978 * Math.sqrt(2 / fanIn);
    const tol = 4 * Math.sqrt(0.5 / n);
    assert.ok(Math.abs(std / expected - 1) < tol, `std ${std} vs ${expected}`);
  }
  net.dispose();
});
