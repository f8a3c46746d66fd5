/**
 * `deno task preview -- --dataset <name> --augment <preset> --out views.png`: writes a PNG grid
 * of original images (first column) and their augmented views, for a person to check that an
 * augmentation pipeline looks right.
 *
 * The pieces are exported so other previews can reuse them: {@linkcode parsePreviewArgs},
 * {@linkcode loadPreviewDataset}, {@linkcode renderGrid} and {@linkcode preview} (e.g. a later
 * `--method <pretext task>` preview renders a pretext task's inputs with `renderGrid`).
 *
 * @module
 */
import {
  formatHelp,
  type OptionSpec,
  type ParsedOptions,
  parseOptions,
  runCommand,
} from "./_args.ts";
import sharp from "sharp";
import { tf } from "../backend/tf.ts";
import { type BackendName, useBackend } from "../backend/use_backend.ts";
import { type Augmentation, mnistAugment, simclrAugment, textAugment } from "../augment/mod.ts";
import {
  type Dataset,
  fashionMnist,
  mnist,
  mnistLines,
  pcg32,
  syntheticTextLines,
} from "../data/mod.ts";

/** The datasets the preview can show. */
export const PREVIEW_DATASETS = [
  "synthetic-text",
  "mnist",
  "fashion-mnist",
  "mnist-lines",
] as const;
/** A dataset name for {@linkcode preview}. */
export type PreviewDataset = typeof PREVIEW_DATASETS[number];
/** The augmentation presets the preview can apply. */
export const PREVIEW_PRESETS = ["simclr", "text", "mnist", "none"] as const;
/** A preset name for {@linkcode preview}. */
export type PreviewPreset = typeof PREVIEW_PRESETS[number];

/** Options for {@linkcode preview}; the command line's flags, parsed. */
export interface PreviewOptions {
  /**
   * The dataset to draw originals from.
   * @default "synthetic-text"
   */
  dataset?: PreviewDataset;
  /**
   * The augmentation preset.
   * @default "text" for text lines, "mnist" for MNIST and Fashion-MNIST
   */
  augment?: PreviewPreset;
  /**
   * Where the PNG goes.
   * @default "views.png"
   */
  out?: string;
  /**
   * Number of originals (grid rows).
   * @default 8
   */
  count?: number;
  /**
   * Augmented views per original (grid columns after the original).
   * @default 4
   */
  views?: number;
  /**
   * Seed of the sample choice and of the augmentations.
   * @default 0
   */
  seed?: number;
  /**
   * Dataset split (MNIST, Fashion-MNIST, MNIST lines).
   * @default "train"
   */
  split?: "train" | "test";
  /**
   * Integer upscaling of every pixel (nearest neighbor) so small images are visible.
   * @default 4 for images under 64 px high (else 1), lowered to keep the grid under 2000 px wide
   */
  zoom?: number;
  /**
   * The tfjs backend.
   * @default "cpu"
   */
  backend?: BackendName;
}

/** What {@linkcode preview} wrote. */
export interface PreviewResult {
  /** The PNG's path. */
  out: string;
  /** PNG width and height in pixels. */
  width: number;
  /** PNG height in pixels. */
  height: number;
  /** The dataset and preset used. */
  dataset: PreviewDataset;
  /** The preset applied. */
  augment: PreviewPreset;
  /** The dataset indices shown, one per row. */
  indices: number[];
}

const USAGE = `Usage: deno task preview [options]

Writes a PNG grid: each row is one original image (left) and its augmented views.
With --method <task>, renders a pretext task's inputs instead: rotation | relative-patch |
jigsaw | colorization | denoising-autoencoder | gan (its options: --method <task> --help).`;

/** Every option of `deno task preview` (augmented views), in `--help` order. */
export const PREVIEW_OPTIONS: readonly OptionSpec[] = [
  {
    name: "dataset",
    type: "string",
    choices: PREVIEW_DATASETS,
    description: "the dataset the originals come from",
    default: "synthetic-text",
  },
  {
    name: "augment",
    type: "string",
    choices: PREVIEW_PRESETS,
    description: "the augmentation preset",
    defaultText: "text for text lines, mnist for digits",
  },
  { name: "out", type: "string", description: "output PNG", default: "views.png" },
  { name: "count", type: "integer", description: "originals, one per row", default: 8, min: 1 },
  {
    name: "views",
    type: "integer",
    description: "augmented views per original",
    default: 4,
    min: 1,
  },
  {
    name: "seed",
    type: "integer",
    description: "seed of the sample choice and the augmentations",
    default: 0,
  },
  {
    name: "split",
    type: "string",
    choices: ["train", "test"],
    description: "dataset split",
    default: "train",
  },
  {
    name: "zoom",
    type: "integer",
    description: "integer pixel upscaling",
    defaultText: "automatic",
    min: 1,
  },
  {
    name: "backend",
    type: "string",
    choices: ["cpu", "wasm", "webgpu", "native", "tensorflow", "auto"],
    description: "the tfjs backend",
    default: "cpu",
  },
];

