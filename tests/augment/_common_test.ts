/**
 * The private helpers every augmentation shares (`augment/_common.ts`), called directly: the exact
 * messages of the image, seed and option checks and the edges they accept, the draws from a
 * scripted PRNG against their formulas worked by hand, and the tensor helpers against plain-JS
 * references on values that float32 holds exactly (multiples of 1/8), so the expected values are
 * exact on every backend. Written from a mutation run of `_common.ts` on cpu (issue 17): the ops'
 * own tests reach these helpers only through the few arguments the ops pass.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  adjustContrast,
  bernoulli,
  channelMatmul,
  checkImages,
  checkNumber,
  checkProbability,
  checkRange,
  checkSize,
  childSeed,
  clip01,
  LUMA,
  mix,
  normal,
  perSampleFull,
  rngFor,
  scalePerSample,
  uniform,
} from "../../augment/_common.ts";
import { useBackend } from "../../backend/use_backend.ts";
import { assertTensorClose, pcg32, setupBackend, thrown } from "../_utils.ts";

const BACKEND = await setupBackend();

type ErrorClass = typeof TypeError | typeof RangeError;

function refuses(f: () => unknown, kind: ErrorClass, message: string): void {
  const e = thrown(f, message);
  assert.ok(e instanceof kind, `${kind.name} expected, received ${e}`);
  assert.equal(e.message, message);
}

/** A PRNG that returns `v` in order and fails when asked for more. */
function script(...v: number[]): () => number {
  let i = 0;
  return () => {
    assert.ok(i < v.length, `the scripted PRNG was asked for draw ${i + 1} of ${v.length}`);
    return v[i++];
  };
}

const EXACT = { rtol: 0, atol: 0 };

Deno.test("checkImages names the op and what it received, and returns the shape", () => {
  const prefix = "Cannot apply op: images must";
  refuses(() => checkImages(null, "op"), TypeError, `${prefix} be a tf.Tensor4D, received null`);
  refuses(() => checkImages(3, "op"), TypeError, `${prefix} be a tf.Tensor4D, received number`);
  refuses(
    () => checkImages(undefined, "op"),
    TypeError,
    `${prefix} be a tf.Tensor4D, received undefined`,
  );
  tf.tidy(() => {
    refuses(
      () => checkImages(tf.zeros([2, 3, 3]), "op"),
      TypeError,
      `${prefix} have shape [B, H, W, C], received [2,3,3]`,
    );
    refuses(
      () => checkImages(tf.zeros([1, 1, 1, 1, 1]), "op"),
      TypeError,
      `${prefix} have shape [B, H, W, C], received [1,1,1,1,1]`,
    );
    refuses(
      () => checkImages(tf.zeros([1, 2, 2, 1], "int32"), "op"),
      TypeError,
      `${prefix} be float32 in [0, 1], received int32`,
    );
    assert.deepEqual(checkImages(tf.zeros([2, 3, 4, 1]), "op"), [2, 3, 4, 1]);
  });
});

Deno.test("rngFor seeds PCG32 with the seed truncated toward 0, and refuses a non-finite seed", () => {
  const draws = (prng: () => number) => [prng(), prng(), prng()];
  assert.deepEqual(draws(rngFor(2.75, "op")), draws(pcg32(2)));
  assert.deepEqual(draws(rngFor(-2.75, "op")), draws(pcg32(-2)));
  assert.notDeepEqual(draws(pcg32(-2)), draws(pcg32(-3)), "the truncation is visible");
  const prefix = "Cannot apply op: seed must be a finite number, received";
  refuses(() => rngFor("1", "op"), TypeError, `${prefix} string`);
  refuses(() => rngFor(NaN, "op"), TypeError, `${prefix} number`);
  refuses(() => rngFor(Infinity, "op"), TypeError, `${prefix} number`);
  refuses(() => rngFor(-Infinity, "op"), TypeError, `${prefix} number`);
  refuses(() => rngFor(null, "op"), TypeError, `${prefix} null`);
  tf.tidy(() => {
    refuses(
      () => rngFor(tf.zeros([2, 3]), "op"),
      TypeError,
      `${prefix} a float32 tensor of shape [2,3]`,
    );
    refuses(
      () => rngFor(tf.scalar(1, "int32"), "op"),
      TypeError,
      `${prefix} a int32 tensor of shape []`,
    );
  });
});

