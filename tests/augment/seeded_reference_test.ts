/**
 * Each augmentation against a plain float64 reference of what it documents, drawn from the same
 * seeded parameters (the op's PCG32 stream, in the documented order): the geometry of the
 * affine warp and the scale, and the colour changes, pixel by pixel. Contract tests (shape,
 * range, "the seed changes the output") pass for almost any op; these fail when an angle is read
 * as radians, the translation axes are swapped, a preset drops a step, or a probability is off.
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import * as aug from "../../augment/mod.ts";
import { assertTensorClose, pcg32, setupBackend } from "../_utils.ts";
import { images, lineCrop } from "./_helpers.ts";

await setupBackend();

type Shape = [number, number, number, number];
const LUMA = [0.299, 0.587, 0.114];
const TOL = { rtol: 1e-4, atol: 1e-4 };

function u(prng: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * prng();
}

/** Bilinear sample of channel k of sample s at real pixel coordinates (y, x), inside the image. */
function bilinear(
  v: ArrayLike<number>,
  [, h, w, c]: Shape,
  s: number,
  y: number,
  x: number,
  k: number,
): number {
  const y0 = Math.floor(y), x0 = Math.floor(x);
  const y1 = Math.min(y0 + 1, h - 1), x1 = Math.min(x0 + 1, w - 1);
  const fy = y - y0, fx = x - x0;
  const at = (yy: number, xx: number) => v[((s * h + yy) * w + xx) * c + k];
  return (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
    fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
}

/**
 * Compares a geometric warp with a reference inverse map `(s, y, x) => [yIn, xIn]` on every output
 * pixel whose source lies inside the image (the fill mode decides the rest); returns how many.
 */
function checkWarp(
  y: tf.Tensor4D,
  x: tf.Tensor4D,
  inverse: (s: number, row: number, col: number) => [number, number],
  label: string,
): number {
  const shape = x.shape as Shape;
  const [b, h, w, c] = shape;
  const [, oh, ow] = y.shape;
  const xv = x.dataSync(), yv = y.dataSync();
  let checked = 0;
  for (let s = 0; s < b; s++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const [yi, xi] = inverse(s, i, j);
        if (!(yi >= 0 && yi <= h - 1 && xi >= 0 && xi <= w - 1)) continue;
        for (let k = 0; k < c; k++) {
          const want = bilinear(xv, shape, s, yi, xi, k);
          const got = yv[((s * oh + i) * ow + j) * c + k];
          assert.ok(
            Math.abs(got - want) <= 1e-4,
            `${label}: sample ${s} pixel (${i}, ${j}) channel ${k}: ${got} vs ${want}`,
          );
        }
        checked++;
      }
    }
  }
  return checked;
}

Deno.test("randomAffine warps by the drawn angle in degrees, shear, zoom and (rows, columns) shift", () => {
  // a non-square image and unequal shifts, so swapped axes or radians show
  const shape: Shape = [6, 14, 22, 2];
  const options = {
    degrees: 30,
    shear: 12,
    scale: [0.8, 1.2] as [number, number],
    translate: [0.2, 0.05] as [number, number],
  };
  for (const seed of [1, 2, 3]) {
    const x = images(shape, seed);
    const y = aug.randomAffine({ ...options, fill: "constant" })(x, seed);
    const prng = pcg32(seed);
    const [, h, w] = shape;
    const cy = (h - 1) / 2, cx = (w - 1) / 2;
    // forward map about the center, then the shift: out = c + d + s R(angle) Shear (in - c)
    const inv = Array.from({ length: shape[0] }, () => {
      const angle = u(prng, -30, 30) * Math.PI / 180;
      const sh = Math.tan(u(prng, -12, 12) * Math.PI / 180);
      const s = u(prng, 0.8, 1.2);
      const dy = u(prng, -0.2, 0.2) * h, dx = u(prng, -0.05, 0.05) * w;
      const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
      // M = s [[cos, -sin], [sin, cos]] [[1, sh], [0, 1]] acting on (x, y)
      const m = [[s * cos, s * (cos * sh - sin)], [s * sin, s * (sin * sh + cos)]];
      const det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
      return (row: number, col: number): [number, number] => {
        const px = col - cx - dx, py = row - cy - dy;
        return [
          cy + (-m[1][0] * px + m[0][0] * py) / det,
          cx + (m[1][1] * px - m[0][1] * py) / det,
        ];
      };
    });
    const n = checkWarp(y, x, (s, i, j) => inv[s](i, j), `seed ${seed}`);
    assert.ok(n > shape[0] * 14 * 22 * 0.4, `compared ${n} pixels`);
    tf.dispose([x, y]);
  }
});

