/**
 * Kernel counts of `logSumExpMatMul` for the tests of the work `losses/_ops.ts` does
 * (`ops_work_test.ts`, `ops_keep_logits_test.ts`).
 *
 * @module
 */
import { tf } from "../../backend/tf.ts";
import { logSumExpMatMul, type LogSumExpMatMulOptions } from "../../losses/_ops.ts";

/** Kernel names and how often each ran, in `f` (the loss and its gradients). */
export async function kernels(f: () => tf.Tensor[]): Promise<Map<string, number>> {
  const profile = await tf.profile(() => {
    tf.dispose(f());
    return [];
  });
  const counts = new Map<string, number>();
  for (const k of profile.kernels) counts.set(k.name, (counts.get(k.name) ?? 0) + 1);
  return counts;
}

/** `logSumExpMatMul` on `[r, d]`, `[c, d]` inputs of evenly spaced values, value and all gradients. */
export function run(
  r: number,
  c: number,
  d: number,
  options: LogSumExpMatMulOptions,
  extra = false,
): () => tf.Tensor[] {
  return () =>
    tf.tidy(() => {
      const a = tf.reshape(tf.linspace(-1, 1, r * d), [r, d]) as tf.Tensor2D;
      const b = tf.reshape(tf.linspace(1, -0.5, c * d), [c, d]) as tf.Tensor2D;
      const t = tf.zeros([r]) as tf.Tensor1D;
      const xs = extra ? [a, b, t, tf.ones([r]) as tf.Tensor1D] : [a, b, t];
      const { value, grads } = tf.valueAndGrads((...v: tf.Tensor[]) =>
        logSumExpMatMul(
          v[0] as tf.Tensor2D,
          v[1] as tf.Tensor2D,
          v[2] as tf.Tensor1D,
          v[3] as tf.Tensor1D | undefined,
          options,
        )
      )(xs);
      return [value, ...grads];
    });
}
