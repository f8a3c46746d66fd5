import * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";
import { featureFlat } from "../losses/mod.ts";
import { paperAugment, simclrAugment, textAugment, twoViews } from "../augment/mod.ts";
import { pcg32 } from "../data/prng.ts";
import { applyHead, convNet, resnet18, sequenceEncoder } from "../models/mod.ts";
import type { BaseMethodOptions, HeadStyle, StepResult, ViewAugmentation } from "./types.ts";

/** The built encoder and what the heads need to know about it. */
export interface BuiltEncoder {
  encoder: tfl.LayersModel;
  /** Feature size D. */
  dim: number;
  /** Whether it emits frames `[B, L, D]`. */
  sequence: boolean;
}

/** Builds (or checks) the encoder of a method. `anySize` lets image crops vary in size. */
export function buildEncoder(options: BaseMethodOptions, anySize = false): BuiltEncoder {
  const { encoder, inputShape, widths } = options;
  if (
    !Array.isArray(inputShape) || inputShape.length !== 3 ||
    !inputShape.every((d) => Number.isInteger(d) && d > 0)
  ) {
    throw new TypeError(
      `Cannot build method: inputShape must be [height, width, channels], received ${
        JSON.stringify(inputShape)
      }`,
    );
  }
  const [h, w, c] = inputShape;
  let model: tfl.LayersModel;
  if (encoder === "resnet18") {
    model = resnet18({ inputShape: anySize ? [null, null, c] : [h, w, c], widths });
  } else if (encoder === "convnet") {
    model = convNet({ inputShape: anySize ? [null, null, c] : [h, w, c], widths });
  } else if (encoder === "sequence") {
    model = sequenceEncoder({ inputShape: [h, w, c], widths });
  } else if (encoder instanceof tfl.LayersModel) {
    model = encoder;
  } else {
    throw new TypeError(
      `Cannot build method: encoder must be "resnet18", "convnet", "sequence" or a tf.LayersModel, received ${
        String(encoder)
      }`,
    );
  }
  const shape = model.outputs[0].shape;
  if (shape.length !== 2 && shape.length !== 3) {
    throw new TypeError(
      `Cannot build method: the encoder must output [B, D] or [B, L, D], received [${shape}]`,
    );
  }
  const dim = shape[shape.length - 1];
  if (!dim) throw new TypeError(`Cannot build method: the encoder's feature size is unknown`);
  return { encoder: model, dim, sequence: shape.length === 3 };
}

/** The head style in effect. */
export function headStyle(options: BaseMethodOptions, sequence: boolean): HeadStyle {
  const { heads = sequence ? "source" : "paper" } = options;
  if (heads !== "paper" && heads !== "source") {
    throw new TypeError(
      `Cannot build method: heads must be "paper" or "source", received ${heads}`,
    );
  }
  return heads;
}

/** The default two-view builder: the user's augmentation, else SimCLR's or the text preset. */
export function twoViewBuilder(
  augment: ViewAugmentation | undefined,
  sequence: boolean,
): (images: tf.Tensor4D, seed: number) => tf.Tensor4D[] {
  const pipeline = augment ?? (sequence ? textAugment() : simclrAugment());
  return (images, seed) => twoViews(images, pipeline, seed);
}

/**
 * The paper's two views when the user gives no augmentation: MoCo v1's, MoCo v2's (also
 * SimSiam's) or BYOL's asymmetric pair (also MoCo v3's, Barlow Twins' and VICReg's), see
 * `paperAugment`; the user's augmentation (both views) or the text preset otherwise.
 */
export function paperViewBuilder(
  paper: "moco-v1" | "moco-v2" | "byol",
  augment: ViewAugmentation | undefined,
  sequence: boolean,
): (images: tf.Tensor4D, seed: number) => tf.Tensor4D[] {
  if (augment || sequence) return twoViewBuilder(augment, sequence);
  if (paper !== "byol") return twoViewBuilder(paperAugment(paper), false);
  const first = paperAugment("byol-1"), second = paperAugment("byol-2");
  return (images, seed) => {
    const prng = pcg32(seed);
    const s1 = Math.floor(prng() * 2 ** 31), s2 = Math.floor(prng() * 2 ** 31);
    return [first(images, s1), second(images, s2)];
  };
}

/**
 * encoder -> heads (per frame for sequences) -> featureFlat: `[N, P]` rows, N = B for images,
 * B * ceil(L / 5) for sequences (the source's forward_sim_siam / forward_simclr).
 */
