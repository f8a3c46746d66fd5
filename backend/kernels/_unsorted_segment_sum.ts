/**
 * UnsortedSegmentSum (the gradient of `gather`) as one pass over the data.
 *
 * @module
 */

/**
 * out[s, ...] = sum of x[k, ...] over the k with segmentIds[k] = s; ids outside
 * [0, numSegments) are dropped, as in TensorFlow.
 *
 * @param x values of shape `[...idsShape, ...rest]`
 * @param ids int32 segment ids, shape `idsShape`
 */
export function unsortedSegmentSumLoops(
  x: Float32Array | Int32Array,
  xShape: readonly number[],
  ids: Int32Array,
  idsShape: readonly number[],
  numSegments: number,
): { values: Float32Array | Int32Array; shape: number[] } {
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new RangeError(
      `Cannot run UnsortedSegmentSum: expected a non-negative integer numSegments, received ${numSegments}`,
    );
  }
  const prefix = xShape.slice(0, idsShape.length);
  if (prefix.join(",") !== idsShape.join(",")) {
    throw new TypeError(
      `Cannot run UnsortedSegmentSum: expected segmentIds shape to prefix data shape [${xShape}], received [${idsShape}]`,
    );
  }
  const rest = xShape.slice(idsShape.length);
  const inner = rest.reduce((a, b) => a * b, 1);
  const values = x instanceof Int32Array
    ? new Int32Array(numSegments * inner)
    : new Float32Array(numSegments * inner);
  for (let k = 0; k < ids.length; k++) {
    const s = ids[k];
    if (s < 0 || s >= numSegments) continue;
    const src = k * inner, dst = s * inner;
    for (let e = 0; e < inner; e++) values[dst + e] += x[src + e];
  }
  return { values, shape: [numSegments, ...rest] };
}