/** The result of {@linkcode parsePreviewArgs}: options to run, or the help text to print. */
export type ParsedPreviewArgs = { help: true; text: string } | {
  help: false;
  options: PreviewOptions;
};

/**
 * Parses the command line with the tasks' shared parser (cli/_args.ts): an unknown flag, a
 * missing value or a bad value is a `UsageError` saying what was expected and received.
 *
 * @param args the arguments after the script name
 * @returns the options, or `{ help: true, text }` for `-h`/`--help`
 *
 * @example
 * ```ts
 * import { parsePreviewArgs } from "./preview.ts";
 * import assert from "node:assert/strict";
 * const parsed = parsePreviewArgs(["--dataset", "mnist", "--augment", "simclr"]);
 * assert.equal(parsed.help ? "" : parsed.options.dataset, "mnist");
 * assert.throws(() => parsePreviewArgs(["--colour", "red"]));
 * ```
 */
export function parsePreviewArgs(args: string[]): ParsedPreviewArgs {
  // `deno task preview -- --flag` hands the script a literal "--" first
  const o = parseOptions(args[0] === "--" ? args.slice(1) : args, PREVIEW_OPTIONS);
  if (o.help) return { help: true, text: formatHelp(USAGE, PREVIEW_OPTIONS) };
  return { help: false, options: previewOptionsOf(o) };
}

function previewOptionsOf(o: ParsedOptions): PreviewOptions {
  return {
    dataset: o.dataset as PreviewDataset,
    augment: o.augment as PreviewPreset | undefined,
    out: o.out as string,
    count: o.count as number,
    views: o.views as number,
    seed: o.seed as number,
    split: o.split as "train" | "test",
    zoom: o.zoom as number | undefined,
    backend: o.backend as BackendName,
  };
}

/**
 * The command line of `deno task preview`; returns the exit code (2 and one line for a user
 * error, `--verbose` adds the stack). `--method <task>` hands over to the pretext preview.
 *
 * @param args command-line arguments
 * @returns 0 on success
 */
export async function previewMain(args: string[]): Promise<number> {
  const rest = args[0] === "--" ? args.slice(1) : args;
  if (rest.some((a) => a === "--method" || a.startsWith("--method="))) {
    const { pretextPreviewMain } = await import("./_preview_pretext.ts");
    return await pretextPreviewMain(rest);
  }
  return await runCommand(rest, PREVIEW_OPTIONS, USAGE, async (o) => {
    const r = await preview(previewOptionsOf(o));
    console.log(
      `wrote ${r.out} (${r.width}x${r.height}): ${r.dataset}, ${r.augment}, rows ${r.indices}`,
    );
    return 0;
  });
}

/**
 * Opens a dataset by its preview name.
 *
 * @param name the dataset
 * @param split train or test (ignored by synthetic text)
 * @returns the dataset
 */
export async function loadPreviewDataset(
  name: PreviewDataset,
  split: "train" | "test" = "train",
): Promise<Dataset> {
  switch (name) {
    case "synthetic-text":
      return syntheticTextLines({ seed: split === "train" ? 0 : 1 });
    case "mnist":
      return await mnist(split);
    case "fashion-mnist":
      return await fashionMnist(split);
    case "mnist-lines":
      return await mnistLines({ split });
  }
}

/**
 * The augmentation for a preset name.
 *
 * @param name the preset
 * @returns the augmentation (`none` is the identity)
 */
export function previewPreset(name: PreviewPreset): Augmentation {
  switch (name) {
    case "simclr":
      return simclrAugment({ strength: 0.5 });
    case "text":
      return textAugment();
    case "mnist":
      return mnistAugment();
    case "none":
      return (x) => tf.clone(x);
  }
}

/** Options for {@linkcode renderGrid}. */
export interface RenderGridOptions {
  /**
   * Integer upscaling of every pixel.
   * @default 1
   */
  zoom?: number;
  /**
   * Gap between cells in output pixels.
   * @default 2
   */
  gap?: number;
  /**
   * Extra gap after the first column (the originals).
   * @default 6
   */
  separator?: number;
  /**
   * Gray level of the gaps, 0-255.
   * @default 128
   */
  background?: number;
}

/** A raw image: `data` is `[height, width, channels]` uint8, row-major. */
export interface RawImage {
  /** Pixels. */
  data: Uint8Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** 1 or 3. */
  channels: number;
}

