import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { sinkhorn, swavLoss } from "../../losses/mod.ts";
import { assertNoLeak, assertTensorClose, checkGradient, pcg32, setupBackend } from "../_utils.ts";
import { refSwav } from "./_reference.ts";

await setupBackend();
const t2 = (m: number[][]) => tf.tensor2d(m);
function uniform(rows: number, cols: number, prng: () => number, range = 1): number[][] {
  return Array.from(
    { length: rows },
    () => Array.from({ length: cols }, () => range * (2 * prng() - 1)),
  );
}

Deno.test("swavLoss matches SwAV's main_swav.py loss in float64 (multi-crop, with and without queue)", () => {
  const prng = pcg32(391);
  const B = 8, K = 5;
  const cases: [number, number, boolean, number][] = [[2, 0, false, 0.1], [2, 3, false, 0.1], [
    2,
    4,
    true,
    0.1,
  ], [
    1,
    1,
    false,
    0.5,
  ], [3, 2, true, 0.2]];
  for (const [nh, nl, withQueue, temperature] of cases) {
    const high = Array.from({ length: nh }, () => uniform(B, K, prng));
    const low = Array.from({ length: nl }, () => uniform(B, K, prng));
    const queue = withQueue ? Array.from({ length: nh }, () => uniform(6, K, prng)) : undefined;
    const expected = refSwav(high, low, temperature, 3, 0.05, queue);
    tf.tidy(() =>
      assertTensorClose(
        swavLoss(high.map(t2), low.map(t2), { temperature, queue: queue?.map(t2) }),
        expected,
        { rtol: 1e-4, atol: 1e-5 },
        `${nh}+${nl} crops, queue ${withQueue}:`,
      )
    );
  }
  // the queue really changes the codes
  const high = [uniform(B, K, prng), uniform(B, K, prng)];
  const queue = [uniform(20, K, prng, 0.2), uniform(20, K, prng, 0.2)];
  assert.notEqual(refSwav(high, [], 0.1, 3, 0.05), refSwav(high, [], 0.1, 3, 0.05, queue));
  tf.tidy(() => {
    assertTensorClose(
      swavLoss(high.map(t2), [], { queue: queue.map(t2) }),
      refSwav(high, [], 0.1, 3, 0.05, queue),
      {
        rtol: 1e-4,
        atol: 1e-5,
      },
    );
  });
});

Deno.test("swavLoss is symmetric in the order of the high-resolution crops", () => {
  const prng = pcg32(392);
  const a = t2(uniform(6, 4, prng)), b = t2(uniform(6, 4, prng)), c = t2(uniform(6, 4, prng));
  tf.tidy(() => {
    assertTensorClose(swavLoss([a, b], [c]), swavLoss([b, a], [c]).dataSync()[0], {
      rtol: 1e-6,
      atol: 1e-6,
    });
  });
  tf.dispose([a, b, c]);
});

Deno.test("swavLoss gradients: low-res crops by finite differences; high-res crops see their codes as constants", () => {
  const prng = pcg32(393);
  const B = 5, K = 4, tau = 0.5;
  const h0 = t2(uniform(B, K, prng)), h1 = t2(uniform(B, K, prng)), low = t2(uniform(B, K, prng));
  checkGradient((x) => swavLoss([h0, h1], [x as tf.Tensor2D], { temperature: tau }), low, {
    eps: 1e-2,
    rtol: 2e-2,
    atol: 2e-3,
  });
  tf.tidy(() => {
    // With 3 crops, h0 appears as predictor for h1's codes (and of nothing else that depends on it).
    const q1 = sinkhorn(h1);
    const manual = tf.grad((x: tf.Tensor) =>
      tf.div(tf.neg(tf.mean(tf.sum(tf.mul(q1, tf.logSoftmax(tf.div(x, tau))), 1))), 2 * 2)
    )(h0);
    const got = tf.grad((x: tf.Tensor) =>
      swavLoss([x as tf.Tensor2D, h1], [low], { temperature: tau })
    )(h0);
    assertTensorClose(got, manual, { rtol: 1e-4, atol: 1e-6 });
  });
  tf.dispose([h0, h1, low]);
});

Deno.test("swavLoss stays finite at temperature 0.01 with large scores (B=64, K=300)", () => {
  const prng = pcg32(394);
  tf.tidy(() => {
    const crops = [0, 1, 2, 3].map(() => t2(uniform(64, 300, prng, 5)));
    const loss = swavLoss(crops.slice(0, 2), crops.slice(2), { temperature: 0.01 });
    assert.ok(Number.isFinite(loss.dataSync()[0]));
    const g = tf.grad((x: tf.Tensor) =>
      swavLoss([x as tf.Tensor2D, crops[1]], crops.slice(2), { temperature: 0.01 })
    )(
      crops[0],
    );
    assert.ok(g.dataSync().every(Number.isFinite));
  });
});

Deno.test("swavLoss validates crops, queue and options; leaks nothing", async () => {
  const a = tf.zeros([4, 3]) as tf.Tensor2D;
  const b = tf.zeros([4, 2]) as tf.Tensor2D;
  assert.throws(() => swavLoss([], [a, a]), RangeError);
  assert.throws(() => swavLoss([a], []), RangeError);
  assert.throws(() => swavLoss([a, b], []), {
    name: "TypeError",
    message:
      "Cannot compute SwAV loss: highRes[0] and highRes[1] must have the same shape, received [4,3] and [4,2]",
  });
  assert.throws(() => swavLoss(a as unknown as tf.Tensor2D[], []), TypeError);
  assert.throws(() => swavLoss([a, a], [], { queue: [a] }), TypeError);
  assert.throws(() => swavLoss([a, a], [], { queue: [a, b] }), TypeError);
  assert.throws(() => swavLoss([a, a], [], { temperature: 0 }), RangeError);
  assert.throws(() => swavLoss([a, a], [], { epsilon: -1 }), RangeError);
  assert.throws(() => swavLoss([a, a], [], { iterations: 0 }), RangeError);
  await assertNoLeak(() => swavLoss([a, a], [a], { queue: [a, a] }));
  await assertNoLeak(() => tf.grad((x: tf.Tensor) => swavLoss([x as tf.Tensor2D, a], [a]))(a));
  tf.dispose([a, b]);
});
