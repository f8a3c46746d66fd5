/**
 * `losses/_contrastive.ts`, the logits and checks that the three contrastive accuracies (and the
 * checks of NT-Xent, InfoNCE and MoCo's InfoNCE) are built on: each logits builder against a
 * float64 reference (NT-Xent's self logit pushed at least 1e4 below every other logit, MoCo's key
 * and queue given no gradient), NT-Xent's accuracy still ignoring the self logit at a tiny
 * temperature where every cosine is negative, and each check's exact class and message for each
 * argument it names, with the smallest batch it accepts. Written for
 * `deno task mutate losses/_contrastive.ts`: before it, the logits were reached only through the
 * accuracies' hit rates, and most checks' messages were unpinned.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  infoNceLogits,
  mocoLogits,
  ntXentLogits,
  validateMoco,
  validatePair,
} from "../../losses/_contrastive.ts";
import { infoNceAccuracy, mocoAccuracy, ntXentAccuracy } from "../../losses/mod.ts";
import { assertTensorClose, pcg32, setupBackend } from "../_utils.ts";
import { dot, normalize, randn } from "./_reference.ts";

await setupBackend();

const t2 = (m: number[][]) => tf.tensor2d(m);
const cos = (a: number[], b: number[]) => dot(normalize(a), normalize(b));

/** Asserts `fn` throws exactly `kind` with exactly `message`. */
function refuses(fn: () => void, kind: ErrorConstructor, message: string): void {
  assert.throws(fn, (e: Error) => {
    assert.equal(e.constructor, kind, `${e.constructor.name}: ${e.message}`);
    assert.equal(e.message, message);
    return true;
  });
}

Deno.test("infoNceLogits: cosines of the rows over τ, [n, n], and their diagonal", () => {
  const prng = pcg32(1701);
  const z1 = randn(5, 3, prng, 2), z2 = randn(5, 3, prng, 0.5);
  const tau = 0.3;
  tf.tidy(() => {
    const { logits, positive } = infoNceLogits(t2(z1), t2(z2), tau);
    assertTensorClose(logits, z1.map((a) => z2.map((b) => cos(a, b) / tau)), {
      rtol: 1e-5,
      atol: 1e-5,
    });
    assertTensorClose(positive, z1.map((a, i) => cos(a, z2[i]) / tau), { rtol: 1e-5, atol: 1e-5 });
    assert.deepEqual(positive.shape, [5]);
  });
});

Deno.test("ntXentLogits: [2n, 2n] cosines over τ, self at most -1/τ - 1e4, positives [2n]", () => {
  const prng = pcg32(1702);
  const n = 3;
  const z1 = randn(n, 4, prng, 3), z2 = randn(n, 4, prng);
  const z = [...z1, ...z2];
  for (const tau of [0.5, 0.07]) {
    tf.tidy(() => {
      const { logits, positive } = ntXentLogits(t2(z1), t2(z2), tau);
      assert.deepEqual(logits.shape, [2 * n, 2 * n]);
      const got = logits.arraySync();
      for (let i = 0; i < 2 * n; i++) {
        for (let j = 0; j < 2 * n; j++) {
          if (i === j) {
            // 1/τ - (2/τ + 1e4): below the smallest cosine logit -1/τ by 1e4
            assert.ok(Math.abs(got[i][i] - (-1 / tau - 1e4)) < 1e-2, `self ${i}: ${got[i][i]}`);
          } else {
            const want = cos(z[i], z[j]) / tau;
            assert.ok(Math.abs(got[i][j] - want) < 1e-5 * (1 + Math.abs(want)), `${i},${j}`);
          }
        }
      }
      const pos = z1.map((a, i) => cos(a, z2[i]) / tau);
      assertTensorClose(positive, [...pos, ...pos], { rtol: 1e-5, atol: 1e-5 });
    });
  }
});

Deno.test("ntXentAccuracy ignores the self logit at τ = 1e-4 when every cosine is negative", () => {
  // a regular tetrahedron's vertices (pairwise cosine -1/3), each second view nudged toward its
  // first: every cosine stays negative and each anchor's other view is its nearest, so all four
  // anchors hit at any τ. A self logit masked by less than 2/τ would win at τ = 1e-4.
  const v = [[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]];
  const z1 = [v[0], v[1]];
  const z2 = [v[2].map((x, i) => x + 0.2 * v[0][i]), v[3].map((x, i) => x + 0.2 * v[1][i])];
  const z = [...z1, ...z2];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) if (i !== j) assert.ok(cos(z[i], z[j]) < -0.1);
  }
  tf.tidy(() => {
    for (const temperature of [1e-4, 0.5, 100]) {
      assert.equal(
        ntXentAccuracy(t2(z1), t2(z2), { temperature }).dataSync()[0],
        1,
        `${temperature}`,
      );
      assert.equal(
        infoNceAccuracy(t2(z1), t2(z2), { temperature }).dataSync()[0],
        1,
        `${temperature}`,
      );
      const queue = t2([v[2], v[3]]);
      assert.equal(
        mocoAccuracy(t2(z1), t2(z1), queue, { temperature }).dataSync()[0],
        1,
        `${temperature}`,
      );
    }
  });
});

