/**
 * What `deno task mutate` found the loss tests let through: the exact error messages (house
 * style: "Cannot compute <loss>: <what> must ..., received ..."), so a message that names the
 * wrong argument or dimension fails, and the edge values the docs allow (a zero weight or margin,
 * the smallest batch) that a stricter check would wrongly reject.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  barlowTwinsLoss,
  contrastiveLoss,
  featureFlat,
  infoNce,
  mocoInfoNce,
  negativeCosine,
  nPairLoss,
  ntXent,
  sinkhorn,
  swavLoss,
  tripletLoss,
  vicregLoss,
} from "../../losses/mod.ts";
import { assertTensorClose, pcg32, setupBackend } from "../_utils.ts";
import { randn, refBarlow, refTriplet, refVicreg } from "./_reference.ts";

await setupBackend();

/** Seeded uniform values of any shape, typed as the matrix most arguments expect. */
function t(shape: number[], seed = 1): tf.Tensor2D {
  const x: tf.Tensor = tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, pcg32(seed)),
    shape,
  );
  return x as tf.Tensor2D;
}

/** Calls `f` and checks the exact message (and the error class). */
function throwsExactly(f: () => unknown, kind: typeof TypeError, message: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof kind, `expected a ${kind.name}, received ${e}`);
    assert.equal((e as Error).message, message);
    return true;
  });
}

