/**
 * The augmentations' exact error messages, the edges of their documented ranges (inclusive ends
 * are accepted, one step past is refused) and their documented defaults (an op built with no
 * options equals the same op built with the defaults its docs list, on the same seed). The other
 * augment tests check errors by class only, so a message naming the wrong option, the wrong op or
 * the wrong bound passed them; these assertions were added from a mutation run (issue 17).
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import * as aug from "../../augment/mod.ts";
import { assertTensorClose, setupBackend } from "../_utils.ts";
import { images } from "./_helpers.ts";

await setupBackend();

type Thunk = () => unknown;
type ErrorClass = typeof TypeError | typeof RangeError;

function throwsExactly(f: Thunk, kind: ErrorClass, message: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof kind, `${kind.name} expected, received ${e}`);
    assert.equal((e as Error).message, message);
    return true;
  });
}

const X = images([2, 6, 8, 3], 1);
const GRAY = images([2, 6, 8, 1], 2);

Deno.test("augmentations refuse bad images and seeds with messages naming the op and the value", () => {
  // [the op's name, the op, the name its seed check gives: a preset checks its images, then
  // passes the seed to compose]
  const ops: [string, aug.Augmentation, string?][] = [
    ["brightness", aug.brightness()],
    ["contrast", aug.contrast()],
    ["solarize", aug.solarize()],
    ["randomGrayscale", aug.randomGrayscale()],
    ["channelShuffle", aug.channelShuffle()],
    ["horizontalFlip", aug.horizontalFlip()],
    ["gaussianNoise", aug.gaussianNoise()],
    ["gaussianBlur", aug.gaussianBlur()],
    ["cutout", aug.cutout()],
    ["colorJitter", aug.colorJitter()],
    ["randomAffine", aug.randomAffine()],
    ["randomScale", aug.randomScale()],
    ["randomResizedCrop", aug.randomResizedCrop()],
    ["compose", aug.compose(aug.brightness())],
    ["simclrAugment", aug.simclrAugment(), "compose"],
  ];
  const rank3 = tf.zeros([2, 3, 3]);
  const ints = tf.zeros([1, 2, 2, 1], "int32");
  for (const [name, op, seedWhere = name] of ops) {
    throwsExactly(
      () => op([1, 2] as unknown as tf.Tensor4D, 1),
      TypeError,
      `Cannot apply ${name}: images must be a tf.Tensor4D, received object`,
    );
    throwsExactly(
      () => op(null as unknown as tf.Tensor4D, 1),
      TypeError,
      `Cannot apply ${name}: images must be a tf.Tensor4D, received null`,
    );
    throwsExactly(
      () => op(rank3 as unknown as tf.Tensor4D, 1),
      TypeError,
      `Cannot apply ${name}: images must have shape [B, H, W, C], received [2,3,3]`,
    );
    throwsExactly(
      () => op(ints as tf.Tensor4D, 1),
      TypeError,
      `Cannot apply ${name}: images must be float32 in [0, 1], received int32`,
    );
    throwsExactly(
      () => op(X, "1" as unknown as number),
      TypeError,
      `Cannot apply ${seedWhere}: seed must be a finite number, received string`,
    );
    throwsExactly(
      () => op(X, Infinity),
      TypeError,
      `Cannot apply ${seedWhere}: seed must be a finite number, received number`,
    );
    throwsExactly(
      () => op(X, null as unknown as number),
      TypeError,
      `Cannot apply ${seedWhere}: seed must be a finite number, received null`,
    );
  }
  // the view makers check the images and the seed under their own names
  const flip = aug.horizontalFlip();
  throwsExactly(
    () => aug.twoViews(rank3 as unknown as tf.Tensor4D, flip, 1),
    TypeError,
    "Cannot apply twoViews: images must have shape [B, H, W, C], received [2,3,3]",
  );
  throwsExactly(
    () => aug.twoViews(X, flip, NaN),
    TypeError,
    "Cannot apply twoViews: seed must be a finite number, received number",
  );
  throwsExactly(
    () => aug.multiCrop(rank3 as unknown as tf.Tensor4D, {}, 1),
    TypeError,
    "Cannot apply multiCrop: images must have shape [B, H, W, C], received [2,3,3]",
  );
  // a tensor where a seed belongs is described by dtype and shape
  const t = tf.zeros([2, 3]);
  throwsExactly(
    () => aug.brightness()(X, t as unknown as number),
    TypeError,
    "Cannot apply brightness: seed must be a finite number, received a float32 tensor of shape [2,3]",
  );
  throwsExactly(
    () => aug.randomGrayscale()(images([1, 2, 2, 2]), 1),
    TypeError,
    "Cannot apply randomGrayscale: images must have 1 or 3 channels, received 2",
  );
  throwsExactly(
    () => aug.colorJitter()(images([1, 2, 2, 4]), 1),
    TypeError,
    "Cannot apply colorJitter: images must have 1 or 3 channels, received 4",
  );
  // a fractional seed is truncated, not refused
  const [a, b] = [aug.brightness()(X, 7.9), aug.brightness()(X, 7)];
  assertTensorClose(a, b, { rtol: 0, atol: 0 }, "seed 7.9 reads as 7:");
  tf.dispose([rank3, ints, t, a, b]);
});

Deno.test("option checks name the op, the option and the bound", () => {
  const cases: [Thunk, ErrorClass, string][] = [
    // checkNumber: type, then [min, max]
    [
      () => aug.randomAffine({ degrees: "2" as unknown as number }),
      TypeError,
      "Cannot create randomAffine: degrees must be a number, received 2",
    ],
    [
      () => aug.randomAffine({ degrees: NaN }),
      TypeError,
      "Cannot create randomAffine: degrees must be a number, received NaN",
    ],
    [
      () => aug.randomAffine({ degrees: 181 }),
      RangeError,
      "Cannot create randomAffine: degrees must be in [0, 180], received 181",
    ],
    [
      () => aug.randomAffine({ degrees: -1 }),
      RangeError,
      "Cannot create randomAffine: degrees must be in [0, 180], received -1",
    ],
    [
      () => aug.randomAffine({ shear: 61 }),
      RangeError,
      "Cannot create randomAffine: shear must be in [0, 60], received 61",
    ],
    [
      () => aug.randomAffine({ scale: [0, 1] }),
      RangeError,
      "Cannot create randomAffine: scale must satisfy 0.001 <= min <= max <= 1000, received [0,1]",
    ],
    [
      () => aug.randomAffine({ translate: [0.1] as unknown as [number, number] }),
      TypeError,
      "Cannot create randomAffine: translate must be [dy, dx], received [0.1]",
    ],
    [
      () => aug.randomAffine({ translate: 0.1 as unknown as [number, number] }),
      TypeError,
      "Cannot create randomAffine: translate must be [dy, dx], received 0.1",
    ],
    [
      () => aug.randomAffine({ translate: [1.5, 0] }),
      RangeError,
      "Cannot create randomAffine: translate[0] must be in [0, 1], received 1.5",
    ],
    [
      () => aug.randomAffine({ translate: [0, -0.1] }),
      RangeError,
      "Cannot create randomAffine: translate[1] must be in [0, 1], received -0.1",
    ],
    [
      () => aug.randomAffine({ fillValue: 1.1 }),
      RangeError,
      "Cannot create randomAffine: fillValue must be in [0, 1], received 1.1",
    ],
    [
      () => aug.randomAffine({ fill: "wrap" as "constant" }),
      TypeError,
      'Cannot create randomAffine: fill must be "constant", "nearest" or "reflect", received wrap',
    ],
    // checkRange: type, then order and bounds
    [
      () => aug.brightness({ delta: [0.1] as unknown as number }),
      TypeError,
      "Cannot create brightness: delta must be a number or [min, max], received [0.1]",
    ],
    [
      () => aug.brightness({ delta: [0.1, "a"] as unknown as number }),
      TypeError,
      'Cannot create brightness: delta must be a number or [min, max], received [0.1,"a"]',
    ],
    [
      () => aug.brightness({ delta: "a" as unknown as number }),
      TypeError,
      'Cannot create brightness: delta must be a number or [min, max], received "a"',
    ],
    [
      () => aug.brightness({ delta: 1.5 }),
      RangeError,
      "Cannot create brightness: delta must satisfy -1 <= min <= max <= 1, received [-1.5,1.5]",
    ],
    [
      () => aug.brightness({ delta: NaN }),
      TypeError,
      "Cannot create brightness: delta must be a number, received NaN",
    ],
    [
      () => aug.contrast({ factor: [1.2, 0.8] }),
      RangeError,
      "Cannot create contrast: factor must satisfy 0 <= min <= max <= 1000, received [1.2,0.8]",
    ],
    [
      () => aug.solarize({ threshold: [-0.1, 0.5] }),
      RangeError,
      "Cannot create solarize: threshold must satisfy 0 <= min <= max <= 1, received [-0.1,0.5]",
    ],
    [
      () => aug.solarize({ threshold: 1.1 }),
      RangeError,
      "Cannot create solarize: threshold must satisfy 0 <= min <= max <= 1, received [1.1,1.1]",
    ],
    [
      () => aug.gaussianNoise({ std: [0, 11] }),
      RangeError,
      "Cannot create gaussianNoise: std must satisfy 0 <= min <= max <= 10, received [0,11]",
    ],
    [
      () => aug.gaussianBlur({ sigma: [0, 1] }),
      RangeError,
      "Cannot create gaussianBlur: sigma must satisfy 0.001 <= min <= max <= 1000, received [0,1]",
    ],
    [
      () => aug.gaussianBlur({ kernelSize: 4 }),
      RangeError,
      "Cannot create gaussianBlur: kernelSize must be an odd integer, received 4",
    ],
    [
      () => aug.gaussianBlur({ kernelSize: 2.5 }),
      RangeError,
      "Cannot create gaussianBlur: kernelSize must be an odd integer, received 2.5",
    ],
    [
      () => aug.gaussianBlur({ kernelSize: 0 }),
      RangeError,
      "Cannot create gaussianBlur: kernelSize must be in [1, 10000], received 0",
    ],
    [
      () => aug.horizontalFlip({ p: 1.5 }),
      RangeError,
      "Cannot create horizontalFlip: p must be in [0, 1], received 1.5",
    ],
    [
      () => aug.randomGrayscale({ p: -0.5 }),
      RangeError,
      "Cannot create randomGrayscale: p must be in [0, 1], received -0.5",
    ],
    [
      () => aug.colorJitter({ brightness: -1 }),
      RangeError,
      "Cannot create colorJitter: brightness must be in [0, 1000], received -1",
    ],
    [
      () => aug.colorJitter({ contrast: -1 }),
      RangeError,
      "Cannot create colorJitter: contrast must be in [0, 1000], received -1",
    ],
    [
      () => aug.colorJitter({ saturation: 1001 }),
      RangeError,
      "Cannot create colorJitter: saturation must be in [0, 1000], received 1001",
    ],
    [
      () => aug.colorJitter({ hue: 0.6 }),
      RangeError,
      "Cannot create colorJitter: hue must be in [0, 0.5], received 0.6",
    ],
    [
      () => aug.cutout({ size: "big" as unknown as number }),
      TypeError,
      'Cannot create cutout: size must be a number or [height, width], received "big"',
    ],
    [
      () => aug.cutout({ size: [0.5] as unknown as number }),
      TypeError,
      "Cannot create cutout: size must be a number or [height, width], received [0.5]",
    ],
    [
      () => aug.cutout({ size: [0.5, 1.5] }),
      RangeError,
      "Cannot create cutout: size must be in [0, 1], received 1.5",
    ],
    [
      () => aug.cutout({ size: [-0.5, 0.5] }),
      RangeError,
      "Cannot create cutout: size must be in [0, 1], received -0.5",
    ],
    [
      () => aug.cutout({ fill: 2 }),
      RangeError,
      "Cannot create cutout: fill must be in [0, 1], received 2",
    ],
    // checkSize: integer or [height, width], at least 1
    [
      () => aug.randomResizedCrop({ size: 2.5 }),
      TypeError,
      "Cannot create randomResizedCrop: size must be an integer or [height, width], received 2.5",
    ],
    [
      () => aug.randomResizedCrop({ size: [4] as unknown as number }),
      TypeError,
      "Cannot create randomResizedCrop: size must be an integer or [height, width], received [4]",
    ],
    [
      () => aug.randomResizedCrop({ size: [4, 2.5] }),
      TypeError,
      "Cannot create randomResizedCrop: size must be an integer or [height, width], received [4,2.5]",
    ],
    [
      () => aug.randomResizedCrop({ size: [0, 4] }),
      RangeError,
      "Cannot create randomResizedCrop: size must be at least 1, received [0,4]",
    ],
    [
      () => aug.randomResizedCrop({ size: [4, 0] }),
      RangeError,
      "Cannot create randomResizedCrop: size must be at least 1, received [4,0]",
    ],
    [
      () => aug.randomResizedCrop({ scale: [0, 0] }),
      RangeError,
      "Cannot create randomResizedCrop: scale must allow a positive area, received [0,0]",
    ],
    [
      () => aug.randomResizedCrop({ scale: [0.5, 1.5] }),
      RangeError,
      "Cannot create randomResizedCrop: scale must satisfy 0 <= min <= max <= 1, received [0.5,1.5]",
    ],
    [
      () => aug.randomResizedCrop({ ratio: [0, 1] }),
      RangeError,
      "Cannot create randomResizedCrop: ratio must satisfy 0.000001 <= min <= max <= 1000000, received [0,1]",
    ],
    [
      () => aug.randomScale({ scale: [2, 1] }),
      RangeError,
      "Cannot create randomScale: scale must satisfy 0.001 <= min <= max <= 1000, received [2,1]",
    ],
    [
      () => aug.randomScale({ size: 0 }),
      RangeError,
      "Cannot create randomScale: size must be at least 1, received [0,0]",
    ],
    [
      () => aug.randomScale({ fillValue: -1 }),
      RangeError,
      "Cannot create randomScale: fillValue must be in [0, 1], received -1",
    ],
    [
      () => aug.randomScale({ position: "corner" as "center" }),
      TypeError,
      'Cannot create randomScale: position must be "random" or "center", received corner',
    ],
    [
      () => aug.randomScale({ fill: "wrap" as "constant" }),
      TypeError,
      'Cannot create randomScale: fill must be "constant", "nearest" or "reflect", received wrap',
    ],
    [
      () => aug.simclrAugment({ strength: -1 }),
      RangeError,
      "Cannot create simclrAugment: strength must be in [0, 1000], received -1",
    ],
    [
      () => aug.simclrAugment({ size: 0 }),
      RangeError,
      "Cannot create simclrAugment: size must be at least 1, received [0,0]",
    ],
    [
      () => aug.mnistAugment({ size: 1.5 }),
      TypeError,
      "Cannot create mnistAugment: size must be an integer or [height, width], received 1.5",
    ],
    [
      () => aug.textAugment({ width: [0, 1] }),
      RangeError,
      "Cannot create textAugment: width must satisfy 0.001 <= min <= max <= 1, received [0,1]",
    ],
    [
      () => aug.textAugment({ height: [0.5, 1.1] }),
      RangeError,
      "Cannot create textAugment: height must satisfy 0.001 <= min <= max <= 1, received [0.5,1.1]",
    ],
    [
      () => aug.textAugment({ p: 2 }),
      RangeError,
      "Cannot create textAugment: p must satisfy 0 <= min <= max <= 1, received [2,2]",
    ],
    [
      () => aug.compose(42 as unknown as aug.Augmentation),
      TypeError,
      "Cannot create compose: step 0 must be an augmentation or [augmentation, p], received number",
    ],
    [
      () => aug.compose(aug.brightness(), [aug.contrast(), 1.5]),
      RangeError,
      "Cannot create compose: the probability of step 1 must be in [0, 1], received 1.5",
    ],
    [
      () => aug.paperAugment("bogus" as "simclr"),
      TypeError,
      `Unknown paper augmentation: expected one of ${
        aug.PAPER_AUGMENT_NAMES.join(", ")
      }, received "bogus"`,
    ],
    [
      () => aug.twoViews(X, 3 as unknown as aug.Augmentation, 0),
      TypeError,
      "Cannot apply twoViews: pipeline must be an augmentation, received number",
    ],
    [
      () => aug.multiCrop(X, { local: { count: 1.5 } }, 0),
      RangeError,
      "Cannot apply multiCrop: count must be an integer, received 1.5",
    ],
    [
      () => aug.multiCrop(X, { global: { count: -1 } }, 0),
      RangeError,
      "Cannot create multiCrop: count must be in [0, 10000], received -1",
    ],
  ];
  for (const [f, kind, message] of cases) throwsExactly(f, kind, message);
  throwsExactly(
    () => aug.compose([aug.randomResizedCrop({ size: 4 }), 0.5])(X, 1),
    TypeError,
    "Cannot apply compose: a step with probability 0.5 must keep the shape, received [2,6,8,3] -> [2,4,4,3]",
  );
});

Deno.test("the ends of every documented range are accepted", () => {
  const built: aug.Augmentation[] = [
    aug.randomAffine({ degrees: 0, shear: 0, translate: [0, 0], fillValue: 0, scale: 1e-3 }),
    aug.randomAffine({ degrees: 180, shear: 60, translate: [1, 1], fillValue: 1, scale: 1e3 }),
    aug.randomAffine({ scale: [1, 1] }),
    ...(["constant", "nearest", "reflect"] as const).flatMap((fill) => [
      aug.randomAffine({ fill }),
      aug.randomScale({ fill }),
    ]),
    aug.randomScale({ position: "center" }),
    aug.brightness({ delta: 1 }),
    aug.brightness({ delta: [-1, 1] }),
    aug.brightness({ delta: [0.2, 0.2] }),
    aug.contrast({ factor: [0, 1e3] }),
    aug.solarize({ threshold: [0, 1] }),
    aug.gaussianNoise({ std: [0, 10] }),
    aug.gaussianBlur({ sigma: [1e-3, 1e3], kernelSize: 1 }),
    aug.gaussianBlur({ kernelSize: 9999 }),
    aug.horizontalFlip({ p: 0 }),
    aug.horizontalFlip({ p: 1 }),
    aug.randomGrayscale({ p: 1 }),
    aug.colorJitter({ brightness: 0, contrast: 1e3, saturation: 1e3, hue: 0.5 }),
    aug.cutout({ size: [0, 1], fill: 1 }),
    aug.randomResizedCrop({ size: 1, scale: [0, 1], ratio: [1e-6, 1e6] }),
    aug.randomResizedCrop({ size: [1, 3] }),
    aug.randomScale({ scale: [1e-3, 1e3], fillValue: 1 }),
    aug.simclrAugment({ strength: 0 }),
    aug.textAugment({ width: [1e-3, 1], height: [1, 1], p: 0 }),
    aug.compose([aug.brightness(), 0], [aug.contrast(), 1]),
  ];
  for (const op of built) tf.dispose(op(X, 3));
  assert.equal(aug.multiCrop(X, { global: { count: 0 }, local: { count: 0 } }, 0).length, 0);
});

/** The same op from its defaults and from the defaults its docs list give the same output. */
function assertDefaults(
  name: string,
  fromDefaults: aug.Augmentation,
  explicit: aug.Augmentation,
  x = X,
): void {
  for (const seed of [4, 5]) {
    const [a, b] = [fromDefaults(x, seed), explicit(x, seed)];
    assertTensorClose(a, b, { rtol: 0, atol: 0 }, `${name} defaults, seed ${seed}:`);
    tf.dispose([a, b]);
  }
}