Deno.test("childSeed, uniform, normal and bernoulli compute their formulas from the draws given", () => {
  // childSeed = floor(u 2^32)
  assert.equal(childSeed(script(0.5)), 2147483648);
  assert.equal(childSeed(script(0.3)), 1288490188); // 0.3 * 2^32 = 1288490188.8
  assert.equal(childSeed(script(1 - 2 ** -32)), 4294967295);
  // uniform = lo + (hi - lo) u
  assert.equal(uniform(script(0.25), 2, 6), 3);
  assert.equal(uniform(script(0.75), -1, 3), 2);
  // normal = sqrt(-2 ln u1) cos(2 pi u2), u1 floored at 1e-12
  assertTensorClose([normal(script(Math.exp(-2), 1 / 8))], [Math.SQRT2], { rtol: 1e-12, atol: 0 });
  assertTensorClose([normal(script(Math.exp(-0.5), 1 / 2))], [-1], { rtol: 1e-12, atol: 0 });
  const floor = Math.sqrt(24 * Math.LN10); // sqrt(-2 ln 1e-12)
  assertTensorClose([normal(script(0, 0))], [floor], { rtol: 1e-12, atol: 0 });
  assertTensorClose([normal(script(1e-13, 1 / 2))], [-floor], { rtol: 1e-12, atol: 0 });
  // bernoulli: 1 where the draw is below p (strictly), one draw per sample, in order
  const mask = bernoulli(script(0.1, 0.5, 0.9, 0.3), 4, 0.5);
  assert.ok(mask instanceof Float32Array);
  assert.deepEqual(Array.from(mask), [1, 0, 0, 1]);
  assert.deepEqual(Array.from(bernoulli(script(0, 0), 2, 0)), [0, 0]);
  assert.deepEqual(Array.from(bernoulli(script(0.99), 1, 1)), [1]);
  assert.equal(bernoulli(script(), 0, 0.5).length, 0);
});

Deno.test("checkNumber and checkProbability accept their inclusive bounds and name the bound refused", () => {
  assert.equal(checkNumber(0, "x", "op", 0, 4), 0);
  assert.equal(checkNumber(4, "x", "op", 0, 4), 4);
  assert.equal(checkNumber(-3, "x", "op"), -3);
  assert.equal(checkNumber(1e300, "x", "op"), 1e300);
  assert.equal(checkNumber(-1e300, "x", "op", -1e300), -1e300);
  refuses(
    () => checkNumber("2", "x", "op"),
    TypeError,
    "Cannot create op: x must be a number, received 2",
  );
  refuses(
    () => checkNumber(NaN, "x", "op"),
    TypeError,
    "Cannot create op: x must be a number, received NaN",
  );
  refuses(
    () => checkNumber(5, "x", "op", 0, 4),
    RangeError,
    "Cannot create op: x must be in [0, 4], received 5",
  );
  refuses(
    () => checkNumber(-0.5, "x", "op", 0, 4),
    RangeError,
    "Cannot create op: x must be in [0, 4], received -0.5",
  );
  assert.equal(checkProbability(0, "p", "op"), 0);
  assert.equal(checkProbability(1, "p", "op"), 1);
  assert.equal(checkProbability(0.5, "p", "op"), 0.5);
  refuses(
    () => checkProbability(1.5, "p", "op"),
    RangeError,
    "Cannot create op: p must be in [0, 1], received 1.5",
  );
  refuses(
    () => checkProbability(-0.25, "p", "op"),
    RangeError,
    "Cannot create op: p must be in [0, 1], received -0.25",
  );
  refuses(
    () => checkProbability("1", "p", "op"),
    TypeError,
    "Cannot create op: p must be a number, received 1",
  );
});

