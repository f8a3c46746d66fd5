import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { convDecoder } from "../models/decoder.ts";
import { buildEncoder, tidyStep, variablesOf, zStd } from "./_common.ts";
import { abGamutBins, annealedMean, rebalanceWeights, softEncodeAb } from "./pretext/ab_bins.ts";
import { labToRgb, rgbToLab } from "./pretext/lab.ts";
import type { BaseMethodOptions, Method, MethodSetup } from "./types.ts";

/** Options for {@linkcode colorization}. `augment` is not used. */
export interface ColorizationOptions extends BaseMethodOptions {
  /**
   * `classification` over the in-gamut ab bins (Zhang et al. 2016), or `l2` / `l1` regression
   * of ab.
   * @default {"classification"}
   */
  loss?: "classification" | "l1" | "l2";
  /** The ab map is predicted at 1/outputStride of the input size (Zhang: 4). @default {4} */
  outputStride?: number;
  /** Soft-encoding neighbours. @default {5} */
  neighbors?: number;
  /** Soft-encoding and prior-smoothing width. @default {5} */
  sigma?: number;
  /** Class-rebalancing mix with the uniform distribution. @default {0.5} */
  lambda?: number;
  /** Annealed-mean temperature of the decoded colours. @default {0.38} */
  temperature?: number;
}

/** Colorization's networks. */
export interface ColorizationNets {
  /** L `[B, H, W, 1]` (L / 100) to features; used downstream (on grayscale images). */
  encoder: tfl.LayersModel;
  /** Features to the ab map: bin logits `[B, h, w, Q]` or ab / 100 `[B, h, w, 2]`. */
  decoder: tfl.LayersModel;
}

/** Colorization's state: the running soft-encoded ab histogram `[Q]` (the rebalancing prior). */
export interface ColorizationState {
  /** Soft-encoded target mass per bin so far (absent before the first step). */
  prior?: tf.Tensor1D;
}

/**
 * A deterministic pseudo-colour for gray images (MNIST has no colour to learn): the ink takes
 * the hue of its own orientation (twice the angle of the principal axis of the ink's second
 * moments), chroma growing with the ink. Predicting it from L needs the stroke's shape, so the
 * task stays a shape-understanding pretext. Lab `L = 20 + 60x`, chroma `60x`, clipped to sRGB.
 *
 * @param images gray images, shape `[B, H, W, 1]`, in [0, 1]
 * @returns sRGB images, shape `[B, H, W, 3]`
 *
 * @example
 * ```ts
 * import { orientationTint } from "./colorization.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(orientationTint(tf.ones([1, 4, 4, 1]) as tf.Tensor4D).shape, [1, 4, 4, 3]);
 * ```
 */
export function orientationTint(images: tf.Tensor4D): tf.Tensor4D {
  if (images.rank !== 4 || images.shape[3] !== 1) {
    throw new TypeError(
      `Cannot tint: expected gray images [B, H, W, 1], received [${images.shape}]`,
    );
  }
  return tf.tidy(() => {
    const [, h, w] = images.shape;
    const ys = tf.reshape(tf.range(0, h), [1, h, 1, 1]);
    const xs = tf.reshape(tf.range(0, w), [1, 1, w, 1]);
    const m = tf.add(tf.sum(images, [1, 2, 3], true), 1e-6);
    const avg = (t: tf.Tensor) => tf.div(tf.sum(tf.mul(images, t), [1, 2, 3], true), m);
    const dy = tf.sub(ys, avg(ys));
    const dx = tf.sub(xs, avg(xs));
    const mu20 = avg(tf.square(dx));
    const mu02 = avg(tf.square(dy));
    const mu11 = avg(tf.mul(dx, dy));
    const phi = tf.atan2(tf.mul(mu11, 2), tf.sub(mu20, mu02)); // 2 * orientation, [B,1,1,1]
    const chroma = tf.mul(images, 60);
    const lab = tf.concat([
      tf.add(tf.mul(images, 60), 20),
      tf.mul(chroma, tf.cos(phi)),
      tf.mul(chroma, tf.sin(phi)),
    ], 3);
    return tf.clipByValue(labToRgb(lab), 0, 1) as tf.Tensor4D;
  });
}

