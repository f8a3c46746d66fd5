/**
 * Synthetic text lines: random strings rendered with sharp (Pango) in several checked fonts.
 *
 * @module
 */
import { loadSharp } from "./_sharp.ts";
import { type Dataset, DatasetError, type Sample } from "./dataset.ts";
import { CHARSETS } from "./charsets.ts";
import { resolveFont } from "./_fonts.ts";
import { drawAffine, type Mask } from "./_raster.ts";
import { checkIndex, itemPrng, randInt, randNormal, randUniform } from "./_util.ts";

/** A font by fontconfig family name, or pinned by file (the family is read from the file). */
export type FontSpec = string | { family?: string; file: string };

/** Options for {@linkcode syntheticTextLines}. */
export interface SyntheticTextLinesOptions {
  /**
   * Characters transcripts are drawn from (see {@linkcode CHARSETS}); ignored when `corpus` is set.
   * @default CHARSETS.digits
   */
  charset?: string;
  /**
   * Text to cut transcripts from instead of random strings: one string (split into lines) or
   * lines. Each sample is a random window of `minChars` to `maxChars` characters of a random line.
   */
  corpus?: string | string[];
  /**
   * Fonts, each checked with fontconfig: a font that is not installed or lacks a glyph of the
   * charset is a {@linkcode DatasetError}, never a silent fallback.
   * @default DejaVu Sans/Serif/Sans Mono and Liberation Sans/Serif/Mono; Noto Sans/Serif CJK SC and
   * WenQuanYi Micro Hei when the charset has CJK characters
   */
  fonts?: FontSpec[];
  /**
   * Number of virtual samples (rendered on demand, nothing stored).
   * @default 800000 (the reference protocol's unlabeled set)
   */
  length?: number;
  /**
   * Seed: sample `i` depends only on `(seed, i)`.
   * @default 0
   */
  seed?: number;
  /** Image height in pixels. @default 32 */
  height?: number;
  /** Image width in pixels: every line is fitted into it (shrunk if too long). @default 128 */
  width?: number;
  /** 1 (gray) or 3 (RGB, slightly tinted). @default 1 */
  channels?: 1 | 3;
  /** Shortest transcript. @default 3 */
  minChars?: number;
  /** Longest transcript. @default 10 */
  maxChars?: number;
  /** Ink height as a fraction of `height`, min and max. @default [0.45, 0.85] */
  textHeight?: [number, number];
  /** Extra letter spacing in em, min and max. @default [-0.05, 0.3] */
  spacing?: [number, number];
  /** Standard deviation of each character's baseline shift, in em. @default 0.04 */
  baselineJitter?: number;
  /** Largest rotation in degrees (uniform in +-). @default 2 */
  rotation?: number;
  /** Ink-to-background contrast as a fraction of 255, min and max. @default [0.35, 1] */
  contrast?: [number, number];
  /** Largest standard deviation of the Gaussian pixel noise, as a fraction of 255. @default 0.05 */
  noise?: number;
}

/** A synthetic text-line dataset: `get` renders asynchronously. */
export interface SyntheticTextLines extends Dataset {
  /** The characters transcripts use. */
  readonly charset: string;
  /** The fonts, as checked: family and file. */
  readonly fonts: readonly { family: string; file: string }[];
  /** Renders sample `index`: the same `(seed, index)` always gives the same image and text. */
  get(index: number): Promise<Sample>;
}

const RENDER_PT = 32;
const LATIN_FONTS = [
  "DejaVu Sans",
  "DejaVu Serif",
  "DejaVu Sans Mono",
  "Liberation Sans",
  "Liberation Serif",
  "Liberation Mono",
];
const CJK_FONTS = ["Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Micro Hei"];

function escapeMarkup(ch: string): string {
  return ch === "&" ? "&amp;" : ch === "<" ? "&lt;" : ch === ">" ? "&gt;" : ch;
}

function checkPair(name: string, v: [number, number] | undefined, lo: number, hi: number) {
  if (!Array.isArray(v) || v.length !== 2 || !(v[0] >= lo && v[0] <= v[1] && v[1] <= hi)) {
    throw new RangeError(
      `Cannot build synthetic text lines: ${name} must be [min, max] with ${lo} <= min <= max <= ${hi}, received ${
        JSON.stringify(v)
      }`,
    );
  }
}