export function embed(
  encoder: tfl.LayersModel,
  heads: tfl.LayersModel[],
  x: tf.Tensor4D,
): tf.Tensor2D {
  return tf.tidy(() => {
    let y = encoder.apply(x, { training: true }) as tf.Tensor2D | tf.Tensor3D;
    for (const head of heads) y = applyHead(head, y);
    return y.rank === 3 ? featureFlat(y as tf.Tensor3D) : y as tf.Tensor2D;
  });
}

/** Several heads' outputs in one pass: `[z, p]` after projector and after predictor. */
export function embedBoth(
  encoder: tfl.LayersModel,
  projector: tfl.LayersModel,
  predictor: tfl.LayersModel,
  x: tf.Tensor4D,
): [tf.Tensor2D, tf.Tensor2D] {
  return tf.tidy(() => {
    const f = encoder.apply(x, { training: true }) as tf.Tensor2D | tf.Tensor3D;
    const z = applyHead(projector, f);
    const p = applyHead(predictor, z);
    const flat = (t: tf.Tensor2D | tf.Tensor3D) =>
      t.rank === 3 ? featureFlat(t as tf.Tensor3D) : t as tf.Tensor2D;
    return [flat(z), flat(p)];
  });
}

/** Rows scaled to unit L2 norm. */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  // rsqrt of a clamped square norm: a finite gradient even for an all-zero row (collapse)
  return tf.tidy(() => tf.mul(x, tf.rsqrt(tf.maximum(tf.sum(tf.square(x), 1, true), 1e-24))));
}

/** The collapse monitor: std over the batch of the L2-normalized rows, averaged over dims. */
export function zStd(z: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sqrt(tf.moments(l2Normalize(z), 0).variance)));
}

/** Fraction of rows whose largest logit is on the diagonal (positives at column i). */
export function diagonalTop1(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const n = logits.shape[0];
    return tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.range(0, n, 1, "int32")), "float32"));
  });
}

/** The kernels' L2 penalties of the given models (Keras adds them to the loss; so do we). */
export function regularization(models: tfl.LayersModel[]): tf.Scalar {
  return tf.tidy(() => {
    let total: tf.Scalar = tf.scalar(0);
    for (const model of models) {
      for (const layer of model.layers) {
        const l = layer as unknown as {
          kernelRegularizer?: { apply(x: tf.Tensor): tf.Scalar };
          kernel?: { read(): tf.Tensor };
        };
        if (l.kernelRegularizer && l.kernel) {
          total = tf.add(total, l.kernelRegularizer.apply(l.kernel.read()));
        }
      }
    }
    return total;
  });
}

/** The trainable variables of some models. */
export function variablesOf(models: tfl.LayersModel[]): tf.Variable[] {
  return models.flatMap((m) => m.trainableWeights.map((w) => w.read() as tf.Variable));
}

/** Throws a RangeError unless `x` is in [lo, hi] (or (lo, hi] when `openLow`). */
export function checkRange(
  where: string,
  name: string,
  x: number,
  lo: number,
  hi: number,
  openLow = false,
): void {
  if (typeof x !== "number" || !(openLow ? x > lo : x >= lo) || !(x <= hi)) {
    throw new RangeError(
      `Cannot build ${where}: ${name} must be in ${
        openLow ? "(" : "["
      }${lo}, ${hi}], received ${x}`,
    );
  }
}

/** Throws a RangeError unless `x` is a positive integer (or 0 when `allowZero`). */
export function checkCount(where: string, name: string, x: number, allowZero = false): void {
  if (!Number.isInteger(x) || x < (allowZero ? 0 : 1)) {
    throw new RangeError(
      `Cannot build ${where}: ${name} must be a ${
        allowZero ? "non-negative" : "positive"
      } integer, received ${x}`,
    );
  }
}

/**
 * Throws a TypeError unless a step got exactly `expected` views of one shape (a two-view method
 * called with one view used to fail deep inside with "reading 'dtype'").
 */
export function checkViews(method: string, views: readonly tf.Tensor[], expected: number): void {
  if (views.length !== expected) {
    throw new TypeError(
      `Cannot run a ${method} step: expected ${expected} views, received ${views.length}`,
    );
  }
  const shape = views[0].shape;
  for (let i = 1; i < views.length; i++) {
    if (views[i].shape.join(",") !== shape.join(",")) {
      throw new TypeError(
        `Cannot run a ${method} step: every view must have the same shape, received [${shape}] and [${
          views[i].shape
        }]`,
      );
    }
  }
}

/** `tf.tidy` for a step: keeps the loss, metrics and state tensors, disposes the rest. */
export function tidyStep<S>(fn: () => StepResult<S>): StepResult<S> {
  return tf.tidy(fn as unknown as () => tf.TensorContainer) as unknown as StepResult<S>;
}