/**
 * Colorization as a pretext task (Zhang et al. 2016, arXiv:1603.08511; our source's 图片上色):
 * the image in CIE Lab (exact D65 conversion), L in, ab out. `classification` predicts, for each
 * pixel of the ab map, a distribution over the in-gamut ab bins ({@linkcode abGamutBins}, grid
 * 10: 261 bins computed from the sRGB gamut, where the paper ships 313), trained with
 * cross-entropy against targets soft-encoded over the 5 nearest bins (sigma 5) and weighted by
 * class rebalancing (lambda 0.5) from the running ab prior kept in the state; decoded by the
 * annealed mean (T = 0.38). `l1` / `l2` regress ab directly. Gray inputs (1 channel) are first
 * pseudo-coloured by {@linkcode orientationTint}. Views: `[L / 100 [B,H,W,1], ab [B,h,w,2]]`.
 * Metrics: `abError` (mean |ab| error of the decoded colours, in Lab units), `grayError` (the
 * error of predicting gray, to beat), `top1` (bin accuracy, classification), `zStd`.
 *
 * @param options encoder, input shape, seed, loss, outputStride, neighbors, sigma, lambda,
 * temperature
 * @returns the method, its nets and initial state
 *
 * @example
 * ```ts
 * import { colorization } from "./colorization.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const { method, nets, state } = colorization({
 *   encoder: "convnet", inputShape: [8, 8, 3], seed: 0, widths: [4], loss: "l2",
 * });
 * const views = method.views(tf.randomUniform([2, 8, 8, 3]) as tf.Tensor4D, 0);
 * const { loss } = method.step(nets, views, state, { progress: 0, step: 0, epoch: 0 });
 * assert.ok(loss.dataSync()[0] > 0);
 * ```
 */
