import { tf } from "../../backend/tf.ts";
import { useBackend } from "../../backend/use_backend.ts";
await useBackend("cpu", { quiet: true });
const q = tf.randomNormal([3, 4]) as tf.Tensor2D, u = tf.randomNormal([5, 4]) as tf.Tensor2D;
function mm(a: tf.Tensor2D, b: tf.Tensor2D) {
  const op = tf.customGrad(((x: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([b]);
    return {
      value: tf.matMul(x, b, false, true),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => { console.log("saved", saved.length, saved[0]?.isDisposed); return tf.matMul(dy, saved[0] as tf.Tensor2D); },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(a) as tf.Tensor2D;
}
try { tf.grad((x: tf.Tensor) => tf.tidy(() => tf.sum(mm(x as tf.Tensor2D, tf.mul(u, 1)))))(q).print(); } catch (e) { console.log("B", String(e)); }
