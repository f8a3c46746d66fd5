import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  type Augmentation,
  colorJitter,
  compose,
  type ComposeStep,
  fashionAugment,
  horizontalFlip,
  randomResizedCrop,
} from "../../augment/mod.ts";
import { assertTensorClose, setupBackend, thrown } from "../_utils.ts";
import { checkContract, images, values } from "./_helpers.ts";

await setupBackend();

// Ramps: x(i, j) = j / (w - 1) and y(i, j) = i / (h - 1). Views of a ramp show where their
// window came from: a row of the x ramp runs from the window's left to its right edge (reversed
// when mirrored), a column of the y ramp from its top to its bottom, in pixel centres.
function ramps(b: number, h: number, w: number): [tf.Tensor4D, tf.Tensor4D] {
  const x = new Float32Array(b * h * w), y = new Float32Array(b * h * w);
  for (let s = 0; s < b; s++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        x[(s * h + i) * w + j] = j / (w - 1);
        y[(s * h + i) * w + j] = i / (h - 1);
      }
    }
  }
  return [tf.tensor4d(x, [b, h, w, 1]), tf.tensor4d(y, [b, h, w, 1])];
}

Deno.test("fashionAugment keeps the contract on 28x28 garments", async () => {
  const x = images([8, 28, 28, 1]);
  await checkContract(fashionAugment(), x);
  await checkContract(fashionAugment({ size: 24 }), x, [8, 24, 24, 1]);
  x.dispose();
});

Deno.test("fashionAugment's flip mirrors: each view is the image or its mirror, both occur", () => {
  const [b, h, w] = [32, 12, 12];
  const x = images([b, h, w, 1], 5);
  const xv = values(x);
  const at = (s: number, i: number, j: number) => (s * h + i) * w + j;
  // the whole image (scale 1, square: torchvision's window is the image) and no jitter: only the
  // flip acts
  const only = (flip: number) => fashionAugment({ scale: [1, 1], flip, jitter: 0 });
  const kinds = (y: tf.Tensor4D) => {
    const yv = values(y);
    return Array.from({ length: b }, (_, s) => {
      let same = true, mirrored = true;
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          const v = yv[at(s, i, j)];
          if (Math.abs(v - xv[at(s, i, j)]) > 1e-6) same = false;
          if (Math.abs(v - xv[at(s, i, w - 1 - j)]) > 1e-6) mirrored = false;
        }
      }
      assert.ok(same || mirrored, `sample ${s} is neither the image nor its mirror`);
      return same ? "same" : "mirrored";
    });
  };
  const always = only(1)(x, 3), never = only(0)(x, 3), half = only(0.5)(x, 3);
  assert.deepEqual(kinds(always), Array(b).fill("mirrored"));
  assert.deepEqual(kinds(never), Array(b).fill("same"));
  const k = kinds(half);
  const flipped = k.filter((v) => v === "mirrored").length;
  // p 0.5 over 32 samples: 16 expected, outside 6..26 has probability < 1e-3
  assert.ok(flipped >= 6 && flipped <= 26, `${flipped} of ${b} mirrored at p 0.5`);
  tf.dispose([x, always, never, half]);
});

Deno.test("fashionAugment's crops keep 35-100% of the area and use the range; no rotation", () => {
  const [b, h, w] = [64, 56, 56];
  const [rx, ry] = ramps(b, h, w);
  const areas: number[] = [];
  let mirrored = 0;
  for (const seed of [1, 2, 3]) {
    // the default crop and flip, without the jitter (it changes values, so the ramps would no
    // longer read as pixel positions)
    const aug = fashionAugment({ jitter: 0 });
    const vx = values(aug(rx, seed)), vy = values(aug(ry, seed));
    for (let s = 0; s < b; s++) {
      const row = (i: number) => vx.slice((s * h + i) * w, (s * h + i + 1) * w);
      const first = row(0);
      const dx = first[w - 1] - first[0];
      if (dx < 0) mirrored++;
      const col = Array.from({ length: h }, (_, i) => vy[(s * h + i) * w]);
      const dy = col[h - 1] - col[0];
      assert.ok(dy > 0, `sample ${s}: the view is upside down or flat`);
      // window size in pixels from the ramps' span between the first and last pixel centres
      const width = Math.abs(dx) * (w - 1) + 1, height = dy * (h - 1) + 1;
      areas.push((width * height) / (h * w));
      // every row of a view shows the same columns, every column the same rows: no rotation or
      // shear
      for (let i = 0; i < h; i++) {
        const r = row(i);
        for (let j = 0; j < w; j++) {
          assert.ok(Math.abs(r[j] - first[j]) < 1e-4, `sample ${s} row ${i} is sheared`);
        }
      }
    }
  }
  const min = Math.min(...areas), max = Math.max(...areas);
  // torchvision rounds the window's sides to pixels: at 56 px an area can be off by ~4%
  assert.ok(min >= 0.35 * 0.96, `smallest window ${min.toFixed(3)} of the area, below 0.35`);
  assert.ok(max <= 1 + 1e-6, `largest window ${max.toFixed(3)}`);
  assert.ok(min < 0.45, `smallest of ${areas.length} windows ${min.toFixed(3)}: range unused`);
  assert.ok(max > 0.9, `largest of ${areas.length} windows ${max.toFixed(3)}: range unused`);
  assert.ok(mirrored > 0.3 * areas.length && mirrored < 0.7 * areas.length, `${mirrored} mirrored`);
  tf.dispose([rx, ry]);
});

