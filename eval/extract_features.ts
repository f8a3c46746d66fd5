import { tf } from "../backend/tf.ts";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { EvalDataset } from "./_types.ts";

export type { EvalDataset, EvalSample } from "./_types.ts";

/** Options for {@linkcode extractFeatures}. */
export interface ExtractFeaturesOptions {
  /**
   * Images per forward pass; bounds the memory of one pass.
   * @default 256
   */
  batchSize?: number;
  /**
   * Turns a uint8 batch `[B, H, W, C]` read from a dataset into the encoder's input. Only used
   * for dataset inputs; a tensor input is fed as it is.
   * @default x => x / 255 (float32 in [0, 1])
   */
  preprocess?: (batch: tf.Tensor4D) => tf.Tensor;
  /**
   * What to do with an encoder output of rank > 2 (`[B, L, D]` sequence features, `[B, h, w, D]`
   * maps): `"none"` keeps it, `"mean"` averages every axis between batch and channels (giving
   * `[B, D]`), `"flatten"` reshapes to `[B, L*D]`.
   * @default "none"
   */
  pool?: "none" | "mean" | "flatten";
}

function pooled(y: tf.Tensor, pool: "none" | "mean" | "flatten"): tf.Tensor {
  if (y.rank <= 2 || pool === "none") return y;
  if (pool === "flatten") return tf.reshape(y, [y.shape[0], -1]);
  const axes = Array.from({ length: y.rank - 2 }, (_, i) => i + 1);
  return tf.mean(y, axes);
}

async function datasetBatch(
  data: EvalDataset,
  start: number,
  end: number,
): Promise<tf.Tensor4D> {
  const [h, w, c] = data.shape;
  const size = h * w * c;
  const buf = new Uint8Array((end - start) * size);
  for (let i = start; i < end; i++) {
    const { image } = await data.get(i);
    if (image.length !== size) {
      throw new TypeError(
        `Cannot extract features: sample ${i} must have ${size} bytes for shape [${data.shape}], received ${image.length}`,
      );
    }
    buf.set(image, (i - start) * size);
  }
  return tf.tensor4d(buf, [end - start, h, w, c], "int32");
}

/**
 * Runs an encoder over images in inference mode (`training: false`, so BatchNormalization uses
 * its moving statistics and dropout is off) in batches, and gathers the outputs.
 *
 * Returns one tensor `[N, ...outputShape]` (`[N, D]` for a pooled encoder, `[N, L, D]` for a
 * sequence encoder unless `pool` says otherwise) that the caller owns and disposes. Nothing else
 * stays allocated.
 *
 * @param encoder a LayersModel mapping `[B, H, W, C]` images to features
 * @param images a float tensor `[N, H, W, C]` already in the encoder's input range, or a dataset
 *   of uint8 images (turned into input by `preprocess`)
 * @returns the features, shape `[N, ...]`
 *
 * @example
 * ```ts
 * import { extractFeatures } from "./extract_features.ts";
 * import { tf } from "../backend/tf.ts";
 * import * as tfl from "@tensorflow/tfjs-layers";
 * import assert from "node:assert/strict";
 * const enc = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [2, 2, 1] })] });
 * const feats = await extractFeatures(enc, tf.zeros([5, 2, 2, 1]) as tf.Tensor4D, { batchSize: 2 });
 * assert.deepEqual(feats.shape, [5, 4]);
 * ```
 */
export async function extractFeatures(
  encoder: tfl.LayersModel,
  images: tf.Tensor4D | EvalDataset,
  options: ExtractFeaturesOptions = {},
): Promise<tf.Tensor> {
  const {
    batchSize = 256,
    preprocess = (x: tf.Tensor4D) => tf.div(tf.cast(x, "float32"), 255),
    pool = "none",
  } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `Cannot extract features: batchSize must be a positive integer, received ${batchSize}`,
    );
  }
  const isTensor = images instanceof tf.Tensor;
  if (isTensor && images.rank !== 4) {
    throw new TypeError(
      `Cannot extract features: images must have rank 4 [N, H, W, C], received shape [${images.shape}]`,
    );
  }
  const n = isTensor ? images.shape[0] : images.length;
  const parts: tf.Tensor[] = [];
  let done = false;
  try {
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const raw = isTensor ? null : await datasetBatch(images, start, end);
      const out = tf.tidy(() => {
        const x = isTensor
          ? tf.slice(images, [start, 0, 0, 0], [end - start, -1, -1, -1])
          : preprocess(raw as tf.Tensor4D);
        const y = encoder.apply(x, { training: false });
        if (Array.isArray(y)) {
          throw new TypeError(
            `Cannot extract features: the encoder must have one output, received ${y.length}`,
          );
        }
        return pooled(y as tf.Tensor, pool);
      });
      raw?.dispose();
      parts.push(out);
    }
    if (parts.length === 0) {
      throw new RangeError("Cannot extract features: expected at least one image, received 0");
    }
    const all = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    done = parts.length === 1;
    return all;
  } finally {
    if (!done) tf.dispose(parts);
  }
}