/**
 * Lays out images as a grid: row `r` shows `columns[0][r]`, `columns[1][r]`, ... Every column
 * is a batch of the same number of images; columns may differ in size (cells are aligned
 * top-left). Values in [0, 1] become 0-255.
 *
 * @param columns batches `[B, H, W, C]`, one per grid column, same `B` and `C`
 * @param options zoom, gaps and background
 * @returns the grid as a raw uint8 image
 *
 * @example
 * ```ts
 * import { tf } from "../backend/tf.ts";
 * import { renderGrid } from "./preview.ts";
 * import assert from "node:assert/strict";
 * const a = tf.ones([2, 3, 4, 1]) as tf.Tensor4D;
 * const grid = renderGrid([a, a], { gap: 1, separator: 0 });
 * assert.deepEqual([grid.height, grid.width], [2 * 3 + 3, 2 * 4 + 3]);
 * ```
 */
export function renderGrid(columns: tf.Tensor4D[], options: RenderGridOptions = {}): RawImage {
  const { zoom = 1, gap = 2, separator = 6, background = 128 } = options;
  if (columns.length === 0) {
    throw new RangeError("Cannot render a grid: expected at least one column, received none");
  }
  const [b, , , c] = columns[0].shape;
  for (const col of columns) {
    if (col.shape[0] !== b || col.shape[3] !== c) {
      throw new TypeError(
        `Cannot render a grid: every column must be [${b}, H, W, ${c}], received [${col.shape}]`,
      );
    }
  }
  const cellH = Math.max(...columns.map((col) => col.shape[1])) * zoom;
  const cellWs = columns.map((col) => col.shape[2] * zoom);
  const xs: number[] = [];
  let width = gap;
  cellWs.forEach((w, i) => {
    xs.push(width);
    width += w + gap + (i === 0 ? separator : 0);
  });
  const height = gap + b * (cellH + gap);
  const data = new Uint8Array(width * height * c).fill(background);
  columns.forEach((col, ci) => {
    const [, h, w] = col.shape;
    const v = col.dataSync();
    for (let s = 0; s < b; s++) {
      const y0 = gap + s * (cellH + gap);
      for (let y = 0; y < h * zoom; y++) {
        for (let x = 0; x < w * zoom; x++) {
          const src = ((s * h + Math.floor(y / zoom)) * w + Math.floor(x / zoom)) * c;
          const dst = ((y0 + y) * width + xs[ci] + x) * c;
          for (let k = 0; k < c; k++) {
            data[dst + k] = Math.round(Math.min(1, Math.max(0, v[src + k])) * 255);
          }
        }
      }
    }
  });
  return { data, width, height, channels: c };
}

/**
 * Loads `count` originals from a dataset (chosen with the seed), applies the preset `views`
 * times with different seeds, and writes the grid as a PNG.
 *
 * @param options dataset, preset, output path and layout
 * @returns where the PNG went, its size and the indices shown
 *
 * @example
 * ```ts ignore
 * import { preview } from "./preview.ts";
 * await preview({ dataset: "mnist", augment: "simclr", out: "runs/views.png" });
 * ```
 */
export async function preview(options: PreviewOptions = {}): Promise<PreviewResult> {
  const {
    dataset = "synthetic-text",
    out = "views.png",
    count = 8,
    views = 4,
    seed = 0,
    split = "train",
    backend = "cpu",
  } = options;
  const augment = options.augment ??
    (dataset === "synthetic-text" || dataset === "mnist-lines" ? "text" : "mnist");
  await useBackend(backend, { quiet: true });
  const ds = await loadPreviewDataset(dataset, split);
  const [h, w, c] = ds.shape;
  const prng = pcg32(seed);
  const indices = Array.from({ length: count }, () => Math.floor(prng() * ds.length));
  const pixels = new Float32Array(count * h * w * c);
  for (let i = 0; i < count; i++) {
    const sample = await ds.get(indices[i]);
    for (let j = 0; j < h * w * c; j++) pixels[i * h * w * c + j] = sample.image[j] / 255;
  }
  const pipeline = previewPreset(augment);
  const zoom = options.zoom ??
    Math.max(1, Math.min(h < 64 ? 4 : 1, Math.floor(2000 / ((views + 1) * w))));
  const columns: tf.Tensor4D[] = [tf.tensor4d(pixels, [count, h, w, c])];
  let grid: RawImage;
  try {
    for (let v = 0; v < views; v++) {
      columns.push(pipeline(columns[0], Math.floor(prng() * 0x100000000)));
    }
    grid = renderGrid(columns, { zoom });
  } finally {
    tf.dispose(columns);
  }
  await sharp(grid.data, {
    raw: { width: grid.width, height: grid.height, channels: grid.channels as 1 | 3 },
  }).png().toFile(out);
  return { out, width: grid.width, height: grid.height, dataset, augment, indices };
}

if (import.meta.main) {
  Deno.exit(await previewMain(Deno.args));
}