Deno.test("randomScale places the image scaled by the drawn factor at the drawn offset", () => {
  const shape: Shape = [5, 10, 16, 1];
  for (const [position, size] of [["random", [12, 20]], ["center", undefined]] as const) {
    const x = images(shape, 4);
    const y = aug.randomScale({ scale: [0.6, 1.5], position, size: size as [number, number] })(
      x,
      7,
    );
    const [oh, ow] = size ?? [10, 16];
    const prng = pcg32(7);
    const params = Array.from({ length: shape[0] }, () => {
      const s = u(prng, 0.6, 1.5);
      const ux = position === "center" ? 0.5 : prng();
      const uy = position === "center" ? 0.5 : prng();
      // the scaled image (16 s wide, 10 s tall) starts at (tx, ty) of the canvas
      return { s, tx: ux * (ow - 16 * s), ty: uy * (oh - 10 * s) };
    });
    const n = checkWarp(y, x, (s, i, j) => {
      const p = params[s];
      return [(i + 0.5 - p.ty) / p.s - 0.5, (j + 0.5 - p.tx) / p.s - 0.5];
    }, `randomScale ${position}`);
    assert.ok(n > 100, `compared ${n} pixels`);
    tf.dispose([x, y]);
  }
});

/** Applies a per-sample pixel map `(sample, values of one pixel) => values` to every pixel. */
function perPixel(
  x: tf.Tensor4D,
  f: (s: number, px: number[], pixel: number) => number[],
): Float64Array {
  const [b, h, w, c] = x.shape;
  const v = x.dataSync();
  const out = new Float64Array(v.length);
  for (let s = 0; s < b; s++) {
    for (let p = 0; p < h * w; p++) {
      const o = (s * h * w + p) * c;
      out.set(f(s, Array.from(v.subarray(o, o + c)), p), o);
    }
  }
  return out;
}

const clip = (v: number) => Math.min(1, Math.max(0, v));

/** Per-image, per-channel means of `x` `[B, H, W, C]`. */
function means(x: tf.Tensor4D): number[][] {
  const [b, h, w, c] = x.shape;
  const v = x.dataSync();
  return Array.from({ length: b }, (_, s) =>
    Array.from({ length: c }, (_, k) => {
      let m = 0;
      for (let p = 0; p < h * w; p++) m += v[(s * h * w + p) * c + k];
      return m / (h * w);
    }));
}

