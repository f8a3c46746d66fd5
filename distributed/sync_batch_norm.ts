import { tf } from "../backend/tf.ts";
import type { World } from "./world.ts";
import { allLayers, netsContents } from "./_walk.ts";

interface BatchNormInternals {
  axis: number;
  epsilon: number;
  momentum: number;
  gamma: { read(): tf.Tensor } | null;
  beta: { read(): tf.Tensor } | null;
  movingMean: { read(): tf.Tensor; write(v: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(v: tf.Tensor): void };
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor;
  __selfsupSync?: boolean;
}

/**
 * Synchronized batch normalization (PyTorch's SyncBatchNorm; SimCLR's global BN across TPU
 * cores): every BatchNormalization layer of the nets, in training mode, normalizes with the
 * mean and (biased) variance of the global batch, all ranks' rows together, and updates its
 * moving averages from them as tfjs-layers does. Gradients flow through the all-reduces, so
 * data-parallel training equals one process on the global batch. Inference is unchanged.
 * Layers are patched in place, once; the channel axis must be the last. Costs two all-reduces
 * of `C + 1` floats per layer in the forward pass and two in the backward pass.
 *
 * @param nets a method's nets (models found in fields, arrays and nested objects)
 * @param world the ranks (from `initWorld`)
 * @returns the number of BatchNormalization layers patched
 *
 * @example
 * ```ts
 * import { initWorld, syncBatchNorm } from "./mod.ts";
 * import { convNet } from "../models/mod.ts";
 * import assert from "node:assert/strict";
 * const encoder = convNet({ inputShape: [8, 8, 1], widths: [4] });
 * assert.equal(syncBatchNorm({ encoder }, initWorld({ mpi: "never" })), 2);
 * encoder.dispose();
 * ```
 */
export function syncBatchNorm(nets: unknown, world: World): number {
  let patched = 0;
  for (const model of netsContents(nets).models) {
    for (const layer of allLayers(model)) {
      if (layer.getClassName() !== "BatchNormalization") continue;
      const bn = layer as unknown as BatchNormInternals;
      if (bn.__selfsupSync) continue;
      const original = bn.call.bind(bn);
      bn.call = (inputs, kwargs) => {
        if (!kwargs?.training) return original(inputs, kwargs);
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const axis = bn.axis >= 0 ? bn.axis : bn.axis + x.rank;
        if (axis !== x.rank - 1) {
          throw new TypeError(
            `Cannot synchronize batch norm: expected the channel axis last, received axis ${axis} of [${x.shape}]`,
          );
        }
        return tf.tidy(() => {
          const c = x.shape[axis];
          const flat = tf.reshape(x, [-1, c]); // [rows, C]
          const rows = flat.shape[0];
          // [C + 1]: the channel sums and the row count, one all-reduce
          const sums = world.allReduceSum(tf.concat([tf.sum(flat, 0), tf.tensor1d([rows])]));
          const total = tf.slice(sums, [c], [1]);
          const mean = tf.div(tf.slice(sums, [0], [c]), total) as tf.Tensor1D;
          const squares = world.allReduceSum(tf.sum(tf.square(tf.sub(flat, mean)), 0));
          const variance = tf.div(squares, total) as tf.Tensor1D;
          const normed = tf.batchNorm(
            x,
            mean,
            variance,
            bn.beta ? bn.beta.read() as tf.Tensor1D : undefined,
            bn.gamma ? bn.gamma.read() as tf.Tensor1D : undefined,
            bn.epsilon,
          );
          const decay = 1 - bn.momentum;
          for (
            const [v, value] of [[bn.movingMean, mean], [bn.movingVariance, variance]] as const
          ) {
            tf.tidy(() => {
              const old = v.read();
              v.write(tf.sub(old, tf.mul(tf.sub(old, value), decay)));
            });
          }
          return normed;
        });
      };
      bn.__selfsupSync = true;
      patched++;
    }
  }
  return patched;
}
