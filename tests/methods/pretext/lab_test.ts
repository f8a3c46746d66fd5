/**
 * Issue 17: methods/pretext/lab.ts beyond the parity test in `labels_test.ts` (known values,
 * round trip, float64 reference): each conversion's refusal with its exact message, any rank
 * with a last axis of 3 accepted (a single colour `[3]` too), integer input cast to float, the
 * constants' values, and the float64 references at the ends of their piecewise curves.
 */
import assert from "node:assert/strict";
import { tf } from "../../../backend/tf.ts";
import {
  D65_WHITE,
  LAB_EPSILON,
  LAB_KAPPA,
  labToRgb,
  labToRgbReference,
  linearToLab,
  rgbToLab,
  rgbToLabReference,
  SRGB_TO_XYZ,
} from "../../../methods/pretext/lab.ts";
import { assertTensorClose, setupBackend, thrown } from "../../_utils.ts";

await setupBackend();

Deno.test("Lab conversions refuse a last axis other than 3 and non-tensors, by name", () => {
  for (
    const [f, where] of [[rgbToLab, "RGB to Lab"], [labToRgb, "Lab to RGB"]] as const
  ) {
    for (
      const [x, got] of [
        [tf.zeros([2, 4]), "[2,4]"],
        [tf.zeros([3, 2]), "[3,2]"],
        [tf.scalar(3), "[]"],
        [[1, 2, 3], "1,2,3"],
      ] as const
    ) {
      const e = thrown(() => f(x as unknown as tf.Tensor));
      assert.ok(e instanceof TypeError, `${where} ${got}`);
      assert.equal(
        e.message,
        `Cannot convert ${where}: expected a tensor whose last axis has 3 channels, received ${got}`,
      );
    }
  }
});

Deno.test("Lab conversions take any rank with 3 channels last, and integer tensors as floats", () => {
  const one = rgbToLab(tf.tensor1d([1, 0, 0]));
  assert.deepEqual(one.shape, [3]);
  assertTensorClose(one, [53.2408, 80.0925, 67.2032], { atol: 2e-3, rtol: 0 });
  const back = labToRgb(tf.tensor1d([53.2408, 80.0925, 67.2032]));
  assert.deepEqual(back.shape, [3]);
  assertTensorClose(back, [1, 0, 0], { atol: 1e-3, rtol: 0 });
  const img = tf.randomUniform([2, 3, 4, 3], 0, 1, "float32", 2);
  const lab = rgbToLab(img);
  assert.deepEqual(lab.shape, [2, 3, 4, 3]);
  assertTensorClose(lab, tf.reshape(rgbToLab(tf.reshape(img, [-1, 3])), [2, 3, 4, 3]), {
    atol: 0,
    rtol: 0,
  });
  const white = rgbToLab(tf.tensor2d([[1, 1, 1]], [1, 3], "int32"));
  assert.equal(white.dtype, "float32");
  assertTensorClose(white, [[100, 0, 0]], { atol: 2e-3, rtol: 0 });
  const gray = labToRgb(tf.tensor2d([[50, 0, 0]], [1, 3], "int32"));
  assert.equal(gray.dtype, "float32");
  const g = labToRgbReference(50, 0, 0);
  assertTensorClose(gray, [g], { atol: 1e-4, rtol: 0 });
});

Deno.test("Lab constants, and the float64 references on both sides of each curve's knee", () => {
  assert.deepEqual(D65_WHITE, [0.95047, 1, 1.08883]);
  assert.equal(LAB_EPSILON, 216 / 24389);
  assert.ok(Math.abs(LAB_KAPPA - 108 / 841) < 1e-15);
  assert.deepEqual(SRGB_TO_XYZ[1], [0.2126729, 0.7151522, 0.072175]);
  // dark colours take the linear parts: sRGB 0.01 -> 0.01 / 12.92; Y below epsilon -> t / kappa
  const dark = rgbToLabReference(0.01, 0.01, 0.01);
  const y = 0.01 / 12.92; // a gray's Y is its linear value (the matrix's rows sum to 1 +- 1e-7)
  assert.ok(Math.abs(dark[0] - (116 * (y / LAB_KAPPA + 4 / 29) - 16)) < 1e-5, `${dark}`);
  assert.ok(Math.abs(dark[1]) < 1e-5 && Math.abs(dark[2]) < 1e-5);
  const mid = rgbToLabReference(0.5, 0.5, 0.5);
  const ym = ((0.5 + 0.055) / 1.055) ** 2.4;
  assert.ok(Math.abs(mid[0] - (116 * Math.cbrt(ym) - 16)) < 1e-5, `${mid}`);
  assert.deepEqual(linearToLab(0, 0, 0), [0, 0, 0]);
  // and back: both branches of the inverse and of the transfer curve
  for (const rgb of [[0.01, 0.01, 0.01], [0.002, 0.3, 0.9], [0.5, 0.5, 0.5]]) {
    const [L, a, b] = rgbToLabReference(rgb[0], rgb[1], rgb[2]);
    labToRgbReference(L, a, b).forEach((v, i) => assert.ok(Math.abs(v - rgb[i]) < 1e-12));
  }
  const blackBack = labToRgbReference(0, 0, 0);
  blackBack.forEach((v) => assert.ok(Math.abs(v) < 1e-15));
  // the tensor version on the dark colour (linear parts of both curves)
  assertTensorClose(rgbToLab(tf.tensor2d([[0.01, 0.01, 0.01]])), [dark], { atol: 1e-3, rtol: 0 });
  assertTensorClose(labToRgb(tf.tensor2d([dark])), [[0.01, 0.01, 0.01]], { atol: 1e-5, rtol: 0 });
});
