/**
 * The reference training step (issue 8), written with plain tfjs ops so every backend runs the
 * same graph and other frameworks can reproduce it:
 *
 * encoder conv3x3(3->32)+BN+ReLU, conv3x3(32->32)+BN+ReLU plus residual, max-pool 2,
 * conv3x3(32->64)+BN+ReLU, conv3x3(64->64)+BN+ReLU plus residual, global average pool,
 * dense 64->128 + ReLU, dense 128->128; NT-Xent (tau 0.2) on two views (random horizontal flip,
 * reflect-pad 4 then random 32x32 crop, brightness x0.8-1.2) of one batch of 64 random 32x32x3
 * images; plain SGD, lr 0.05. Both views go through the encoder as one batch of 128.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { pcg32, type Prng } from "../data/prng.ts";

/** A built reference step: call `step()` for one SGD step; `dispose()` frees everything. */
export interface ReferenceStep {
  /** Runs one step (augment, forward, backward, update) and returns the loss. */
  step(): number;
  /** Frees the images, parameters and optimizer. */
  dispose(): void;
}

function normal(prng: Prng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(prng(), 1e-12);
    out[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * prng());
  }
  return out;
}

/**
 * Two augmented views of `images` (`[B, 32, 32, 3]` values) as one `[2B, 32, 32, 3]` tensor:
 * random horizontal flip, reflect-pad 4 then a random 32x32 crop, brightness x0.8-1.2. Done on the
 * host in one pass (the same work on every backend), as a data loader would.
 */
function twoViews(images: Float32Array, b: number, prng: Prng): tf.Tensor4D {
  const out = new Float32Array(2 * b * 32 * 32 * 3);
  // Reflect padding: padded coordinate p in [0, 40) reads source index reflect(p - 4).
  const reflect = (i: number) => (i < 0 ? -i : i > 31 ? 62 - i : i);
  let o = 0;
  for (let v = 0; v < 2; v++) {
    for (let i = 0; i < b; i++) {
      const flip = prng() < 0.5;
      const oy = Math.floor(prng() * 9);
      const ox = Math.floor(prng() * 9);
      const scale = 0.8 + 0.4 * prng();
      const base = i * 32 * 32 * 3;
      for (let y = 0; y < 32; y++) {
        const sy = reflect(y + oy - 4);
        for (let x = 0; x < 32; x++) {
          // Flip the padded image, then crop: column x of the crop is padded column ox + x.
          const px = ox + x;
          const sx = reflect((flip ? 39 - px : px) - 4);
          const src = base + (sy * 32 + sx) * 3;
          out[o++] = images[src] * scale;
          out[o++] = images[src + 1] * scale;
          out[o++] = images[src + 2] * scale;
        }
      }
    }
  }
  return tf.tensor4d(out, [2 * b, 32, 32, 3]);
}

function convBnRelu(
  x: tf.Tensor4D,
  w: tf.Variable,
  gamma: tf.Variable,
  beta: tf.Variable,
): tf.Tensor4D {
  const y = tf.conv2d(x, w as tf.Tensor4D, 1, "same");
  const { mean, variance } = tf.moments(y, [0, 1, 2]);
  return tf.relu(tf.batchNorm(y, mean, variance, beta, gamma, 1e-5)) as tf.Tensor4D;
}

/** NT-Xent (SimCLR, Chen et al. 2020) on `z` = [z1; z2], shape `[2n, d]`. */
function ntXent(z: tf.Tensor2D, tau: number): tf.Scalar {
  const n2 = z.shape[0];
  const n = n2 / 2;
  const zn = tf.div(z, tf.norm(z, 2, 1, true));
  const logits = tf.sub(tf.div(tf.matMul(zn, zn, false, true), tau), tf.mul(tf.eye(n2), 1e4)); // [2n, 2n]
  const positives = Array.from({ length: n2 }, (_, i) => (i + n) % n2);
  const labels = tf.oneHot(tf.tensor1d(positives, "int32"), n2);
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
}

/**
 * Builds the reference step on the current backend with seeded images and weights.
 * @param batch images per view
 * @param seed seeds images, weights and augmentations
 */
export function buildReferenceStep(batch = 64, seed = 1): ReferenceStep {
  const prng = pcg32(seed);
  const images = Float32Array.from({ length: batch * 32 * 32 * 3 }, () => prng());
  // tf.variable copies its initial value: free the initial tensors (16 leaked per build before).
  const variable = (init: tf.Tensor) => {
    const v = tf.variable(init);
    init.dispose();
    return v;
  };
  const he = (shape: number[], fanIn: number) =>
    variable(
      tf.tensor(normal(prng, shape.reduce((p, v) => p * v, 1), Math.sqrt(2 / fanIn)), shape),
    );
  const ones = (n: number) => variable(tf.ones([n]));
  const zeros = (n: number) => variable(tf.zeros([n]));
  const p = {
    w1: he([3, 3, 3, 32], 27),
    g1: ones(32),
    b1: zeros(32),
    w2: he([3, 3, 32, 32], 288),
    g2: ones(32),
    b2: zeros(32),
    w3: he([3, 3, 32, 64], 288),
    g3: ones(64),
    b3: zeros(64),
    w4: he([3, 3, 64, 64], 576),
    g4: ones(64),
    b4: zeros(64),
    d1: he([64, 128], 64),
    c1: zeros(128),
    d2: he([128, 128], 128),
    c2: zeros(128),
  };
  const params = Object.values(p);
  const optimizer = tf.train.sgd(0.05);
  const loss = (views: tf.Tensor4D) => {
    const a1 = convBnRelu(views, p.w1, p.g1, p.b1);
    const a2 = tf.add(a1, convBnRelu(a1, p.w2, p.g2, p.b2)) as tf.Tensor4D;
    const pooled = tf.maxPool(a2, 2, 2, "valid") as tf.Tensor4D;
    const a3 = convBnRelu(pooled, p.w3, p.g3, p.b3);
    const a4 = tf.add(a3, convBnRelu(a3, p.w4, p.g4, p.b4));
    const features = tf.mean(a4, [1, 2]) as tf.Tensor2D; // [2B, 64]
    const h = tf.relu(tf.add(tf.matMul(features, p.d1 as tf.Tensor2D), p.c1)) as tf.Tensor2D;
    const z = tf.add(tf.matMul(h, p.d2 as tf.Tensor2D), p.c2) as tf.Tensor2D; // [2B, 128]
    return ntXent(z, 0.2);
  };
  return {
    step() {
      const views = twoViews(images, batch, prng);
      const value = optimizer.minimize(() => loss(views), true, params)!;
      const out = value.dataSync()[0];
      tf.dispose([views, value]);
      return out;
    },
    dispose() {
      tf.dispose(params);
      optimizer.dispose();
    },
  };
}