Deno.test("checkNumber refuses +/-Infinity with its default bounds, as its doc says, and checkRange a single one", () => {
  const finite = "Cannot create op: x must be finite, received";
  refuses(() => checkNumber(Infinity, "x", "op"), RangeError, `${finite} Infinity`);
  refuses(() => checkNumber(-Infinity, "x", "op"), RangeError, `${finite} -Infinity`);
  refuses(() => checkNumber(Infinity, "x", "op", 0), RangeError, `${finite} Infinity`);
  refuses(() => checkNumber(-Infinity, "x", "op", -Infinity, 0), RangeError, `${finite} -Infinity`);
  // a finite bound still names itself first
  refuses(
    () => checkNumber(Infinity, "x", "op", 0, 4),
    RangeError,
    "Cannot create op: x must be in [0, 4], received Infinity",
  );
  assert.equal(checkNumber(Number.MAX_VALUE, "x", "op"), Number.MAX_VALUE);
  assert.equal(checkNumber(-Number.MAX_VALUE, "x", "op"), -Number.MAX_VALUE);
  refuses(
    () => checkRange(Infinity, "d", "op", -1, 1, (v) => [-v, v]),
    RangeError,
    "Cannot create op: d must be finite, received Infinity",
  );
});

Deno.test("checkRange turns a number into around(v) or [v, v], takes a pair, and refuses the rest exactly", () => {
  const around = (v: number): [number, number] => [-v, v];
  assert.deepEqual(checkRange(0.25, "d", "op", -1, 1, around), [-0.25, 0.25]);
  assert.deepEqual(checkRange(0.5, "d", "op", 0, 1), [0.5, 0.5]);
  assert.deepEqual(checkRange([0.25, 0.75], "d", "op", 0, 1), [0.25, 0.75]);
  assert.deepEqual(checkRange([0, 1], "d", "op", 0, 1), [0, 1]);
  assert.deepEqual(checkRange([0.5, 0.5], "d", "op", 0, 1), [0.5, 0.5]);
  assert.deepEqual(checkRange(1, "d", "op", -1, 1, around), [-1, 1]);
  const type = "Cannot create op: d must be a number or [min, max], received";
  refuses(() => checkRange("a", "d", "op", 0, 1), TypeError, `${type} "a"`);
  refuses(() => checkRange([1], "d", "op", 0, 1), TypeError, `${type} [1]`);
  refuses(() => checkRange([0, 1, 1], "d", "op", 0, 1), TypeError, `${type} [0,1,1]`);
  refuses(() => checkRange([0, "1"], "d", "op", 0, 1), TypeError, `${type} [0,"1"]`);
  refuses(() => checkRange(["0", 1], "d", "op", 0, 1), TypeError, `${type} ["0",1]`);
  refuses(() => checkRange(undefined, "d", "op", 0, 1), TypeError, `${type} undefined`);
  refuses(
    () => checkRange(NaN, "d", "op", 0, 1),
    TypeError,
    "Cannot create op: d must be a number, received NaN",
  );
  const range = "Cannot create op: d must satisfy 0 <= min <= max <= 1, received";
  refuses(() => checkRange([-0.5, 0.5], "d", "op", 0, 1), RangeError, `${range} [-0.5,0.5]`);
  refuses(() => checkRange([0.5, 1.5], "d", "op", 0, 1), RangeError, `${range} [0.5,1.5]`);
  refuses(() => checkRange([0.75, 0.25], "d", "op", 0, 1), RangeError, `${range} [0.75,0.25]`);
  refuses(() => checkRange([NaN, 0.5], "d", "op", 0, 1), RangeError, `${range} [NaN,0.5]`);
  refuses(() => checkRange(2, "d", "op", 0, 1), RangeError, `${range} [2,2]`);
  refuses(
    () => checkRange(2, "d", "op", -1, 1, around),
    RangeError,
    "Cannot create op: d must satisfy -1 <= min <= max <= 1, received [-2,2]",
  );
});

