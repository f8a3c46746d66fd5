import { tf } from "../backend/tf.ts";

/** Class labels as a tensor, a typed array or a plain array. */
export type ClassLabels = tf.Tensor | ArrayLike<number>;

/** Reads class labels into an Int32Array, checking they are integers. */
export function toLabelArray(labels: ClassLabels, what: string): Int32Array {
  const values = labels instanceof tf.Tensor ? labels.dataSync() as ArrayLike<number> : labels;
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(
        `Cannot ${what}: labels must be non-negative integers, received ${v} at index ${i}`,
      );
    }
    out[i] = v;
  }
  return out;
}

/** Checks a features argument is a 2-D tensor and returns its `[n, d]`. */
export function shape2d(x: tf.Tensor, name: string, what: string): [number, number] {
  if (!(x instanceof tf.Tensor) || x.rank !== 2) {
    throw new TypeError(
      `Cannot ${what}: ${name} must be a 2-D tensor [n, d], received ${
        x instanceof tf.Tensor ? `shape [${x.shape}]` : typeof x
      }`,
    );
  }
  return [x.shape[0], x.shape[1] as number];
}