Deno.test("mocoLogits: q·k/τ [n] and q·queueᵀ/τ [n, K] of normalized rows; k and queue get no gradient", () => {
  const prng = pcg32(1703);
  const q = randn(4, 3, prng, 2), k = randn(4, 3, prng), queue = randn(6, 3, prng, 5);
  const tau = 0.2;
  tf.tidy(() => {
    const { positive, negatives } = mocoLogits(t2(q), t2(k), t2(queue), tau);
    assertTensorClose(positive, q.map((a, i) => cos(a, k[i]) / tau), { rtol: 1e-5, atol: 1e-5 });
    assertTensorClose(negatives, q.map((a) => queue.map((u) => cos(a, u) / tau)), {
      rtol: 1e-5,
      atol: 1e-5,
    });
    const w = tf.tensor1d([1, -2, 0.5, 3]);
    const f = (x: tf.Tensor, y: tf.Tensor, u: tf.Tensor) => {
      const l = mocoLogits(x as tf.Tensor2D, y as tf.Tensor2D, u as tf.Tensor2D, tau);
      return tf.add(tf.sum(tf.mul(l.positive, w)), tf.sum(tf.square(l.negatives)));
    };
    const [gq, gk, gu] = tf.grads(f)([t2(q), t2(k), t2(queue)]);
    assert.ok(tf.max(tf.abs(gq)).dataSync()[0] > 0.1, "q gets a gradient");
    assert.equal(tf.max(tf.abs(gk)).dataSync()[0], 0, "k gets none");
    assert.equal(tf.max(tf.abs(gu)).dataSync()[0], 0, "the queue gets none");
  });
});

Deno.test("validatePair: exact message per argument; n = 2 is the smallest batch accepted", () => {
  const L = "Test loss";
  tf.tidy(() => {
    const ok = tf.zeros([4, 2]);
    refuses(
      () => validatePair(L, tf.zeros([4]), ok, 0.5),
      TypeError,
      `Cannot compute ${L}: z1 must have rank 2 (shape [n, d]), received shape [4]`,
    );
    refuses(
      () => validatePair(L, ok, tf.zeros([4, 2, 1]), 0.5),
      TypeError,
      `Cannot compute ${L}: z2 must have rank 2 (shape [n, d]), received shape [4,2,1]`,
    );
    refuses(
      () => validatePair(L, ok, tf.zeros([4, 3]), 0.5),
      TypeError,
      `Cannot compute ${L}: z1 and z2 must have the same shape, received [4,2] and [4,3]`,
    );
    refuses(
      () => validatePair(L, ok, ok, 0),
      RangeError,
      `Cannot compute ${L}: temperature must be a finite number > 0, received 0`,
    );
    refuses(
      () => validatePair(L, tf.ones([1, 2]), tf.ones([1, 2]), 0.5),
      RangeError,
      `Cannot compute ${L}: it needs at least 2 pairs (n >= 2) so each has a negative, received shape [1,2]`,
    );
    validatePair(L, tf.ones([2, 2]), tf.ones([2, 2]), 0.5);
  });
});

Deno.test("validateMoco: exact message per argument, the queue's width against q's", () => {
  const L = "Test loss";
  tf.tidy(() => {
    const ok = tf.zeros([4, 2]);
    const queue = tf.zeros([5, 2]);
    refuses(
      () => validateMoco(L, tf.zeros([4]), ok, queue, 0.2),
      TypeError,
      `Cannot compute ${L}: q must have rank 2 (shape [n, d]), received shape [4]`,
    );
    refuses(
      () => validateMoco(L, ok, tf.zeros([4]), queue, 0.2),
      TypeError,
      `Cannot compute ${L}: k must have rank 2 (shape [n, d]), received shape [4]`,
    );
    refuses(
      () => validateMoco(L, ok, tf.zeros([3, 2]), queue, 0.2),
      TypeError,
      `Cannot compute ${L}: q and k must have the same shape, received [4,2] and [3,2]`,
    );
    refuses(
      () => validateMoco(L, ok, ok, tf.zeros([5]), 0.2),
      TypeError,
      `Cannot compute ${L}: queue must have rank 2 (shape [K, d]), received shape [5]`,
    );
    refuses(
      () => validateMoco(L, ok, ok, tf.zeros([0, 2]), 0.2),
      RangeError,
      `Cannot compute ${L}: queue must not be empty (K >= 1), received shape [0,2]`,
    );
    refuses(
      () => validateMoco(L, ok, ok, tf.zeros([5, 3]), 0.2),
      TypeError,
      `Cannot compute ${L}: queue must have shape [K, 2] like q's feature size, received [5,3]`,
    );
    refuses(
      () => validateMoco(L, ok, ok, queue, -1),
      RangeError,
      `Cannot compute ${L}: temperature must be a finite number > 0, received -1`,
    );
    validateMoco(L, tf.zeros([1, 2]), tf.zeros([1, 2]), tf.zeros([1, 2]), 0.2);
  });
});

Deno.test("the accuracies name themselves in their checks", () => {
  tf.tidy(() => {
    const one = tf.ones([1, 2]) as tf.Tensor2D, z = tf.ones([3, 2]) as tf.Tensor2D;
    refuses(
      () => ntXentAccuracy(one, one),
      RangeError,
      "Cannot compute NT-Xent accuracy: it needs at least 2 pairs (n >= 2) so each has a negative, received shape [1,2]",
    );
    refuses(
      () => infoNceAccuracy(z, z, { temperature: 0 }),
      RangeError,
      "Cannot compute InfoNCE accuracy: temperature must be a finite number > 0, received 0",
    );
    refuses(
      () => mocoAccuracy(z, z, tf.ones([4, 3]) as tf.Tensor2D),
      TypeError,
      "Cannot compute MoCo accuracy: queue must have shape [K, 2] like q's feature size, received [4,3]",
    );
  });
});