Deno.test("colour ops match their formulas with the drawn per-sample parameters", () => {
  const shape: Shape = [6, 5, 7, 3];
  const x = images(shape, 9);
  const cases: [string, aug.Augmentation, () => Float64Array][] = [
    ["brightness", aug.brightness({ delta: 0.3 }), () => {
      const prng = pcg32(5);
      const d = Array.from({ length: 6 }, () => u(prng, -0.3, 0.3));
      return perPixel(x, (s, px) => px.map((v) => clip(v + d[s])));
    }],
    ["contrast", aug.contrast({ factor: 0.6 }), () => {
      const prng = pcg32(5);
      const f = Array.from({ length: 6 }, () => u(prng, 0.4, 1.6));
      const m = means(x);
      return perPixel(x, (s, px) => px.map((v, k) => clip(f[s] * (v - m[s][k]) + m[s][k])));
    }],
    ["solarize", aug.solarize({ threshold: [0.3, 0.7] }), () => {
      const prng = pcg32(5);
      const t = Array.from({ length: 6 }, () => u(prng, 0.3, 0.7));
      return perPixel(x, (s, px) => px.map((v) => v >= t[s] ? 1 - v : v));
    }],
    ["randomGrayscale", aug.randomGrayscale({ p: 0.5 }), () => {
      const prng = pcg32(5);
      const gray = Array.from({ length: 6 }, () => prng() < 0.5);
      return perPixel(x, (s, px) => {
        const l = px[0] * LUMA[0] + px[1] * LUMA[1] + px[2] * LUMA[2];
        return gray[s] ? [l, l, l] : px;
      });
    }],
    ["channelShuffle", aug.channelShuffle(), () => {
      const prng = pcg32(5);
      const perms = Array.from({ length: 6 }, () => {
        let perm: number[];
        do {
          perm = [0, 1, 2];
          for (let k = 2; k > 0; k--) {
            const j = Math.floor(prng() * (k + 1));
            [perm[k], perm[j]] = [perm[j], perm[k]];
          }
        } while (perm.every((v, k) => v === k));
        return perm;
      });
      return perPixel(x, (s, px) => perms[s].map((from) => px[from]));
    }],
    ["horizontalFlip", aug.horizontalFlip({ p: 0.5 }), () => {
      const prng = pcg32(5);
      const flip = Array.from({ length: 6 }, () => prng() < 0.5);
      const v = x.dataSync();
      return perPixel(x, (s, _px, p) => {
        const [row, col] = [Math.floor(p / 7), p % 7];
        const src = flip[s] ? 6 - col : col;
        const o = ((s * 5 + row) * 7 + src) * 3;
        return Array.from(v.subarray(o, o + 3));
      });
    }],
    ["gaussianNoise", aug.gaussianNoise({ std: [0.02, 0.2] }), () => {
      const prng = pcg32(5);
      const sigma = Array.from({ length: 6 }, () => u(prng, 0.02, 0.2));
      const noise: number[] = [];
      while (noise.length < 6 * 5 * 7 * 3) {
        const r = Math.sqrt(-2 * Math.log(Math.max(prng(), 1e-12)));
        const t = 2 * Math.PI * prng();
        noise.push(r * Math.cos(t), r * Math.sin(t));
      }
      const v = x.dataSync();
      return Float64Array.from(v, (val, i) => clip(val + noise[i] * sigma[Math.floor(i / 105)]));
    }],
  ];
  for (const [name, op, reference] of cases) {
    const y = op(x, 5);
    assertTensorClose(y.dataSync(), reference(), TOL, `${name}:`);
    y.dispose();
  }
  x.dispose();
  // "at or above": a value equal to the threshold is inverted (random pixels never hit it)
  const edge = tf.tensor4d([0.25, 0.2, 0.3, 0.25], [1, 2, 2, 1]);
  const solarized = aug.solarize({ threshold: [0.25, 0.25] })(edge, 1);
  assertTensorClose(solarized, [0.75, 0.2, 0.7, 0.75], { rtol: 0, atol: 1e-7 }, "solarize edge:");
  tf.dispose([edge, solarized]);
});