Deno.test("checkSize takes an integer or [height, width] of at least 1, undefined passes through", () => {
  assert.equal(checkSize(undefined, "size", "op"), undefined);
  assert.deepEqual(checkSize(3, "size", "op"), [3, 3]);
  assert.deepEqual(checkSize([2, 5], "size", "op"), [2, 5]);
  assert.deepEqual(checkSize(1, "size", "op"), [1, 1]);
  const type = "Cannot create op: size must be an integer or [height, width], received";
  refuses(() => checkSize(1.5, "size", "op"), TypeError, `${type} 1.5`);
  refuses(() => checkSize("3", "size", "op"), TypeError, `${type} "3"`);
  refuses(() => checkSize(null, "size", "op"), TypeError, `${type} null`);
  refuses(() => checkSize([2], "size", "op"), TypeError, `${type} [2]`);
  refuses(() => checkSize([2, 3, 4], "size", "op"), TypeError, `${type} [2,3,4]`);
  refuses(() => checkSize([2, 2.5], "size", "op"), TypeError, `${type} [2,2.5]`);
  refuses(() => checkSize([2.5, 2], "size", "op"), TypeError, `${type} [2.5,2]`);
  refuses(() => checkSize([2, "3"], "size", "op"), TypeError, `${type} [2,"3"]`);
  const low = "Cannot create op: size must be at least 1, received";
  refuses(() => checkSize(0, "size", "op"), RangeError, `${low} [0,0]`);
  refuses(() => checkSize([2, 0], "size", "op"), RangeError, `${low} [2,0]`);
  refuses(() => checkSize([0, 2], "size", "op"), RangeError, `${low} [0,2]`);
  refuses(() => checkSize([-1, 3], "size", "op"), RangeError, `${low} [-1,3]`);
});

function perSampleFullCase(): void {
  tf.tidy(() => {
    const shape: [number, number, number, number] = [2, 2, 3, 2];
    const v = perSampleFull([0.25, -0.5], shape);
    assert.equal(v.dtype, "float32");
    assert.deepEqual(v.shape, tf.getBackend() === "cpu" ? shape : [2, 1, 1, 1]);
    const expected = [...new Array(12).fill(0.25), ...new Array(12).fill(-0.5)];
    assertTensorClose(tf.add(tf.zeros(shape), v), tf.tensor4d(expected, shape), EXACT);
  });
}

Deno.test(
  "perSampleFull holds one value per sample, full size on cpu and [B, 1, 1, 1] elsewhere",
  perSampleFullCase,
);

// [2, 1, 2, 3]: two samples of two RGB pixels, multiples of 1/8
const XV = [0.125, 0.5, 0.75, 1, 0.25, 0, 0.375, 0.875, 0.625, 0.5, 0.125, 0.25];
const SHAPE: [number, number, number, number] = [2, 1, 2, 3];

function scalePerSampleCase(): void {
  tf.tidy(() => {
    const x = tf.tensor4d(XV, SHAPE);
    const expected = XV.map((v, i) => v * (i < 6 ? 2 : -0.5));
    for (
      const s of [
        [2, -0.5],
        Float32Array.of(2, -0.5),
        tf.tensor1d([2, -0.5]),
        tf.tensor4d([2, -0.5], [2, 1, 1, 1]),
      ]
    ) {
      const y = scalePerSample(x, s);
      assert.deepEqual(y.shape, SHAPE);
      assertTensorClose(y, tf.tensor4d(expected, SHAPE), EXACT);
    }
  });
}

Deno.test(
  "scalePerSample multiplies each sample by its own scale, given as numbers or a tensor",
  scalePerSampleCase,
);

function mixCase(): void {
  tf.tidy(() => {
    const a = tf.tensor4d(XV, SHAPE);
    const bv = XV.map((v) => 1 - v);
    const b = tf.tensor4d(bv, SHAPE);
    const cases: [number[], number[]][] = [
      [[1, 0], [...XV.slice(0, 6), ...bv.slice(6)]],
      [[0, 1], [...bv.slice(0, 6), ...XV.slice(6)]],
      [[1, 1], XV],
      [[0, 0], bv],
    ];
    for (const [mask, expected] of cases) {
      const y = mix(Float32Array.from(mask), a, b);
      assert.deepEqual(y.shape, SHAPE);
      assertTensorClose(y, tf.tensor4d(expected, SHAPE), EXACT, `mask [${mask}]`);
    }
  });
}