/**
 * The embedded default dataset for the sequence task: random strings (or corpus windows) rendered
 * in one of several fonts with random size, letter spacing, per-character baseline jitter, slight
 * rotation, contrast, background gradient and noise, on a fixed `height x width` canvas. `text` is
 * the transcript. Deterministic per `(seed, index)`, so 800k virtual samples need no storage.
 * Rendering takes about a millisecond per line; use a {@linkcode Loader} with `concurrency` to
 * keep several in flight. Needs `--allow-run` (fontconfig checks) and sharp's `--allow-env
 * --allow-read --allow-sys --allow-ffi` (sharp loads on the first render; importing needs none).
 *
 * @param options charset or corpus, fonts, size and distortion ranges
 * @returns the dataset (fonts already checked)
 *
 * @example
 * ```ts
 * import { syntheticTextLines } from "./synthetic_text_lines.ts";
 * import assert from "node:assert/strict";
 * const lines = syntheticTextLines({ seed: 1 });
 * const { image, text } = await lines.get(0);
 * assert.equal(image.length, 32 * 128);
 * assert.match(text!, /^[0-9]{3,10}$/);
 * assert.deepEqual((await lines.get(0)).image, image);
 * ```
 */
export function syntheticTextLines(options: SyntheticTextLinesOptions = {}): SyntheticTextLines {
  const {
    corpus,
    length = 800000,
    seed = 0,
    height = 32,
    width = 128,
    channels = 1,
    minChars = 3,
    maxChars = 10,
    textHeight = [0.45, 0.85],
    spacing = [-0.05, 0.3],
    baselineJitter = 0.04,
    rotation = 2,
    contrast = [0.35, 1],
    noise = 0.05,
  } = options;
  if (!Number.isInteger(length) || length < 1) {
    throw new RangeError(
      `Cannot build synthetic text lines: length must be a positive integer, received ${length}`,
    );
  }
  if (!Number.isInteger(seed)) {
    throw new RangeError(
      `Cannot build synthetic text lines: seed must be an integer, received ${seed}`,
    );
  }
  for (const [k, v] of [["height", height], ["width", width]] as const) {
    if (!Number.isInteger(v) || v < 8 || v > 4096) {
      throw new RangeError(
        `Cannot build synthetic text lines: ${k} must be an integer in [8, 4096], received ${v}`,
      );
    }
  }
  if (channels !== 1 && channels !== 3) {
    throw new RangeError(
      `Cannot build synthetic text lines: channels must be 1 or 3, received ${channels}`,
    );
  }
  if (
    !Number.isInteger(minChars) || !Number.isInteger(maxChars) || minChars < 1 ||
    maxChars < minChars
  ) {
    throw new RangeError(
      `Cannot build synthetic text lines: need integers 1 <= minChars <= maxChars, received ${minChars} and ${maxChars}`,
    );
  }
  checkPair("textHeight", textHeight, 0.05, 1);
  checkPair("spacing", spacing, -0.5, 2);
  checkPair("contrast", contrast, 0, 1);
  if (!(baselineJitter >= 0) || !(rotation >= 0 && rotation <= 45) || !(noise >= 0 && noise <= 1)) {
    throw new RangeError(
      `Cannot build synthetic text lines: need baselineJitter >= 0, 0 <= rotation <= 45 and 0 <= noise <= 1, received ${baselineJitter}, ${rotation}, ${noise}`,
    );
  }

  let lines: string[][] | undefined;
  let charset: string;
  if (corpus !== undefined) {
    const raw = typeof corpus === "string" ? corpus.split(/\r?\n/) : corpus;
    if (!Array.isArray(raw) || raw.some((l) => typeof l !== "string")) {
      throw new TypeError("Cannot build synthetic text lines: corpus must be a string or string[]");
    }
    lines = raw.map((l) => [...l.replace(/\s+/g, " ").trim()]).filter((l) => l.length > 0);
    if (lines.length === 0) {
      throw new DatasetError("Cannot build synthetic text lines: the corpus has no non-blank line");
    }
    charset = [...new Set(lines.flat())].sort().join("");
  } else {
    charset = options.charset ?? CHARSETS.digits;
    if (typeof charset !== "string" || [...charset].filter((c) => !/\s/.test(c)).length === 0) {
      throw new TypeError(
        `Cannot build synthetic text lines: charset must be a string with a visible character, received ${
          JSON.stringify(charset)
        }`,
      );
    }
    charset = [...new Set(charset)].join("");
  }
  const chars = [...charset];
  const cjk = chars.some((c) => c.codePointAt(0)! >= 0x2e80);
  const specs = options.fonts ?? (cjk ? CJK_FONTS : LATIN_FONTS);
  if (!Array.isArray(specs) || specs.length === 0) {
    throw new TypeError("Cannot build synthetic text lines: fonts must be a non-empty array");
  }
  const fonts = specs.map((f) => resolveFont(f, charset));

  function transcript(prng: () => number): string {
    for (let attempt = 0;; attempt++) {
      const n = randInt(prng, minChars, maxChars);
      let t: string;
      if (lines) {
        const line = lines[randInt(prng, 0, lines.length - 1)];
        const start = randInt(prng, 0, Math.max(0, line.length - n));
        t = line.slice(start, start + n).join("");
      } else {
        t = Array.from({ length: n }, () => chars[randInt(prng, 0, chars.length - 1)]).join("");
      }
      t = t.replace(/\s+/g, " ").trim();
      // Collapsed spaces can shorten a random string: draw again (a corpus window may be short).
      if (t.length > 0 && (lines || [...t].length >= minChars || attempt >= 20)) return t;
    }
  }

  const name = `synthetic-text-lines-${seed}`;
  async function get(index: number): Promise<Sample> {
    checkIndex(name, index, length);
    const prng = itemPrng(seed, index);
    // Every random draw happens here, in a fixed order, before rendering: the stream does not
    // depend on the font's metrics.
    const text = transcript(prng);
    const font = fonts[randInt(prng, 0, fonts.length - 1)];
    const ink = randUniform(prng, textHeight[0], textHeight[1]) * height;
    const letterSpacing = Math.round(randUniform(prng, spacing[0], spacing[1]) * RENDER_PT * 1024);
    const rises = [...text].map(() =>
      Math.round(randNormal(prng) * baselineJitter * RENDER_PT * 1024)
    );
    const angle = randUniform(prng, -rotation, rotation) * Math.PI / 180;
    const placeX = prng(), placeY = prng();
    const c = randUniform(prng, contrast[0], contrast[1]);
    const bg = randUniform(prng, c, 1) * 255;
    const fg = bg - c * 255;
    const gradient = randUniform(prng, -0.08, 0.08) * 255;
    const tint = Array.from({ length: channels }, () => randUniform(prng, -12, 12));
    const sigma = randUniform(prng, 0, noise) * 255;
    const noiseSeed = prng();

    const markup = `<span letter_spacing="${letterSpacing}">${
      [...text].map((ch, i) => `<span rise="${rises[i]}">${escapeMarkup(ch)}</span>`).join("")
    }</span>`;
    const sharp = await loadSharp();
    let rendered;
    try {
      rendered = await sharp({
        text: { text: markup, font: `${font.family} ${RENDER_PT}`, fontfile: font.file, dpi: 72 },
      }).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    } catch (cause) {
      throw new DatasetError(
        `Cannot render ${JSON.stringify(text)} in ${font.family}: ${(cause as Error).message}`,
        { cause },
      );
    }
    const { width: mw, height: mh } = rendered.info;
    const mask: Mask = { data: new Float32Array(mw * mh), width: mw, height: mh };
    for (let i = 0; i < mw * mh; i++) mask.data[i] = rendered.data[i] / 255;

    // Scale to the drawn ink height, then shrink until the rotated box fits with a 1 px margin.
    let s = ink / mh;
    const cos = Math.abs(Math.cos(angle)), sin = Math.abs(Math.sin(angle));
    const boxW = (k: number) => k * (mw * cos + mh * sin);
    const boxH = (k: number) => k * (mw * sin + mh * cos);
    s = Math.min(s, (width - 2) / boxW(1), (height - 2) / boxH(1));
    const bw = boxW(s), bh = boxH(s);
    const cx = 1 + bw / 2 + placeX * (width - 2 - bw);
    const cy = 1 + bh / 2 + placeY * (height - 2 - bh);
    const canvas: Mask = { data: new Float32Array(width * height), width, height };
    drawAffine(canvas, mask, cx, cy, s, s, angle);

    // Pixel noise: PCG per pixel costs ~5 ms a line, so a mulberry32 stream seeded from the
    // item's PRNG draws it (still deterministic per (seed, index)); Box-Muller gives pairs.
    let m = Math.floor(noiseSeed * 0x100000000) | 0;
    const uniform = () => {
      m = (m + 0x6d2b79f5) | 0;
      let t = Math.imul(m ^ (m >>> 15), 1 | m);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
    };
    let spare = NaN;
    const gauss = () => {
      if (!Number.isNaN(spare)) {
        const g = spare;
        spare = NaN;
        return g;
      }
      const r = Math.sqrt(-2 * Math.log(1 - uniform()));
      const th = 2 * Math.PI * uniform();
      spare = r * Math.sin(th);
      return r * Math.cos(th);
    };
    const image = new Uint8Array(height * width * channels);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const a = canvas.data[y * width + x];
        const base = bg + gradient * (x / width - 0.5);
        const v = base + (fg - base) * a;
        for (let ch = 0; ch < channels; ch++) {
          const n = sigma > 0 ? gauss() * sigma : 0;
          const t = channels === 3 ? tint[ch] : 0;
          image[(y * width + x) * channels + ch] = Math.max(
            0,
            Math.min(255, Math.round(v + t + n)),
          );
        }
      }
    }
    return { image, text };
  }

  return {
    name,
    length,
    shape: [height, width, channels],
    charset,
    fonts,
    get,
  };
}