export function colorization(
  options: ColorizationOptions,
): MethodSetup<ColorizationNets, ColorizationState> & {
  method: Method<ColorizationNets, ColorizationState> & {
    /** Decodes L `[B,H,W,1]` (L/100) to sRGB `[B,H,W,3]` with the current nets. */
    colorize(nets: ColorizationNets, l: tf.Tensor4D): tf.Tensor4D;
    /** The ab bin centres `[Q, 2]` (flattened). */
    readonly bins: Float32Array;
  };
} {
  const [h, w] = options.inputShape;
  const built = buildEncoder({ ...options, inputShape: [h, w, 1] });
  if (built.sequence) {
    throw new TypeError(
      "Cannot build colorization: expected an encoder with [B, D] output, received [B, L, D]",
    );
  }
  const {
    loss = "classification",
    outputStride = 4,
    neighbors = 5,
    sigma = 5,
    lambda = 0.5,
    temperature = 0.38,
  } = options;
  if (!["classification", "l1", "l2"].includes(loss)) {
    throw new RangeError(
      `Cannot build colorization: loss must be classification, l1 or l2, received ${loss}`,
    );
  }
  const stages = Math.log2(outputStride);
  if (!Number.isInteger(stages) || stages < 0 || h % outputStride || w % outputStride) {
    throw new RangeError(
      `Cannot build colorization: outputStride must be a power of 2 dividing ${h}x${w}, received ${outputStride}`,
    );
  }
  const bins = abGamutBins();
  const q = bins.length / 2;
  const classify = loss === "classification";
  const oh = h / outputStride, ow = w / outputStride;
  // decoder up to the ab map's size: at most two upsampling stages, each divisibility-checked
  const up = [16, 16].slice(
    0,
    Math.min(2, [2, 4].filter((f) => oh % f === 0 && ow % f === 0).length),
  );
  const decoder = convDecoder(built.dim, {
    outputShape: [oh, ow, classify ? q : 2],
    widths: up,
    activation: "linear",
    name: "colorization_decoder",
  });
  const nets: ColorizationNets = { encoder: built.encoder, decoder };
  const centers = () => tf.tensor2d(bins, [q, 2]);
  const decodeAb = (out: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => {
      const [b, y, x] = out.shape;
      const ab = classify
        ? annealedMean(tf.reshape(out, [-1, q]) as tf.Tensor2D, centers(), { temperature })
        : tf.mul(tf.reshape(out, [-1, 2]), 100);
      return tf.reshape(ab, [b, y, x, 2]) as tf.Tensor4D;
    });
  const method = {
    name: "colorization",
    bins,
    views(images: tf.Tensor4D) {
      return tf.tidy(() => {
        const rgb = images.shape[3] === 1 ? orientationTint(images) : images;
        const lab = rgbToLab(rgb);
        const [l, ab] = tf.split(lab, [1, 2], 3);
        const abSmall = outputStride === 1
          ? ab
          : tf.avgPool(ab as tf.Tensor4D, outputStride, outputStride, "valid");
        return [tf.div(l, 100) as tf.Tensor4D, abSmall as tf.Tensor4D];
      });
    },
    step(nets: ColorizationNets, views: tf.Tensor4D[], state: ColorizationState) {
      return tidyStep(() => {
        const [l, ab] = views;
        const z = nets.encoder.apply(l, { training: true }) as tf.Tensor2D;
        const out = nets.decoder.apply(z, { training: true }) as tf.Tensor4D;
        const abFlat = tf.reshape(ab, [-1, 2]) as tf.Tensor2D;
        const decoded = decodeAb(out);
        const metrics: Record<string, tf.Scalar> = {
          abError: tf.mean(tf.sqrt(tf.add(tf.sum(tf.square(tf.sub(decoded, ab)), 3), 1e-12))),
          grayError: tf.mean(tf.sqrt(tf.add(tf.sum(tf.square(ab), 3), 1e-12))),
          zStd: zStd(z),
        };
        if (!classify) {
          const diff = tf.sub(tf.reshape(out, [-1, 2]), tf.div(abFlat, 100));
          const value = loss === "l1" ? tf.mean(tf.abs(diff)) : tf.mean(tf.square(diff));
          return { loss: value as tf.Scalar, metrics, state };
        }
        const c = centers();
        const target = softEncodeAb(abFlat, c, { neighbors, sigma }); // [N, Q]
        const prior = tf.add(state.prior ?? tf.zeros([q]), tf.sum(target, 0)) as tf.Tensor1D;
        const weights = rebalanceWeights(prior, c, { lambda, sigma }); // [Q]
        const v = tf.gather(weights, tf.argMax(target, 1)); // [N]
        const logits = tf.reshape(out, [-1, q]);
        const ce = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1));
        metrics.top1 = tf.mean(
          tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(target, 1)), "float32"),
        );
        return { loss: tf.mean(tf.mul(v, ce)) as tf.Scalar, metrics, state: { prior } };
      });
    },
    trainable: (nets: ColorizationNets) => variablesOf([nets.encoder, nets.decoder]),
    colorize(nets: ColorizationNets, l: tf.Tensor4D): tf.Tensor4D {
      return tf.tidy(() => {
        const z = nets.encoder.apply(l, { training: false }) as tf.Tensor2D;
        const out = nets.decoder.apply(z, { training: false }) as tf.Tensor4D;
        const ab = tf.image.resizeBilinear(decodeAb(out), [l.shape[1], l.shape[2]]);
        return tf.clipByValue(labToRgb(tf.concat([tf.mul(l, 100), ab], 3)), 0, 1) as tf.Tensor4D;
      });
    },
  };
  return { method, nets, state: {}, encoder: built.encoder };
}
