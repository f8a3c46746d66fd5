/** Issue 13's loose ends in the losses: misspelled options, a negative margin, a single pair. */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  barlowTwinsLoss,
  contrastiveLoss,
  featureFlat,
  infoNce,
  infoNceAccuracy,
  mocoAccuracy,
  mocoInfoNce,
  nPairLoss,
  ntXent,
  ntXentAccuracy,
  sinkhorn,
  swavLoss,
  tripletLoss,
  vicregLoss,
} from "../../losses/mod.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

Deno.test("every loss rejects an unknown option key instead of using its default", () => {
  const z1 = tf.randomNormal([4, 3], 0, 1, "float32", 1) as tf.Tensor2D;
  const z2 = tf.randomNormal([4, 3], 0, 1, "float32", 2) as tf.Tensor2D;
  const queue = tf.randomNormal([5, 3], 0, 1, "float32", 3) as tf.Tensor2D;
  const labels = tf.tensor1d([0, 0, 1, 1], "int32");
  const seq = tf.zeros([2, 10, 3]) as tf.Tensor3D;
  const before = tf.memory().numTensors;
  const bad = { temp: 0.1 } as never;
  const calls: [string, () => unknown][] = [
    ["NT-Xent", () => ntXent(z1, z2, bad)],
    ["NT-Xent accuracy", () => ntXentAccuracy(z1, z2, bad)],
    ["InfoNCE", () => infoNce(z1, z2, bad)],
    ["InfoNCE accuracy", () => infoNceAccuracy(z1, z2, bad)],
    ["MoCo InfoNCE", () => mocoInfoNce(z1, z2, queue, bad)],
    ["MoCo accuracy", () => mocoAccuracy(z1, z2, queue, bad)],
    ["triplet loss", () => tripletLoss(z1, labels, bad)],
    ["contrastive loss", () => contrastiveLoss(z1, labels, bad)],
    ["N-pair loss", () => nPairLoss(z1, z2, bad)],
    ["Sinkhorn", () => sinkhorn(z1, bad)],
    ["SwAV loss", () => swavLoss([z1, z2], [z1, z2], bad)],
    ["featureFlat", () => featureFlat(seq, bad)],
    ["Barlow Twins loss", () => barlowTwinsLoss(z1, z2, bad)],
    ["VICReg loss", () => vicregLoss(z1, z2, bad)],
  ];
  for (const [name, call] of calls) {
    assert.throws(
      call,
      (e: Error) =>
        e instanceof TypeError && e.message.includes(`Cannot compute ${name}`) &&
        /unknown option "temp"; expected/.test(e.message),
      name,
    );
  }
  assert.throws(() => ntXent(z1, z2, null as never), /options must be an object, received null/);
  assert.equal(tf.memory().numTensors, before, "nothing leaked");
  tf.dispose([z1, z2, queue, labels, seq]);
});

Deno.test("tripletLoss refuses a negative margin; NT-Xent and InfoNCE refuse a single pair", () => {
  const z = tf.randomNormal([4, 3], 0, 1, "float32", 1) as tf.Tensor2D;
  const labels = tf.tensor1d([0, 0, 1, 1], "int32");
  assert.throws(() => tripletLoss(z, labels, { margin: -1 }), RangeError);
  assert.throws(
    () => tripletLoss(z, labels, { margin: -1 }),
    /margin must be a finite number >= 0/,
  );
  tripletLoss(z, labels, { margin: 0 }).dispose();
  const one = tf.ones([1, 3]) as tf.Tensor2D;
  for (const f of [ntXent, infoNce]) {
    assert.throws(() => f(one, one), /at least 2 pairs \(n >= 2\).*received shape \[1,3\]/);
  }
  tf.dispose([z, labels, one]);
});