Deno.test("loss errors name the loss, the argument and its dimensions exactly", () => {
  const v = t([4]); // rank 1 where [n, d] is expected
  const a = t([4, 3]), b = t([4, 3], 2), c = t([4, 2], 3);
  const rank2 = (loss: string, name: string, dims = "[n, d]") =>
    `Cannot compute ${loss}: ${name} must have rank 2 (shape ${dims}), received shape [4]`;
  const same = (loss: string, x: string, y: string) =>
    `Cannot compute ${loss}: ${x} and ${y} must have the same shape, received [4,3] and [4,2]`;
  const labels = tf.tensor1d([0, 0, 1, 1], "int32");
  const cases: [() => unknown, typeof TypeError, string][] = [
    [() => barlowTwinsLoss(v as tf.Tensor2D, a), TypeError, rank2("Barlow Twins loss", "z1")],
    [() => barlowTwinsLoss(a, v as tf.Tensor2D), TypeError, rank2("Barlow Twins loss", "z2")],
    [() => barlowTwinsLoss(a, c), TypeError, same("Barlow Twins loss", "z1", "z2")],
    [
      () => barlowTwinsLoss(a, b, { lambda: -1 }),
      RangeError,
      "Cannot compute Barlow Twins loss: lambda must be a finite number >= 0, received -1",
    ],
    [
      () => barlowTwinsLoss(t([1, 3]), t([1, 3])),
      RangeError,
      "Cannot compute Barlow Twins loss: the batch must have at least 2 rows to standardize, received [1,3]",
    ],
    [
      () => barlowTwinsLoss(a, b, { lamda: 1 } as never),
      TypeError,
      'Cannot compute Barlow Twins loss: unknown option "lamda"; expected some of lambda',
    ],
    [
      () => contrastiveLoss(v as tf.Tensor2D, labels),
      TypeError,
      rank2("contrastive loss", "embeddings"),
    ],
    [
      () => contrastiveLoss(a, labels, { posMargin: NaN }),
      RangeError,
      "Cannot compute contrastive loss: posMargin must be finite, received NaN",
    ],
    [
      () => contrastiveLoss(a, labels, { negMargin: Infinity }),
      RangeError,
      "Cannot compute contrastive loss: negMargin must be finite, received Infinity",
    ],
    [
      () => contrastiveLoss(a, labels, { distance: "manhattan" as never }),
      RangeError,
      'Cannot compute contrastive loss: distance must be one of "euclidean", "cosine", received "manhattan"',
    ],
    [
      () => contrastiveLoss(a, labels, { margin: 1 } as never),
      TypeError,
      'Cannot compute contrastive loss: unknown option "margin"; expected some of posMargin, negMargin, distance',
    ],
    [
      () => featureFlat(a as unknown as tf.Tensor3D),
      TypeError,
      "Cannot compute featureFlat: features must have rank 3 (shape [B, L, D]), received shape [4,3]",
    ],
    [
      () => featureFlat(t([2, 3, 2]) as unknown as tf.Tensor3D, { poolSize: 0 }),
      RangeError,
      "Cannot compute featureFlat: poolSize must be an integer >= 1, received 0",
    ],
    [
      () => featureFlat(t([2, 3, 2]) as unknown as tf.Tensor3D, { pool: 5 } as never),
      TypeError,
      'Cannot compute featureFlat: unknown option "pool"; expected some of poolSize',
    ],
    [
      () => infoNce(a, b, { tau: 1 } as never),
      TypeError,
      'Cannot compute InfoNCE: unknown option "tau"; expected some of temperature',
    ],
    [
      () => ntXent(a, b, { tau: 1 } as never),
      TypeError,
      'Cannot compute NT-Xent: unknown option "tau"; expected some of temperature',
    ],
    [
      () => mocoInfoNce(a, b, t([5, 3]), { tau: 1 } as never),
      TypeError,
      'Cannot compute MoCo InfoNCE: unknown option "tau"; expected some of temperature',
    ],
    [
      () => mocoInfoNce(v as tf.Tensor2D, b, t([5, 3])),
      TypeError,
      rank2("MoCo InfoNCE", "q"),
    ],
    [() => nPairLoss(v as tf.Tensor2D, a), TypeError, rank2("N-pair loss", "anchors")],
    [() => nPairLoss(a, v as tf.Tensor2D), TypeError, rank2("N-pair loss", "positives")],
    [() => nPairLoss(a, c), TypeError, same("N-pair loss", "anchors", "positives")],
    [
      () => nPairLoss(a, b, { l2Reg: -1 }),
      RangeError,
      "Cannot compute N-pair loss: l2Reg must be a finite number >= 0, received -1",
    ],
    [
      () => nPairLoss(a, b, { l2: 1 } as never),
      TypeError,
      'Cannot compute N-pair loss: unknown option "l2"; expected some of l2Reg',
    ],
    [() => negativeCosine(v as tf.Tensor2D, a), TypeError, rank2("negative cosine", "p")],
    [() => negativeCosine(a, v as tf.Tensor2D), TypeError, rank2("negative cosine", "z")],
    [
      () => sinkhorn(v as tf.Tensor2D),
      TypeError,
      rank2("Sinkhorn codes", "scores", "[B, K]"),
    ],
    [
      () => sinkhorn(a, { epsilon: 0 }),
      RangeError,
      "Cannot compute Sinkhorn codes: epsilon must be a finite number > 0, received 0",
    ],
    [
      () => sinkhorn(a, { iterations: 0 }),
      RangeError,
      "Cannot compute Sinkhorn codes: iterations must be an integer >= 1, received 0",
    ],
    [
      () => sinkhorn(a, { eps: 1 } as never),
      TypeError,
      'Cannot compute Sinkhorn: unknown option "eps"; expected some of iterations, epsilon',
    ],
    [
      () => tripletLoss(v as tf.Tensor2D, labels),
      TypeError,
      rank2("triplet loss", "embeddings"),
    ],
    [
      () => tripletLoss(a, labels, { margin: -0.1 }),
      RangeError,
      "Cannot compute triplet loss: margin must be a finite number >= 0, received -0.1",
    ],
    [
      () => tripletLoss(a, labels, { mining: "easy" as never }),
      RangeError,
      'Cannot compute triplet loss: mining must be one of "all", "hard", "semihard", received "easy"',
    ],
    [
      () => tripletLoss(a, labels, { distance: "l1" as never }),
      RangeError,
      'Cannot compute triplet loss: distance must be one of "euclidean", "cosine", received "l1"',
    ],
    [
      () => tripletLoss(a, labels, { alpha: 1 } as never),
      TypeError,
      'Cannot compute triplet loss: unknown option "alpha"; expected some of margin, mining, distance',
    ],
    [() => vicregLoss(v as tf.Tensor2D, a), TypeError, rank2("VICReg loss", "z1")],
    [() => vicregLoss(a, v as tf.Tensor2D), TypeError, rank2("VICReg loss", "z2")],
    [() => vicregLoss(a, c), TypeError, same("VICReg loss", "z1", "z2")],
    ...(["invariance", "variance", "covariance"] as const).map((k): [
      () => unknown,
      typeof TypeError,
      string,
    ] => [
      () => vicregLoss(a, b, { [k]: -2 }),
      RangeError,
      `Cannot compute VICReg loss: ${k} must be a finite number >= 0, received -2`,
    ]),
    [
      () => vicregLoss(t([1, 3]), t([1, 3])),
      RangeError,
      "Cannot compute VICReg loss: the batch must have at least 2 rows for variances, received [1,3]",
    ],
    [
      () => vicregLoss(a, b, { lambda: 1 } as never),
      TypeError,
      'Cannot compute VICReg loss: unknown option "lambda"; expected some of invariance, variance, covariance',
    ],
  ];
  for (const [f, kind, message] of cases) throwsExactly(f, kind, message);
  tf.dispose([v, a, b, c, labels]);
});