Deno.test("cutout blanks the drawn rectangle: inside the image, or centred anywhere and clipped", () => {
  const shape: Shape = [8, 9, 11, 2];
  const x = images(shape, 3, 0.1, 1);
  for (const inside of [true, false]) {
    const y = aug.cutout({ size: [0.4, 0.3], fill: 0.5, inside })(x, 6);
    const prng = pcg32(6);
    const [rh, rw] = [Math.round(0.4 * 9), Math.round(0.3 * 11)];
    const boxes = Array.from({ length: 8 }, () => {
      const top = inside ? Math.floor(prng() * (9 - rh + 1)) : Math.floor(prng() * 9) - (rh >> 1);
      const left = inside
        ? Math.floor(prng() * (11 - rw + 1))
        : Math.floor(prng() * 11) - (rw >> 1);
      return { top, left };
    });
    const want = perPixel(x, (s, px, p) => {
      const [row, col] = [Math.floor(p / 11), p % 11];
      const { top, left } = boxes[s];
      const hit = row >= top && row < top + rh && col >= left && col < left + rw;
      return hit ? px.map(() => 0.5) : px;
    });
    assertTensorClose(y.dataSync(), want, TOL, `cutout inside=${inside}:`);
    y.dispose();
  }
  x.dispose();
});

