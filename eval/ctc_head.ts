import type * as tfl from "@tensorflow/tfjs-layers";
import { mlpHead } from "../models/mlp_head.ts";

/** Options for {@linkcode ctcHead}. */
export interface CtcHeadOptions {
  /**
   * Hidden units of a first Dense + ReLU layer (the source's two-layer recognition head); omitted:
   * a single Dense layer.
   */
  hiddenUnits?: number;
  /**
   * Model name.
   * @default "ctc_head"
   */
  name?: string;
}

/**
 * A CTC recognition head: Dense layers from a frame feature `[D]` to `numClasses + 1` scores
 * (the charset plus the blank, last). It maps `[N, D] -> [N, C + 1]`; apply it per frame to
 * sequence features `[B, L, D]` with `applyHead` (models) to get logits `[B, L, C + 1]` for
 * {@linkcode ctcLoss}.
 *
 * @param numClasses charset size C (without the blank)
 * @param featureDim frame feature size D
 * @returns the head as a LayersModel
 *
 * @example
 * ```ts
 * import { ctcHead } from "./ctc_head.ts";
 * import { applyHead } from "../models/apply_head.ts";
 * import { tf } from "../backend/tf.ts";
 * import assert from "node:assert/strict";
 * const head = ctcHead(10, 16);
 * const logits = applyHead(head, tf.zeros([2, 7, 16]) as tf.Tensor3D);
 * assert.deepEqual(logits.shape, [2, 7, 11]);
 * ```
 */
export function ctcHead(
  numClasses: number,
  featureDim: number,
  options: CtcHeadOptions = {},
): tfl.LayersModel {
  const { hiddenUnits, name = "ctc_head" } = options;
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(
      `Cannot build a CTC head: numClasses must be a positive integer, received ${numClasses}`,
    );
  }
  const out = { units: numClasses + 1 };
  return mlpHead(
    featureDim,
    hiddenUnits === undefined ? [out] : [{ units: hiddenUnits, after: ["relu"] }, out],
    { name },
  );
}