Deno.test("each op's defaults are the ones its docs list", () => {
  const big = images([4, 20, 24, 3], 3);
  assertDefaults(
    "randomAffine",
    aug.randomAffine(),
    aug.randomAffine({
      degrees: 2,
      shear: 5,
      scale: [0.95, 1.05],
      translate: [0.05, 0.02],
      fill: "nearest",
      fillValue: 0,
    }),
  );
  assertDefaults(
    "randomScale",
    aug.randomScale(),
    aug.randomScale({ scale: [0.8, 1.2], position: "random", fill: "constant", fillValue: 0 }),
  );
  assertDefaults(
    "randomResizedCrop",
    aug.randomResizedCrop(),
    aug.randomResizedCrop({ size: [6, 8], scale: [0.08, 1], ratio: [3 / 4, 4 / 3] }),
  );
  assertDefaults(
    "randomResizedCrop method",
    aug.randomResizedCrop({ size: 5 }),
    aug.randomResizedCrop({ size: 5, method: "bilinear" }),
  );
  assertDefaults(
    "colorJitter",
    aug.colorJitter(),
    aug.colorJitter({ brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2 }),
  );
  assertDefaults("brightness", aug.brightness(), aug.brightness({ delta: [-0.4, 0.4] }));
  assertDefaults("contrast", aug.contrast(), aug.contrast({ factor: [0.6, 1.4] }));
  assertDefaults("solarize", aug.solarize(), aug.solarize({ threshold: [0.5, 0.5] }));
  assertDefaults("gaussianNoise", aug.gaussianNoise(), aug.gaussianNoise({ std: [0, 0.1] }));
  assertDefaults(
    "gaussianBlur",
    aug.gaussianBlur(),
    aug.gaussianBlur({ sigma: [0.1, 2], kernelSize: 3 }),
    big,
  );
  assertDefaults("horizontalFlip", aug.horizontalFlip(), aug.horizontalFlip({ p: 0.5 }));
  assertDefaults("randomGrayscale", aug.randomGrayscale(), aug.randomGrayscale({ p: 0.2 }));
  assertDefaults("cutout", aug.cutout(), aug.cutout({ size: [0.5, 0.5], fill: 0, inside: false }));
  assertDefaults(
    "simclrAugment",
    aug.simclrAugment(),
    aug.simclrAugment({ size: [6, 8], strength: 1, blur: false, scale: [0.08, 1] }),
  );
  assertDefaults(
    "textAugment",
    aug.textAugment(),
    aug.textAugment({ width: [0.96, 1], height: [0.6, 1], p: 0.5 }),
  );
  assertDefaults("mnistAugment", aug.mnistAugment(), aug.mnistAugment({ size: [6, 8] }), GRAY);
  big.dispose();
});