Deno.test("mix takes a where the mask is 1 and b where it is 0, per sample", mixCase);

Deno.test("clip01 clips to [0, 1]", () => {
  tf.tidy(() => {
    const y = clip01(tf.tensor4d([-0.5, 0, 0.25, 1, 1.5, -0], [1, 1, 2, 3]));
    assert.deepEqual(y.shape, [1, 1, 2, 3]);
    assertTensorClose(y, [0, 0, 0.25, 1, 1, 0], EXACT);
  });
});

Deno.test("channelMatmul applies each sample's matrix to its pixels' channels as row vectors", () => {
  // sample 0: a matrix with no symmetry; sample 1: a channel permutation plus a mix
  const m = [
    [[1, 0.5, 0], [0, 0.25, 2], [0.5, 0, 1]],
    [[0, 1, 0], [0, 0, 1], [1, 0.5, 0.25]],
  ];
  const expected: number[] = [];
  for (let s = 0; s < 2; s++) {
    for (let p = 0; p < 2; p++) {
      const px = XV.slice((s * 2 + p) * 3, (s * 2 + p) * 3 + 3);
      for (let k = 0; k < 3; k++) {
        expected.push(px[0] * m[s][0][k] + px[1] * m[s][1][k] + px[2] * m[s][2][k]);
      }
    }
  }
  tf.tidy(() => {
    const y = channelMatmul(tf.tensor4d(XV, SHAPE), Float32Array.from(m.flat(2)));
    assert.deepEqual(y.shape, SHAPE);
    assertTensorClose(y, tf.tensor4d(expected, SHAPE), EXACT);
  });
});

function adjustContrastCase(): void {
  // [2, 2, 2, 2]: per sample and channel, the mean of four multiples of 1/8
  const xv = [
    0.5,
    0,
    0.25,
    0.5,
    0.75,
    1,
    0.5,
    0.75,
    0.125,
    0.875,
    0.375,
    0.625,
    0.125,
    0.375,
    0.375,
    0.125,
  ];
  const factors = [2, 0.5];
  const expected: number[] = [];
  for (let s = 0; s < 2; s++) {
    const mean = [0, 1].map((k) =>
      (xv[s * 8 + k] + xv[s * 8 + 2 + k] + xv[s * 8 + 4 + k] + xv[s * 8 + 6 + k]) / 4
    );
    for (let p = 0; p < 4; p++) {
      for (let k = 0; k < 2; k++) {
        const v = factors[s] * (xv[s * 8 + p * 2 + k] - mean[k]) + mean[k];
        expected.push(Math.min(1, Math.max(0, v)));
      }
    }
  }
  // the case is worth having: the clip acts at both ends, and the channels' means differ
  assert.ok(expected.includes(0) && expected.includes(1));
  tf.tidy(() => {
    const y = adjustContrast(tf.tensor4d(xv, [2, 2, 2, 2]), factors);
    assert.deepEqual(y.shape, [2, 2, 2, 2]);
    assertTensorClose(y, tf.tensor4d(expected, [2, 2, 2, 2]), EXACT);
  });
}

Deno.test(
  "adjustContrast scales each image's channels about their own mean, then clips",
  adjustContrastCase,
);

Deno.test("LUMA holds the BT.601 weights", () => {
  assert.deepEqual([...LUMA], [0.299, 0.587, 0.114]);
});

// The default suite runs on cpu, where these helpers take their matMul branch: the broadcast
// branch that wasm and native take is checked here too, so a cpu run alone sees both.
Deno.test("perSampleFull, scalePerSample, mix and adjustContrast on cpu and on wasm", async () => {
  try {
    for (const name of ["cpu", "wasm"] as const) {
      await useBackend(name, { quiet: true });
      assert.equal(tf.getBackend(), name);
      perSampleFullCase();
      scalePerSampleCase();
      mixCase();
      adjustContrastCase();
    }
  } finally {
    await useBackend(BACKEND, { quiet: true });
  }
});