Deno.test("fashionAugment's jitter changes brightness only, never the geometry", () => {
  const [b, h, w] = [16, 20, 20];
  const [rx] = ramps(b, h, w);
  const y = fashionAugment({ scale: [1, 1], flip: 0 })(rx, 7);
  const yv = values(y), xv = values(rx);
  let changed = 0;
  for (let s = 0; s < b; s++) {
    const view = yv.slice(s * h * w, (s + 1) * h * w), orig = xv.slice(s * h * w, (s + 1) * h * w);
    if (view.some((v, k) => Math.abs(v - orig[k]) > 1e-3)) changed++;
    // brightness / contrast are monotone per image: the ramp's order survives (ties from clipping)
    for (let j = 1; j < w; j++) assert.ok(view[j] >= view[j - 1] - 1e-6, `sample ${s} column ${j}`);
  }
  // jitter at p 0.8 over 16 samples
  assert.ok(changed >= 8, `${changed} of ${b} views jittered`);
  tf.dispose([rx, y]);
});

Deno.test("fashionAugment validates its options", () => {
  assert.throws(() => fashionAugment({ scale: [0.5, 1.5] }), RangeError);
  assert.throws(() => fashionAugment({ flip: 2 }), RangeError);
  assert.throws(() => fashionAugment({ jitter: -0.1 }), RangeError);
  // the jitter goes through the shared checkNumber like the other options: a type check, the
  // option's name in the message, and [0, 1] (a strength of 1 is torchvision's brightness [0, 2])
  assert.throws(
    () => fashionAugment({ jitter: 1.5 }),
    /fashionAugment: jitter must be in \[0, 1\]/,
  );
  assert.throws(() => fashionAugment({ jitter: "0.4" as unknown as number }), TypeError);
  assert.throws(() => fashionAugment({ jitter: NaN }), TypeError);
  fashionAugment({ jitter: 1 });
  assert.throws(() => fashionAugment({ jitterP: -1 }), RangeError);
});

Deno.test("fashionAugment is exactly the composition its docs list, options and all", () => {
  const x = images([6, 12, 12, 1], 9);
  // crop (aspect 3/4-4/3), flip, jitter; a step its option turns off is left out, and draws no
  // seed, so the steps after it keep theirs
  const crop = (scale: [number, number], size?: [number, number]) =>
    randomResizedCrop({ size, scale, ratio: [3 / 4, 4 / 3] });
  const jitter = (s: number, p: number): ComposeStep => [
    colorJitter({ brightness: s, contrast: s }),
    p,
  ];
  const cases: [string, Augmentation, Augmentation][] = [
    [
      "defaults",
      fashionAugment(),
      compose(crop([0.35, 1]), horizontalFlip({ p: 0.5 }), jitter(0.4, 0.8)),
    ],
    [
      "every option",
      fashionAugment({ size: [8, 10], scale: [0.5, 0.9], flip: 0.3, jitter: 0.9, jitterP: 0.6 }),
      compose(crop([0.5, 0.9], [8, 10]), horizontalFlip({ p: 0.3 }), jitter(0.9, 0.6)),
    ],
    ["flip 0", fashionAugment({ flip: 0 }), compose(crop([0.35, 1]), jitter(0.4, 0.8))],
    [
      "jitter 0",
      fashionAugment({ jitter: 0 }),
      compose(crop([0.35, 1]), horizontalFlip({ p: 0.5 })),
    ],
    [
      "jitterP 0",
      fashionAugment({ jitterP: 0 }),
      compose(crop([0.35, 1]), horizontalFlip({ p: 0.5 })),
    ],
  ];
  for (const [name, preset, want] of cases) {
    for (const seed of [1, 2]) {
      const [a, b] = [preset(x, seed), want(x, seed)];
      assertTensorClose(a, b, { rtol: 0, atol: 0 }, `${name}, seed ${seed}:`);
      tf.dispose([a, b]);
    }
  }
  x.dispose();
});

Deno.test("fashionAugment names the option it refuses", () => {
  const cases: [() => unknown, string, string][] = [
    [
      () => fashionAugment({ size: 0 }),
      "RangeError",
      "Cannot create fashionAugment: size must be at least 1, received [0,0]",
    ],
    [
      () => fashionAugment({ scale: [0.5, 1.5] }),
      "RangeError",
      "Cannot create fashionAugment: scale must satisfy 0 <= min <= max <= 1, received [0.5,1.5]",
    ],
    [
      () => fashionAugment({ flip: 2 }),
      "RangeError",
      "Cannot create fashionAugment: flip must be in [0, 1], received 2",
    ],
    [
      () => fashionAugment({ jitterP: -1 }),
      "RangeError",
      "Cannot create fashionAugment: jitterP must be in [0, 1], received -1",
    ],
  ];
  for (const [f, name, message] of cases) {
    const e = thrown(f, message);
    assert.equal(e.name, name);
    assert.equal(e.message, message);
  }
});
