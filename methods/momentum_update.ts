import type * as tfl from "@tensorflow/tfjs-layers";
import { tf } from "../backend/tf.ts";

/**
 * The momentum (EMA) update of a key/target network, in place: for every weight, BatchNorm
 * moving statistics included, `target <- m * target + (1 - m) * source` (MoCo, He et al. 2019,
 * arXiv:1911.05722; BYOL, arXiv:2006.07733). Both models must have the same architecture.
 *
 * @param target the momentum network (updated)
 * @param source the online/query network
 * @param momentum m in [0, 1]
 *
 * @example
 * ```ts
 * import { momentumUpdate } from "./mod.ts";
 * import { cloneModel, mlpHead } from "../models/mod.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const q = mlpHead(2, [{ units: 1, useBias: false }]);
 * const k = cloneModel(q);
 * q.setWeights([tf.ones([2, 1])]);
 * k.setWeights([tf.zeros([2, 1])]);
 * momentumUpdate(k, q, 0.9);
 * assert.ok(Math.abs(k.getWeights()[0].dataSync()[0] - 0.1) < 1e-7);
 * ```
 */
export function momentumUpdate(
  target: tfl.LayersModel,
  source: tfl.LayersModel,
  momentum: number,
): void {
  if (!(momentum >= 0 && momentum <= 1)) {
    throw new RangeError(
      `Cannot update momentum network: momentum must be in [0, 1], received ${momentum}`,
    );
  }
  const t = target.weights, s = source.weights;
  if (t.length !== s.length || t.some((w, i) => w.shape.join() !== s[i].shape.join())) {
    throw new TypeError(
      `Cannot update momentum network ${target.name} from ${source.name}: weights differ (${t.length} vs ${s.length} tensors)`,
    );
  }
  for (let i = 0; i < t.length; i++) {
    const next = tf.tidy(() => {
      const tv = t[i].read(), sv = s[i].read();
      // m*t + (1-m)*s written as t + (1-m)(s - t): exact at m = 1
      return tf.add(tv, tf.mul(tf.sub(sv, tv), 1 - momentum));
    });
    t[i].write(next);
    next.dispose();
  }
}

/**
 * MoCo v3's / BYOL's momentum schedule: from `base` at the start to 1 at the end along a half
 * cosine, `1 - (1 - base) * (cos(pi * progress) + 1) / 2`.
 *
 * @param base momentum at progress 0 (0.99 in MoCo v3, 0.996 in BYOL)
 * @param progress fraction of training done, in [0, 1]
 * @returns the momentum
 *
 * @example
 * ```ts
 * import { cosineMomentum } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(cosineMomentum(0.99, 0), 0.99);
 * assert.equal(cosineMomentum(0.99, 1), 1);
 * ```
 */
export function cosineMomentum(base: number, progress: number): number {
  const p = Math.min(1, Math.max(0, progress));
  return 1 - (1 - base) * (Math.cos(Math.PI * p) + 1) / 2;
}
