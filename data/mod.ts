/**
 * selfsup data: sources (MNIST, Fashion-MNIST, image folders, synthetic text lines, MNIST digit
 * lines) that all implement {@linkcode Dataset}, and the {@linkcode Loader} that turns one into
 * seeded, prefetched, resumable uint8 batches.
 *
 * @module
 */

export { pcg32, type Prng, tensorSeed, tfjsSeed } from "./prng.ts";
export { type Dataset, DatasetError, type Sample } from "./dataset.ts";
export { type InMemoryDataset, inMemoryDataset } from "./in_memory.ts";
export { mnist, type MnistOptions } from "./mnist.ts";
export { FASHION_MNIST_CLASSES, fashionMnist, type FashionMnistOptions } from "./fashion_mnist.ts";
export { type Batch, Loader, type LoaderOptions, type LoaderPosition } from "./loader.ts";
export { batchToTensor } from "./batch_to_tensor.ts";
export { imagesOf } from "./images_of.ts";
export { CHARSETS } from "./charsets.ts";
export {
  type FontSpec,
  type SyntheticTextLines,
  syntheticTextLines,
  type SyntheticTextLinesOptions,
} from "./synthetic_text_lines.ts";
export {
  type MnistLines,
  mnistLines,
  type MnistLineSample,
  type MnistLinesOptions,
} from "./mnist_lines.ts";
export { type ImageFolder, imageFolder, type ImageFolderOptions } from "./image_folder.ts";
export { saveImageGrid, type SaveImageGridOptions } from "./save_image_grid.ts";
