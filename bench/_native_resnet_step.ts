/**
 * The ResNet-18 SimCLR step the native benches time (CIFAR stem, batch 64, two 32x32 views as one
 * batch of 128, head 512-512-128, NT-Xent tau 0.5, SGD momentum 0.9 lr 0.03). The views are made
 * once, outside the timed step, on both sides of bench/peers/native_step_peer.ts.
 *
 * @module
 */
import { tf } from "../backend/tf.ts";
import { createMethod, disposeStaleState, type MethodSetup } from "../methods/mod.ts";

/** A built ResNet-18 step: `step()` runs one SGD step and returns the loss. */
export interface ResnetStep {
  /** One step (forward, backward, update) on the fixed views; returns the loss. */
  step(): number;
  /** Frees the images, views and optimizer. */
  dispose(): void;
}

/** Builds the ResNet-18 SimCLR step on the current backend (seeded weights and images). */
export function buildResnetStep(batch = 64): ResnetStep {
  const setup: MethodSetup = createMethod("simclr", {
    encoder: "resnet18",
    inputShape: [32, 32, 3],
    seed: 1,
  });
  const images = tf.randomUniform([batch, 32, 32, 3], 0, 1, "float32", 1) as tf.Tensor4D;
  const views = setup.method.views(images, 1);
  const optimizer = tf.train.momentum(0.03, 0.9);
  let i = 0;
  return {
    step() {
      const context = { progress: 0.5, step: 1000 + i++, epoch: 0 };
      let next = setup.state;
      const loss = optimizer.minimize(
        () => {
          const r = setup.method.step(setup.nets, views, setup.state, context);
          tf.dispose(Object.values(r.metrics));
          next = r.state;
          return r.loss;
        },
        true,
        setup.method.trainable(setup.nets),
      )!;
      const value = loss.dataSync()[0];
      loss.dispose();
      disposeStaleState(setup.state, next);
      setup.state = next;
      return value;
    },
    dispose() {
      tf.dispose([images, ...views]);
      optimizer.dispose();
    },
  };
}
