import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { convDecoder } from "../models/decoder.ts";
import { buildEncoder, tidyStep, variablesOf, zStd } from "./_common.ts";
import { abGamutBins, annealedMean, rebalanceWeights, softEncodeAb } from "./pretext/ab_bins.ts";
import { zhangAbBins } from "./pretext/_ab_bins_313.ts";
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
  /**
   * The ab bin set: `zhang313`, the 313 bins Zhang et al. ship (`pts_in_hull.npy`, data wider
   * than the sRGB gamut), or `gamut261`, the 261 grid-10 bins an 8-bit sRGB pixel can fall in
   * ({@linkcode abGamutBins}, derivable, no bin that real pixels never reach).
   * @default {"zhang313"} (Zhang et al. 2016, Q = 313)
   */
  bins?: "zhang313" | "gamut261";
  /**
   * `convolutional`: a per-pixel Q-way distribution predicted from the encoder's last feature
   * map (before its global pooling) by a 3x3 conv (`hiddenDim` channels, default 128) + BN +
   * ReLU and a zero-initialized 1x1 conv, bilinearly
   * resized to the ab map (Zhang et al.'s conv8 head; needs an encoder that ends in
   * `globalAveragePooling2d`). `pooled`: a {@linkcode convDecoder} from the pooled vector.
   * @default {"convolutional"} (Zhang et al. 2016: fully convolutional)
   */
  head?: "convolutional" | "pooled";
  /**
   * Images `[N, H, W, C]` in [0, 1] over which the class-rebalancing prior is computed once,
   * before training (Zhang et al. compute it over ImageNet's training set): the soft-encoded ab
   * histogram of their ab maps. Without it the prior is the running histogram of the batches
   * seen so far (kept in the state), an estimate that starts from one batch.
   * @default {undefined} (running estimate)
   */
  priorImages?: tf.Tensor4D;
}

/** Colorization's networks. */
export interface ColorizationNets {
  /** L `[B, H, W, 1]` (L / 100) to features; used downstream (on grayscale images). */
  encoder: tfl.LayersModel;
  /**
   * The head: the encoder's last feature map (`convolutional`) or pooled vector (`pooled`) to
   * bin logits `[B, h, w, Q]` or ab / 100 `[B, h, w, 2]`.
   */
  decoder: tfl.LayersModel;
}

/**
 * Colorization's state: the running soft-encoded ab histogram `[Q]` (the rebalancing prior),
 * used when no `priorImages` were given.
 */
