/**
 * The options of `deno task preview` (augmented views): datasets, presets, every flag, and the
 * parse from a command line to {@linkcode PreviewOptions}.
 *
 * @module
 */
import { formatHelp, type OptionSpec, type ParsedOptions, parseOptions } from "./_args.ts";
import type { BackendName } from "../backend/use_backend.ts";

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
export const PREVIEW_PRESETS = ["simclr", "text", "mnist", "fashion", "none"] as const;
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
  /**
   * A title and column headings inside the picture; false for the bare grid.
   * @default true
   */
  labels?: boolean;
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

/** The opening of `deno task preview --help`. */
export const PREVIEW_USAGE = `Usage: deno task preview [options]

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
  { name: "bare", type: "boolean", description: "the grid alone: no title or column headings" },
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
  if (o.help) return { help: true, text: formatHelp(PREVIEW_USAGE, PREVIEW_OPTIONS) };
  return { help: false, options: previewOptionsOf(o) };
}

/**
 * The parsed flags as {@linkcode PreviewOptions}.
 *
 * @param o the parsed command line
 * @returns the preview's options
 */
export function previewOptionsOf(o: ParsedOptions): PreviewOptions {
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
    labels: !o.bare,
  };
}