Deno.test("colorJitter applies the four drawn factors in each sample's drawn order", () => {
  const shape: Shape = [5, 4, 6, 3];
  const x = images(shape, 12);
  const [bj, cj, sj, hj] = [0.5, 0.4, 0.7, 0.15];
  const y = aug.colorJitter({ brightness: bj, contrast: cj, saturation: sj, hue: hj })(x, 8);
  const prng = pcg32(8);
  const yiq = [[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [
    0.211456,
    -0.522591,
    0.311135,
  ]];
  // pixel = YIQ^-1 R YIQ pixel; the inverse by solving with the cofactor formula
  const inv3 = (m: number[][]) => {
    const [[a, b, c], [d, e, f], [g, h, i]] = m;
    const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    return [
      [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
      [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
      [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
    ];
  };
  const yiqInv = inv3(yiq);
  const mul = (m: number[][], v: number[]) => m.map((r) => r[0] * v[0] + r[1] * v[1] + r[2] * v[2]);
  const [, h, w] = shape;
  const v = x.dataSync();
  const out = new Float64Array(v.length);
  for (let s = 0; s < 5; s++) {
    const order = ["brightness", "contrast", "saturation", "hue"];
    for (let k = 3; k > 0; k--) {
      const j = Math.floor(prng() * (k + 1));
      [order[k], order[j]] = [order[j], order[k]];
    }
    let img = Array.from(
      { length: h * w },
      (_, p) => Array.from(v.subarray((s * h * w + p) * 3, (s * h * w + p) * 3 + 3)),
    );
    for (const op of order) {
      if (op === "brightness") {
        const f = u(prng, 1 - bj, 1 + bj);
        img = img.map((px) => px.map((c) => clip(c * f)));
      } else if (op === "contrast") {
        const f = u(prng, 1 - cj, 1 + cj);
        const m = [0, 1, 2].map((k) => img.reduce((a, px) => a + px[k], 0) / (h * w));
        img = img.map((px) => px.map((c, k) => clip(f * (c - m[k]) + m[k])));
      } else if (op === "saturation") {
        const f = u(prng, 1 - sj, 1 + sj);
        img = img.map((px) => {
          const l = px[0] * LUMA[0] + px[1] * LUMA[1] + px[2] * LUMA[2];
          return px.map((c) => clip(f * c + (1 - f) * l));
        });
      } else {
        const t = 2 * Math.PI * u(prng, -hj, hj);
        img = img.map((px) => {
          const [yy, i, q] = mul(yiq, px);
          const rotated = [
            yy,
            Math.cos(t) * i - Math.sin(t) * q,
            Math.sin(t) * i + Math.cos(t) * q,
          ];
          return mul(yiqInv, rotated).map(clip);
        });
      }
    }
    img.forEach((px, p) => out.set(px, (s * h * w + p) * 3));
  }
  assertTensorClose(y.dataSync(), out, { rtol: 1e-4, atol: 2e-4 }, "colorJitter:");
  tf.dispose([x, y]);
});

Deno.test("horizontalFlip and randomGrayscale fire with their probability over 4000 samples", () => {
  const n = 4000;
  // one sample = one 1x2 (flip) or 1x1 RGB (grayscale) image; count how many changed
  const a = tf.tile(tf.tensor4d([0, 1], [1, 1, 2, 1]), [n, 1, 1, 1]) as tf.Tensor4D;
  const flipped = aug.horizontalFlip({ p: 0.3 })(a, 77);
  const fv = flipped.dataSync();
  let flips = 0;
  for (let i = 0; i < n; i++) flips += fv[2 * i] === 1 ? 1 : 0;
  const rgb = tf.tile(tf.tensor4d([1, 0, 0], [1, 1, 1, 3]), [n, 1, 1, 1]) as tf.Tensor4D;
  const grayed = aug.randomGrayscale({ p: 0.2 })(rgb, 78);
  const gv = grayed.dataSync();
  let grays = 0;
  for (let i = 0; i < n; i++) grays += Math.abs(gv[3 * i] - LUMA[0]) < 1e-6 ? 1 : 0;
  // binomial standard deviations: 0.0072 and 0.0063; allow 4 of them
  assert.ok(Math.abs(flips / n - 0.3) < 0.029, `flip frequency ${flips / n}`);
  assert.ok(Math.abs(grays / n - 0.2) < 0.026, `grayscale frequency ${grays / n}`);
  tf.dispose([a, flipped, rgb, grayed]);
});

Deno.test("compose draws a fresh seed for each step, then that step's per-sample coin", () => {
  const x = images([6, 5, 5, 1], 6, 0.2, 0.8);
  const b1 = aug.brightness({ delta: 0.1 }), b2 = aug.brightness({ delta: 0.1 });
  const c = aug.contrast({ factor: 0.5 });
  const y = aug.compose(b1, [c, 0.5], b2)(x, 31);
  // compose's stream: seed of step 1; seed of step 2, its 6 coins; seed of step 3
  const prng = pcg32(31);
  const seed = () => Math.floor(prng() * 2 ** 32);
  const s1 = seed(), s2 = seed();
  const coins = Array.from({ length: 6 }, () => prng() < 0.5);
  const s3 = seed();
  assert.notEqual(s1, s3);
  const want = tf.tidy(() => {
    const a = b1(x, s1);
    const mixed = tf.concat(
      coins.map((on, i) => tf.slice(on ? c(a, s2) : a, i, 1)),
      0,
    ) as tf.Tensor4D;
    return b2(mixed, s3);
  });
  assertTensorClose(y, want, { rtol: 1e-5, atol: 1e-6 }, "compose:");
  assert.ok(coins.some((v) => v) && coins.some((v) => !v), "both branches taken");
  tf.dispose([x, y, want]);
});

Deno.test("simclrAugment and mnistAugment are exactly the compositions they document", () => {
  const rgb = images([4, 16, 16, 3], 2);
  const gray = images([4, 28, 28, 1], 3);
  const simclr = (s: number, blur: boolean) =>
    aug.compose(
      aug.randomResizedCrop({ size: 12, scale: [0.2, 1] }),
      aug.horizontalFlip({ p: 0.5 }),
      [
        aug.colorJitter({
          brightness: 0.8 * s,
          contrast: 0.8 * s,
          saturation: 0.8 * s,
          hue: 0.2 * s,
        }),
        0.8,
      ],
      aug.randomGrayscale({ p: 0.2 }),
      ...(blur ? [[aug.gaussianBlur(), 0.5] as aug.ComposeStep] : []),
    );
  const mnist = aug.compose(
    [
      aug.randomAffine({
        degrees: 15,
        shear: 10,
        scale: [0.85, 1.1],
        translate: [0.1, 0.1],
        fill: "constant",
        fillValue: 0,
      }),
      0.8,
    ],
    aug.randomResizedCrop({ scale: [0.5, 1], ratio: [3 / 4, 4 / 3] }),
    [aug.colorJitter({ brightness: 0.4, contrast: 0.4 }), 0.8],
    [aug.gaussianBlur({ sigma: [0.1, 1] }), 0.5],
    [aug.gaussianNoise({ std: [0, 0.1] }), 0.5],
  );
  for (const seed of [1, 2, 3, 4, 5]) {
    for (const [strength, blur] of [[0.5, false], [1, true]] as const) {
      const preset = aug.simclrAugment({ size: 12, strength, blur, scale: [0.2, 1] });
      const [got, want] = [preset(rgb, seed), simclr(strength, blur)(rgb, seed)];
      assertTensorClose(got, want, { rtol: 0, atol: 1e-6 }, `simclr s ${strength} seed ${seed}:`);
      tf.dispose([got, want]);
    }
    const [got, want] = [aug.mnistAugment()(gray, seed), mnist(gray, seed)];
    assertTensorClose(got, want, { rtol: 0, atol: 1e-6 }, `mnist seed ${seed}:`);
    tf.dispose([got, want]);
  }
  tf.dispose([rgb, gray]);
});

Deno.test("textAugment is its documented line crop, then the documented steps", () => {
  const x = images([4, 12, 40, 3], 5);
  // the line crop: per sample width fraction, height fraction, then left and top, resized back
  const crop = lineCrop([0.96, 1], [0.6, 1]);
  const p = 0.5;
  const text = aug.compose(
    crop,
    [aug.randomAffine({ degrees: 2, shear: 5, scale: [0.95, 1.05], translate: [0.05, 0.01] }), p],
    [aug.gaussianBlur({ sigma: [0.1, 1.5] }), p],
    [aug.contrast({ factor: 0.5 }), p],
    [aug.brightness({ delta: 0.2 }), p],
    [aug.channelShuffle(), p / 2],
    [aug.randomGrayscale({ p: 1 }), p / 2],
    [aug.gaussianNoise({ std: [0, 0.05] }), p],
  );
  for (const seed of [1, 2, 3, 4, 5]) {
    const [got, want] = [aug.textAugment()(x, seed), text(x, seed)];
    assertTensorClose(got, want, { rtol: 0, atol: 1e-6 }, `text seed ${seed}:`);
    tf.dispose([got, want]);
  }
  x.dispose();
});

Deno.test("twoViews and multiCrop run the pipeline with their own per-view seeds, globals first", () => {
  const x = images([3, 14, 14, 3], 8);
  const flip = aug.horizontalFlip({ p: 0.5 });
  const jitter = aug.brightness({ delta: 0.2 });
  const prng = pcg32(41);
  const seed = () => Math.floor(prng() * 2 ** 32);
  const [a, b] = aug.twoViews(x, jitter, 41);
  const [s1, s2] = [seed(), seed()];
  assert.notEqual(s1, s2);
  const [wa, wb] = [jitter(x, s1), jitter(x, s2)];
  assertTensorClose(a, wa, { rtol: 0, atol: 0 }, "twoViews first:");
  assertTensorClose(b, wb, { rtol: 0, atol: 0 }, "twoViews second:");
  const views = aug.multiCrop(
    x,
    {
      global: { count: 2, size: 10, scale: [0.5, 1] },
      local: { count: 3, size: 6, scale: [0.1, 0.3] },
    },
    42,
    flip,
  );
  const draw = pcg32(42);
  const next = () => Math.floor(draw() * 2 ** 32);
  const globalCrop = aug.randomResizedCrop({ size: 10, scale: [0.5, 1] });
  const localCrop = aug.randomResizedCrop({ size: 6, scale: [0.1, 0.3] });
  assert.equal(views.length, 5);
  views.forEach((v, i) => {
    const [cropSeed, pipeSeed] = [next(), next()];
    const want = tf.tidy(() => flip((i < 2 ? globalCrop : localCrop)(x, cropSeed), pipeSeed));
    assertTensorClose(v, want, { rtol: 0, atol: 0 }, `multiCrop view ${i}:`);
    want.dispose();
  });
  tf.dispose([x, a, b, wa, wb, ...views]);
});
