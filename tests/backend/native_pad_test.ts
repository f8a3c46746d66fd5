import assert from "node:assert/strict";
import { tf, useBackend } from "../../backend/mod.ts";
import { registerNativeBackend } from "../../backend/native/mod.ts";
import { assertNoLeak, pcg32, randomNormal } from "../_utils.ts";

await registerNativeBackend();

/** MirrorPad by its definition, one index at a time (float64). */
function refMirrorPad(
  x: Float64Array,
  shape: number[],
  paddings: [number, number][],
  mode: "reflect" | "symmetric",
): Float64Array {
  const outShape = shape.map((n, d) => n + paddings[d][0] + paddings[d][1]);
  const out = new Float64Array(outShape.reduce((p, n) => p * n, 1));
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let rem = o;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = rem % outShape[d];
      rem = Math.floor(rem / outShape[d]);
    }
    let src = 0;
    for (let d = 0; d < shape.length; d++) {
      let i = idx[d] - paddings[d][0];
      const n = shape[d];
      if (i < 0) i = mode === "reflect" ? -i : -i - 1;
      else if (i >= n) i = mode === "reflect" ? 2 * n - 2 - i : 2 * n - 1 - i;
      src = src * n + i;
    }
    out[o] = x[src];
  }
  return out;
}

Deno.test("native MirrorPad (reflect, symmetric) matches the definition for NHWC and other ranks", async () => {
  await useBackend("native", { quiet: true });
  const prng = pcg32(47);
  const cases: [number[], [number, number][]][] = [
    [[2, 5, 6, 3], [[0, 0], [4, 4], [4, 4], [0, 0]]],
    [[3, 7, 5, 1], [[0, 0], [2, 3], [0, 1], [0, 0]]],
    [[4, 6], [[1, 2], [3, 0]]],
    [[5], [[4, 2]]],
    [[2, 3, 4, 2], [[1, 1], [0, 0], [2, 1], [1, 0]]],
  ];
  for (const [shape, paddings] of cases) {
    for (const mode of ["reflect", "symmetric"] as const) {
      // reflect needs pads below the size; symmetric allows equal
      if (mode === "reflect" && paddings.some(([a, b], d) => Math.max(a, b) >= shape[d])) continue;
      const n = shape.reduce((p, v) => p * v, 1);
      const x = Float64Array.from(Float32Array.from(randomNormal(n, prng)));
      const want = refMirrorPad(x, shape, paddings, mode);
      await assertNoLeak(() => {
        const t = tf.tensor(Float32Array.from(x), shape);
        const y = tf.mirrorPad(t, paddings, mode);
        assert.deepEqual(
          Array.from(y.dataSync()),
          Array.from(want),
          `${shape} ${paddings} ${mode}`,
        );
        return [t, y];
      });
    }
  }
});
