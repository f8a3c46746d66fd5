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
import { dirname } from "node:path";
import sharp from "sharp";
import { tf } from "../backend/tf.ts";
import { useBackend } from "../backend/use_backend.ts";
import {
  type Augmentation,
  fashionAugment,
  mnistAugment,
  simclrAugment,
  textAugment,
} from "../augment/mod.ts";
import {
  type Dataset,
  fashionMnist,
  mnist,
  mnistLines,
  pcg32,
  syntheticTextLines,
} from "../data/mod.ts";
import { runCommand } from "./_args.ts";
import { checkOutputFolder } from "./_runs.ts";
import {
  PREVIEW_OPTIONS,
  PREVIEW_USAGE,
  type PreviewDataset,
  type PreviewOptions,
  previewOptionsOf,
  type PreviewPreset,
  type PreviewResult,
} from "./_preview_options.ts";
import { type RawImage, renderGrid } from "./_preview_grid.ts";
import { labelGrid } from "./_grid_labels.ts";

export {
  type ParsedPreviewArgs,
  parsePreviewArgs,
  PREVIEW_DATASETS,
  PREVIEW_OPTIONS,
  PREVIEW_PRESETS,
  type PreviewDataset,
  type PreviewOptions,
  type PreviewPreset,
  type PreviewResult,
} from "./_preview_options.ts";
export { type RawImage, renderGrid, type RenderGridOptions } from "./_preview_grid.ts";
export type { OptionSpec } from "./_args.ts";

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
  return await runCommand(rest, PREVIEW_OPTIONS, PREVIEW_USAGE, async (o) => {
    const options = previewOptionsOf(o);
    // the output folder first: a bad --out must not surface from sharp after the work is done
    const out = options.out ?? "views.png";
    await checkOutputFolder(dirname(out), "--out", out);
    await Deno.mkdir(dirname(out), { recursive: true });
    const r = await preview(options);
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
    case "fashion":
      return fashionAugment();
    case "none":
      return (x) => tf.clone(x);
  }
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
  if (options.labels ?? true) {
    const labelled = await labelGrid(grid, {
      title: `${dataset} (${split}): ${augment} augmentation, ${views} view${
        views === 1 ? "" : "s"
      } of each image`,
      columns: ["original", ...Array.from({ length: views }, (_, v) => `view ${v + 1}`)],
    });
    await Deno.writeFile(out, labelled.png);
    return { out, width: labelled.width, height: labelled.height, dataset, augment, indices };
  }
  await sharp(grid.data, {
    raw: { width: grid.width, height: grid.height, channels: grid.channels as 1 | 3 },
  }).png().toFile(out);
  return { out, width: grid.width, height: grid.height, dataset, augment, indices };
}

if (import.meta.main) {
  Deno.exit(await previewMain(Deno.args));
}
