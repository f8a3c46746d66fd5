import { tf } from "../backend/tf.ts";

/**
 * Runs `f(x)` as one opaque op with a zero gradient. Unlike `stopGradient(f(x))` (or
 * `f(stopGradient(x))`), the ops inside `f` are not recorded on the gradient tape (tfjs records no
 * ops inside a custom-gradient kernel), so backpropagation never walks through them: Sinkhorn's
 * iterations, a max for log-sum-exp (whose gradient would cost an `Equal` over the whole matrix) or
 * the normalization of a MoCo queue cost nothing in the backward pass.
 */
export function noGrad<T extends tf.Tensor>(x: tf.Tensor, f: (x: tf.Tensor) => T): T {
  const op = tf.customGrad(
    ((input: tf.Tensor) => ({
      value: f(input),
      gradFunc: (_dy: tf.Tensor) => tf.zerosLike(input),
    })) as unknown as Parameters<typeof tf.customGrad>[0],
  );
  return op(x) as T;
}

// The wasm backend's XNNPACK matMul is ~7-10x slower with transposeA/transposeB than with plain
// operands (measured here: [256,128]·[8192,128]ᵀ 1.05 s vs transpose 34 ms + plain 141 ms), and
// tfjs' own matMul gradient uses transposed products. These helpers transpose explicitly there.
const wasmMatMulT = tf.customGrad(
  ((a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([a, b]);
    return {
      value: tf.matMul(a, tf.transpose(b)),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sa, sb] = saved as tf.Tensor2D[];
        return [tf.matMul(dy, sb), tf.matMul(tf.transpose(dy), sa)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
);

/** `a·bᵀ` for `a` `[n, d]` and `b` `[m, d]`: `[n, m]`, differentiable in both. */
export function matMulT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (tf.getBackend() !== "wasm") return tf.matMul(a, b, false, true);
  return wasmMatMulT(a, b) as tf.Tensor2D;
}

/**
 * `a·bᵀ` where `b` `[m, d]` gets no gradient (a MoCo queue): its gradient is zeros, and the
 * `[m, d]` product `dyᵀ·a` that would be thrown away is never computed.
 */
export function matMulTConst(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return constMatMulT(a, b) as tf.Tensor2D;
}

const constMatMulT = tf.customGrad(
  ((a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([b]);
    const wasm = tf.getBackend() === "wasm";
    return {
      value: wasm ? tf.matMul(a, tf.transpose(b)) : tf.matMul(a, b, false, true),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const sb = saved[0] as tf.Tensor2D;
        return [tf.matMul(dy, sb), tf.zerosLike(sb)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
);
