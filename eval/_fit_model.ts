import { tf } from "../backend/tf.ts";
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  batchLoss,
  fitLoop,
  headLogits,
  type LabeledImages,
  scoreOutputs,
  toImageSet,
  trainableVariables,
} from "./_supervised.ts";
import type { FineTuneOptions, FineTuneResult } from "./fine_tune.ts";

const defaultPreprocess = (x: tf.Tensor4D) => tf.div(tf.cast(x, "float32"), 255) as tf.Tensor4D;

/** The loop shared with `trainSupervised`. */
export async function fitModel(
  encoder: tfl.LayersModel,
  head: tfl.LayersModel,
  data: LabeledImages,
  options: FineTuneOptions,
  defaults: { lr: number; epochs: number },
  what: string,
): Promise<FineTuneResult> {
  const {
    lr = defaults.lr,
    epochs = defaults.epochs,
    batchSize = 8,
    preprocess = defaultPreprocess,
    test,
    trainEncoder = true,
    blank,
  } = options;
  const set = await toImageSet(data, preprocess, what);
  const variables = trainEncoder ? trainableVariables(encoder, head) : trainableVariables(head);
  const losses = await fitLoop(
    set.n,
    variables,
    (order, start, end) =>
      tf.tidy(() => {
        const x = set.batch(order, start, end);
        const features = encoder.apply(x, { training: trainEncoder }) as tf.Tensor;
        return batchLoss(
          headLogits(head, features, true),
          set.targets,
          order.subarray(start, end),
          blank,
        );
      }),
    { ...options, lr, epochs, batchSize },
    what,
  );
  if (!test) return { losses };
  const testSet = await toImageSet(test, preprocess, what);
  const metrics = scoreOutputs(
    testSet.n,
    testSet.targets,
    (order, start, end) =>
      tf.tidy(() => {
        const features = encoder.apply(testSet.batch(order, start, end), { training: false });
        return headLogits(head, features as tf.Tensor, false);
      }),
    64,
    blank,
  );
  return { losses, metrics };
}