Deno.test("SwAV loss errors name the crop, the queue and the option exactly", () => {
  const s = t([4, 3]), s2 = t([4, 3], 2), odd = t([4, 2], 3), bad = t([4]);
  const cases: [() => unknown, typeof TypeError, string][] = [
    [
      () => swavLoss(s as never, [s2]),
      TypeError,
      "Cannot compute SwAV loss: highRes and lowRes must be arrays of [B, K] tensors, received object and object",
    ],
    [
      () => swavLoss([s], s2 as never),
      TypeError,
      "Cannot compute SwAV loss: highRes and lowRes must be arrays of [B, K] tensors, received object and object",
    ],
    [
      () => swavLoss([], [s, s2]),
      RangeError,
      "Cannot compute SwAV loss: at least one high-resolution crop is needed, received 0",
    ],
    [
      () => swavLoss([s], []),
      RangeError,
      "Cannot compute SwAV loss: at least 2 crops are needed for swapped prediction, received 1",
    ],
    [
      () => swavLoss([s, bad as tf.Tensor2D], []),
      TypeError,
      "Cannot compute SwAV loss: highRes[1] must have rank 2 (shape [B, K]), received shape [4]",
    ],
    [
      () => swavLoss([s], [bad as tf.Tensor2D]),
      TypeError,
      "Cannot compute SwAV loss: lowRes[0] must have rank 2 (shape [B, K]), received shape [4]",
    ],
    [
      () => swavLoss([s, s2], [s, bad as tf.Tensor2D]),
      TypeError,
      "Cannot compute SwAV loss: lowRes[1] must have rank 2 (shape [B, K]), received shape [4]",
    ],
    [
      () => swavLoss([s], [s2, odd]),
      TypeError,
      "Cannot compute SwAV loss: highRes[0] and lowRes[1] must have the same shape, received [4,3] and [4,2]",
    ],
    [
      () => swavLoss([s, s2], [], { queue: [t([6, 3])] }),
      TypeError,
      "Cannot compute SwAV loss: queue must be an array with one [Q, 3] tensor per high-resolution crop (2), received 1 entries",
    ],
    [
      () => swavLoss([s, s2], [], { queue: t([6, 3]) as never }),
      TypeError,
      "Cannot compute SwAV loss: queue must be an array with one [Q, 3] tensor per high-resolution crop (2), received object",
    ],
    [
      () => swavLoss([s, s2], [], { queue: [t([6, 3]), bad as tf.Tensor2D] }),
      TypeError,
      "Cannot compute SwAV loss: queue[1] must have rank 2 (shape [Q, K]), received shape [4]",
    ],
    [
      () => swavLoss([s, s2], [], { queue: [t([6, 3]), t([6, 2])] }),
      TypeError,
      "Cannot compute SwAV loss: queue[1] must have shape [Q, 3], received [6,2]",
    ],
    [
      () => swavLoss([s, s2], [], { temperature: 0 }),
      RangeError,
      "Cannot compute SwAV loss: temperature must be a finite number > 0, received 0",
    ],
    [
      () => swavLoss([s, s2], [], { epsilon: -1 }),
      RangeError,
      "Cannot compute SwAV loss: epsilon must be a finite number > 0, received -1",
    ],
    [
      () => swavLoss([s, s2], [], { iterations: 1.5 }),
      RangeError,
      "Cannot compute SwAV loss: iterations must be an integer >= 1, received 1.5",
    ],
    [
      () => swavLoss([s, s2], [], { tau: 1 } as never),
      TypeError,
      'Cannot compute SwAV loss: unknown option "tau"; expected some of temperature, iterations, epsilon, queue',
    ],
  ];
  for (const [f, kind, message] of cases) throwsExactly(f, kind, message);
  tf.dispose([s, s2, odd, bad]);
});

Deno.test("a zero weight or margin is allowed and drops its term; two rows are enough", () => {
  const prng = pcg32(5);
  const [z1, z2] = [randn(6, 4, prng), randn(6, 4, prng)];
  const [a, b] = [tf.tensor2d(z1), tf.tensor2d(z2)];
  const tol = { rtol: 1e-4, atol: 1e-5 };
  // Barlow Twins with lambda 0: the on-diagonal term alone
  assertTensorClose(barlowTwinsLoss(a, b, { lambda: 0 }), refBarlow(z1, z2, 0), tol, "barlow:");
  // VICReg with one weight at a time: each term alone; two rows are a valid batch
  for (const [i, v, c] of [[1, 0, 0], [0, 1, 0], [0, 0, 1]]) {
    const w = { invariance: i, variance: v, covariance: c };
    assertTensorClose(vicregLoss(a, b, w), refVicreg(z1, z2, i, v, c), tol, `vicreg ${i}${v}${c}:`);
  }
  const [a2, b2] = [tf.tensor2d(z1.slice(0, 2)), tf.tensor2d(z2.slice(0, 2))];
  assertTensorClose(
    vicregLoss(a2, b2),
    refVicreg(z1.slice(0, 2), z2.slice(0, 2), 25, 25, 1),
    tol,
    "vicreg n = 2:",
  );
  // triplet with margin 0: max(d(a, p) - d(a, n), 0) over the valid triplets
  const labels = [0, 0, 1, 1, 2, 2];
  const l = tf.tensor1d(labels, "int32");
  assertTensorClose(
    tripletLoss(a, l, { margin: 0 }),
    refTriplet(z1, labels, 0, "all", "euclidean"),
    tol,
    "triplet margin 0:",
  );
  tf.dispose([a, b, a2, b2, l]);
});
