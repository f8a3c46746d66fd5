/**
 * The options of `deno task table` (cli/table.ts), apart so the command's file stays readable.
 *
 * @module
 */
import {
  TABLE_DATASETS,
  TABLE_DEFAULT_FEATURES,
  TABLE_DEFAULT_VIEWS,
  TABLE_METHODS,
  TABLE_VIEWS,
} from "../eval/method_table.ts";
import { RECIPE_NAMES } from "../methods/mod.ts";
import type { OptionSpec } from "./_args.ts";

/** Every option of `deno task table`. */
export const TABLE_OPTIONS: readonly OptionSpec[] = [
  {
    name: "quick",
    type: "boolean",
    description: "the quick size: 100 steps, 1 seed, 3 probe epochs",
  },
  {
    name: "steps",
    type: "integer",
    description: "optimizer steps per pretraining",
    min: 1,
    defaultText: "1000 (quick: 100)",
  },
  { name: "batch-size", type: "integer", description: "images per step", default: 64, min: 2 },
  {
    name: "seeds",
    type: "integer",
    description: "seeds per row (0, 1, ...)",
    min: 1,
    defaultText: "3 (quick: 1)",
  },
  {
    name: "probe-epochs",
    type: "integer",
    description: "linear-probe epochs over the 60k features",
    min: 1,
    defaultText: "10 (quick: 3)",
  },
  {
    name: "methods",
    type: "string",
    description: "comma-separated methods",
    defaultText: TABLE_METHODS.join(","),
  },
  {
    name: "datasets",
    type: "string",
    description: "comma-separated datasets",
    defaultText: TABLE_DATASETS.join(","),
  },
  {
    name: "views",
    type: "string",
    description: "view preset of every dataset (mnist: mnistAugment, fashion: fashionAugment)",
    choices: TABLE_VIEWS,
    defaultText: Object.entries(TABLE_DEFAULT_VIEWS).map(([d, v]) => `${v} on ${d}`).join(", "),
  },
  {
    name: "widths",
    type: "string",
    description: "comma-separated ConvNet widths (the supervised baseline uses the same)",
    default: "16,32,64",
  },
  {
    name: "features",
    type: "string",
    description:
      "what kNN and probe read from every encoder: pooled, or map (the flattened map before the pooling)",
    choices: ["pooled", "map"],
    defaultText: Object.entries(TABLE_DEFAULT_FEATURES).map(([d, v]) => `${v} on ${d}`).join(", "),
  },
  {
    name: "no-baselines",
    type: "boolean",
    description: "leave out raw pixels, random init and supervised",
  },
  {
    name: "no-supervised",
    type: "boolean",
    description: "leave out the supervised baseline only (raw pixels and random init still run)",
  },
  {
    name: "out",
    type: "string",
    description: "report path without extension",
    defaultText: "bench/table/table[-quick]",
  },
  {
    name: "recipe",
    type: "string",
    description: "recipe family of every method",
    choices: RECIPE_NAMES,
    defaultText: "each method's default (paper; tuned for simclr)",
  },
  {
    name: "resume",
    type: "boolean",
    description: "continue an interrupted run: the rows and seeds in <out>.json are read back",
  },
  {
    name: "from",
    type: "string",
    description: "re-render <out>.md from comma-separated JSON reports (e.g. one per dataset)",
  },
  {
    name: "notes",
    type: "string",
    description:
      'JSON file of one-line notes per dataset and method, shown in a last column (e.g. {"fashion-mnist": {"byol": "why it is below raw pixels"}}); a resumed run keeps the notes of its report',
  },
  {
    name: "backend",
    type: "string",
    description: "TensorFlow.js backend",
    defaultText: "$SELFSUP_BACKEND, else auto",
    choices: ["auto", "tensorflow", "native", "webgpu", "wasm", "cpu"],
  },
];