export interface ColorizationState {
  /** Soft-encoded target mass per bin so far (absent before the first step, or with a fixed prior). */
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
 * pixel of the ab map, a distribution over the ab bins (default Zhang's 313, `pts_in_hull`;
 * `bins: "gamut261"` for the 261 bins derived from the sRGB gamut, {@linkcode abGamutBins}),
 * fully convolutionally from the encoder's last feature map (`head`), trained with
 * cross-entropy against targets soft-encoded over the 5 nearest bins (sigma 5) and weighted by
 * class rebalancing (lambda 0.5) from the ab prior, computed over `priorImages` before training
 * (the paper) or, without them, the running histogram kept in the state; decoded by the
 * annealed mean (T = 0.38) and upsampled bilinearly. `l1` / `l2` regress ab directly. Gray
 * inputs (1 channel) are first pseudo-coloured by {@linkcode orientationTint}. Views:
 * `[L / 100 [B,H,W,1], ab [B,h,w,2]]` (ab average-pooled by `outputStride`).
 * Metrics: `abError` (mean |ab| error of the decoded colours, in Lab units), `grayError` (the
 * error of predicting gray, to beat), `top1` (bin accuracy, classification), `zStd`.
 *
 * @param options encoder, input shape, seed, loss, outputStride, neighbors, sigma, lambda,
 * temperature, bins, head, priorImages, hiddenDim
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
    bins: binSet = "zhang313",
    head = "convolutional",
    priorImages,
    hiddenDim = 128,
  } = options;
  if (!["classification", "l1", "l2"].includes(loss)) {
    throw new RangeError(
      `Cannot build colorization: loss must be classification, l1 or l2, received ${loss}`,
    );
  }
  if (binSet !== "zhang313" && binSet !== "gamut261") {
    throw new RangeError(
      `Cannot build colorization: bins must be zhang313 or gamut261, received ${binSet}`,
    );
  }
  if (head !== "convolutional" && head !== "pooled") {
    throw new RangeError(
      `Cannot build colorization: head must be convolutional or pooled, received ${head}`,
    );
  }
  const stages = Math.log2(outputStride);
  if (!Number.isInteger(stages) || stages < 0 || h % outputStride || w % outputStride) {
    throw new RangeError(
      `Cannot build colorization: outputStride must be a power of 2 dividing ${h}x${w}, received ${outputStride}`,
    );
  }
  const bins = binSet === "zhang313" ? zhangAbBins() : abGamutBins();
  const q = bins.length / 2;
  const classify = loss === "classification";
  const oh = h / outputStride, ow = w / outputStride;
  const outChannels = classify ? q : 2;
  let decoder: tfl.LayersModel;
  const pool = built.encoder.layers[built.encoder.layers.length - 1];
  if (head === "convolutional") {
    if (pool.getClassName() !== "GlobalAveragePooling2D") {
      throw new TypeError(
        `Cannot build colorization: the convolutional head needs an encoder ending in globalAveragePooling2d, received ${pool.getClassName()} (use head: "pooled")`,
      );
    }
    const fmap = pool.input as tfl.SymbolicTensor;
    const [, fh, fw, fc] = fmap.shape as number[];
    const input = tfl.input({ shape: [fh, fw, fc] });
    let x = tfl.layers.conv2d({ filters: hiddenDim, kernelSize: 3, padding: "same" })
      .apply(input) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization({}).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.reLU().apply(x) as tfl.SymbolicTensor;
    // zero-initialized output: the head starts at gray (regression) or uniform bins
    x = tfl.layers.conv2d({ filters: outChannels, kernelSize: 1, kernelInitializer: "zeros" })
      .apply(x) as tfl.SymbolicTensor;
    decoder = tfl.model({ inputs: input, outputs: x, name: "colorization_head" });
  } else {
    // decoder up to the ab map's size: at most two upsampling stages, each divisibility-checked
    const up = [16, 16].slice(
      0,
      Math.min(2, [2, 4].filter((f) => oh % f === 0 && ow % f === 0).length),
    );
    decoder = convDecoder(built.dim, {
      outputShape: [oh, ow, outChannels],
      widths: up,
      activation: "linear",
      name: "colorization_decoder",
    });
  }
  const nets: ColorizationNets = { encoder: built.encoder, decoder };
  // the encoder up to its last feature map, sharing its layers (cached per encoder)
  const trunks = new WeakMap<tfl.LayersModel, tfl.LayersModel>();
  const trunkOf = (encoder: tfl.LayersModel): tfl.LayersModel => {
    let t = trunks.get(encoder);
    if (!t) {
      const last = encoder.layers[encoder.layers.length - 1];
      t = tfl.model({ inputs: encoder.inputs, outputs: last.input as tfl.SymbolicTensor });
      trunks.set(encoder, t);
    }
    return t;
  };
  /** Pooled features `[B, D]` and the head's output at the ab map's size `[B, oh, ow, Q|2]`. */
  const forward = (n: ColorizationNets, l: tf.Tensor4D, training: boolean) => {
    if (head === "pooled") {
      const z = n.encoder.apply(l, { training }) as tf.Tensor2D;
      return { z, out: n.decoder.apply(z, { training }) as tf.Tensor4D };
    }
    const map = trunkOf(n.encoder).apply(l, { training }) as tf.Tensor4D;
    const z = tf.mean(map, [1, 2]) as tf.Tensor2D;
    let out = n.decoder.apply(map, { training }) as tf.Tensor4D;
    if (out.shape[1] !== oh || out.shape[2] !== ow) {
      out = tf.image.resizeBilinear(out, [oh, ow]); // upsampled as Zhang's decoding is
    }
    return { z, out };
  };
  const centers = () => tf.tensor2d(bins, [q, 2]);
  const decodeAb = (out: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => {
      const [b, y, x] = out.shape;
      const ab = classify
        ? annealedMean(tf.reshape(out, [-1, q]) as tf.Tensor2D, centers(), { temperature })
        : tf.mul(tf.reshape(out, [-1, 2]), 100);
      return tf.reshape(ab, [b, y, x, 2]) as tf.Tensor4D;
    });
  const views = (images: tf.Tensor4D): tf.Tensor4D[] =>
    tf.tidy(() => {
      const rgb = images.shape[3] === 1 ? orientationTint(images) : images;
      const lab = rgbToLab(rgb);
      const [l, ab] = tf.split(lab, [1, 2], 3);
      const abSmall = outputStride === 1
        ? ab
        : tf.avgPool(ab as tf.Tensor4D, outputStride, outputStride, "valid");
      return [tf.div(l, 100) as tf.Tensor4D, abSmall as tf.Tensor4D];
    });
  // the fixed prior (Zhang et al.: over the training set, before training) and its weights
  let fixedWeights: tf.Tensor1D | undefined;
  if (classify && priorImages) {
    if (!(priorImages instanceof tf.Tensor) || priorImages.rank !== 4 || priorImages.shape[0] < 1) {
      throw new TypeError(
        `Cannot build colorization: priorImages must be images [N, H, W, C], received ${
          priorImages instanceof tf.Tensor ? `[${priorImages.shape}]` : String(priorImages)
        }`,
      );
    }
    fixedWeights = tf.tidy(() => {
      const c = centers();
      let prior = tf.zeros([q]) as tf.Tensor1D;
      const n = priorImages.shape[0];
      for (let i = 0; i < n; i += 256) {
        const chunk = tf.slice(priorImages, [i, 0, 0, 0], [Math.min(256, n - i), -1, -1, -1]);
        const [, ab] = views(chunk as tf.Tensor4D);
        const t = softEncodeAb(tf.reshape(ab, [-1, 2]) as tf.Tensor2D, c, { neighbors, sigma });
        prior = tf.add(prior, tf.sum(t, 0));
      }
      return rebalanceWeights(prior, c, { lambda, sigma });
    });
  }
  const method = {
    name: "colorization",
    bins,
    views,
    step(nets: ColorizationNets, views: tf.Tensor4D[], state: ColorizationState) {
      return tidyStep(() => {
        const [l, ab] = views;
        const { z, out } = forward(nets, l, true);
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
        let weights = fixedWeights;
        let next = state;
        if (!weights) {
          const prior = tf.add(state.prior ?? tf.zeros([q]), tf.sum(target, 0)) as tf.Tensor1D;
          weights = rebalanceWeights(prior, c, { lambda, sigma }); // [Q]
          next = { prior };
        }
        const v = tf.gather(weights, tf.argMax(target, 1)); // [N]
        const logits = tf.reshape(out, [-1, q]);
        const ce = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1));
        metrics.top1 = tf.mean(
          tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(target, 1)), "float32"),
        );
        return { loss: tf.mean(tf.mul(v, ce)) as tf.Scalar, metrics, state: next };
      });
    },
    trainable: (nets: ColorizationNets) => variablesOf([nets.encoder, nets.decoder]),
    colorize(nets: ColorizationNets, l: tf.Tensor4D): tf.Tensor4D {
      return tf.tidy(() => {
        const { out } = forward(nets, l, false);
        const ab = tf.image.resizeBilinear(decodeAb(out), [l.shape[1], l.shape[2]]);
        return tf.clipByValue(labToRgb(tf.concat([tf.mul(l, 100), ab], 3)), 0, 1) as tf.Tensor4D;
      });
    },
  };
  return { method, nets, state: {}, encoder: built.encoder };
}
