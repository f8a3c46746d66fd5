import { tf } from "./tf.ts";

const stopGradientOp = tf.customGrad(
  ((x: tf.Tensor) => ({
    value: tf.clone(x),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  })) as unknown as Parameters<typeof tf.customGrad>[0],
);

/**
 * Identity in the forward pass, zero gradient in the backward pass (TensorFlow's
 * `tf.stop_gradient`, PyTorch's `detach`; tfjs has none).
 *
 * @param x any tensor
 * @returns a tensor equal to `x` through which no gradient flows
 *
 * @example
 * ```ts
 * import { stopGradient, tf } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, stopGradient(x))))(tf.tensor1d([3]));
 * assert.equal(g.dataSync()[0], 3); // d/dx (x * sg(x)) = sg(x)
 * ```
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stopGradientOp(x) as T;
}
