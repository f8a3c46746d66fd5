/**
 * The named configurations and scale presets of `deno task protocol`, and the attribution of
 * every setting: what the source gives (and which of those a run changed), and what the source
 * leaves open (our choices, with the value used).
 *
 * `[0]` the source document, section "训练流程": SimCLR and SimSiam, SGD momentum 0.8, lr 3e-4,
 * batch 96, 10 epochs over 800,000 lines; then AdamW ("ADW") lr 3e-4, batch 8, the recognizer's
 * two-layer MLP for 10 epochs over 40,000 labeled lines; then AdamW lr 3e-5, batch 8, the whole
 * network for 40 epochs. Baseline: AdamW lr 3e-4, batch 8, 50 epochs over the 40,000.
 *
 * @module
 */
import { camelCase, type ParsedOptions } from "./_args.ts";
import { PROTOCOL_OPTIONS } from "./_protocol_options.ts";

/** The settings the source gives `[0]`, by option: nothing else may be attributed to it. */
export const SOURCE_SETTINGS: Readonly<Record<string, string | number>> = {
  methods: "simclr,simsiam",
  unlabeled: 800_000,
  labeled: 40_000,
  pretrainEpochs: 10,
  pretrainBatch: 96,
  pretrainLr: 3e-4,
  momentum: 0.8,
  batchSize: 8,
  headLr: 3e-4,
  headEpochs: 10,
  finetuneLr: 3e-5,
  finetuneEpochs: 40,
  supervisedLr: 3e-4,
  supervisedEpochs: 50,
};

/** One setting of a named configuration, with the reason. */
export interface ConfigSetting {
  value: string | number;
  why: string;
}

/**
 * The named configurations: `source` changes nothing (the option defaults are the source's);
 * `tuned` lists every change and why. Explicit options override both.
 */
export const CONFIGS: Readonly<Record<string, Readonly<Record<string, ConfigSetting>>>> = {
  source: {},
  tuned: {
    methods: {
      value: "simclr",
      why: "SimSiam's fine-tuned arm trailed SimCLR's in every earlier run (300 lines: 62.0% vs " +
        "75.5% on synthetic text, 21.5% vs 26.5% on MNIST lines); one method halves stage 1",
    },
    pretrainLr: {
      value: 0.05,
      why: "at a few hundred steps 3e-4 barely moves the weights; 0.05 is within SimSiam's SGD " +
        "recipe (0.05 x batch / 256) and below SimCLR's, and learned in the earlier runs " +
        "(SimCLR top-1 8% -> 65% in 200 steps)",
    },
    momentum: { value: 0.9, why: "the usual SGD momentum with lr 0.05 (SimSiam, SimCLR)" },
    pretrainEpochs: {
      value: 1,
      why: "one pass over the 50,000 lines (520 steps of 96, about 22 min per seed alone on one " +
        "core: the probe measured 2.6 s per SimCLR step); the source's 10 would take 3.7 h per seed",
    },
    finetuneLr: {
      value: 3e-4,
      why: "the baseline's lr: at 3e-5 fine-tuning fell 17-22 points behind the baseline at 300 " +
        "lines in the earlier runs; with one lr the arms differ only in their start",
    },
    headEpochs: {
      value: 1,
      why:
        "the budget; at the tuned epochs head + fine-tune equal the baseline's (1 + 4 = 5), as " +
        "in the source (10 + 40 = 50)",
    },
    finetuneEpochs: { value: 4, why: "the budget (see --head-epochs)" },
    supervisedEpochs: {
      value: 5,
      why:
        "the budget: the labeled arms cost epochs x 9,000 lines over the four sizes, about 0.115 s " +
        "per step of 8 alone on one core; 5 epochs keep them near 21 min per seed, the whole " +
        "3-seed run near 2.2 h",
    },
  },
};

/** A scale preset: the set sizes and the labeled fractions the arms train on. */
export interface ScalePreset {
  unlabeled: number;
  labeled: number;
  test: number;
  fractions: string;
}

/**
 * `full`: the source's 800,000 / 40,000. `machine`: sized for this repository's 2-core CPU: the
 * sequence encoder at its own widths, 50,000 unlabeled lines, a label-efficiency curve at 1%, 2%,
 * 5% and 10% of them (500 to 5,000 lines), and 1,200 test lines (one line is 0.083 points).
 */
export const SCALES: Readonly<Record<string, ScalePreset>> = {
  full: { unlabeled: 800_000, labeled: 40_000, test: 2_000, fractions: "0.01,0.1,1" },
  machine: { unlabeled: 50_000, labeled: 5_000, test: 1_200, fractions: "0.1,0.2,0.5,1" },
};

function defaultOf(key: string): string | number | boolean | undefined {
  return PROTOCOL_OPTIONS.find((s) => camelCase(s.name) === key)?.default;
}

/**
 * Applies `--config` and a named `--scale` to `o`: a preset value replaces an option that was
 * not given on the command line and still holds its default.
 *
 * @param o options as parsed
 * @param given the options given explicitly
 * @returns the options with the presets applied
 */
export function applyPresets(o: ParsedOptions, given: ReadonlySet<string>): ParsedOptions {
  const out = { ...o };
  const free = (key: string) => !given.has(key) && out[key] === defaultOf(key);
  const config = CONFIGS[String(o.config ?? "source")] ?? {};
  for (const [key, s] of Object.entries(config)) if (free(key)) out[key] = s.value;
  const scale = SCALES[String(o.scale ?? "full")];
  if (scale) {
    for (const key of ["unlabeled", "labeled", "test"] as const) {
      if (!given.has(key) && out[key] === undefined) out[key] = scale[key];
    }
    if (free("fractions")) out.fractions = scale.fractions;
  }
  return out;
}

const EPOCH_KEYS = ["pretrainEpochs", "headEpochs", "finetuneEpochs", "supervisedEpochs"];

/**
 * The source's settings that `o` changes, as `--flag value (source: value)`, in `--help` order.
 * Only settings the source gives ({@linkcode SOURCE_SETTINGS}) appear, with the source's value;
 * epochs are compared after `--epochs-scale`, set sizes after the scale preset (`sizes`).
 *
 * @param o options as parsed (presets applied)
 * @param sizes the resolved unlabeled and labeled sizes, when known
 * @returns one entry per changed setting
 *
 * @example
 * ```ts
 * import { sourceDifferences } from "./_protocol_configs.ts";
 * import { PROTOCOL_OPTIONS } from "./_protocol_options.ts";
 * import { parseOptions } from "./_args.ts";
 * import assert from "node:assert/strict";
 * const o = parseOptions(["--finetune-lr", "3e-4", "--seed", "3"], PROTOCOL_OPTIONS);
 * assert.deepEqual(sourceDifferences(o), ["--finetune-lr 0.0003 (source: 0.00003)"]);
 * ```
 */
export function sourceDifferences(
  o: ParsedOptions,
  sizes?: { unlabeled: number; labeled: number },
): string[] {
  const out: string[] = [];
  const es = (o.epochsScale as number | undefined) ?? 1;
  for (const spec of PROTOCOL_OPTIONS) {
    const key = camelCase(spec.name);
    if (!(key in SOURCE_SETTINGS)) continue;
    const source = SOURCE_SETTINGS[key];
    let value = o[key];
    if (key === "unlabeled" || key === "labeled") value = sizes?.[key] ?? value;
    if (value === undefined) continue;
    if (EPOCH_KEYS.includes(key) && es !== 1) {
      const eff = key === "pretrainEpochs"
        ? (value as number) * es
        : Math.max(1, Math.round((value as number) * es));
      if (eff !== source) {
        out.push(`--${spec.name} ${value} x --epochs-scale ${es} = ${eff} (source: ${source})`);
      }
      continue;
    }
    if (value !== source) out.push(`--${spec.name} ${value} (source: ${source})`);
  }
  return out;
}

/**
 * The choices the source leaves open, as ours, each with the value this run used.
 *
 * @param o options as parsed (presets applied)
 * @param resolved the encoder, widths, test size and seeds the plan resolved
 * @returns one entry per choice
 */
export function ourChoices(
  o: ParsedOptions,
  resolved: { encoder: string; widths: number[] | null; test: number; seeds: number[] },
): string[] {
  return [
    `encoder: ${resolved.encoder}${
      resolved.widths
        ? ` widths ${resolved.widths.join(",")}`
        : resolved.encoder === "sequence"
        ? " at its own widths 32,64,128,128"
        : ""
    } (the source trains its recognizer's encoder without giving it)`,
    `--head-hidden ${o.headHidden}: the two-layer head's hidden ReLU units (the source: "two fully-connected layers", no size)`,
    `--weight-decay ${o.weightDecay}: AdamW's decoupled weight decay in the labeled stages, none on biases or norms (the source names AdamW, "ADW", without a decay)`,
    "pretraining lr schedule: constant, weight decay 0 (the source gives SGD's lr and momentum only)",
    "projection 128 units (SimCLR and SimSiam), SimSiam predictor hidden 64 (the source's code leaves PROJECT_DIM and LATENT_DIM unset)",
    "augmentation: textAugment for lines (crops, small affine, blur, contrast, brightness, noise), mnistAugment for MNIST lines; the source lists such kinds, not their strengths",
    `labeled sizes: --fractions ${o.fractions} of the labeled set, at least --min-labeled ${o.minLabeled} (the source trains on its 40,000 only)`,
    `test set: ${resolved.test} held-out lines (the source gives none)`,
    `seeds: ${resolved.seeds.join(", ")} (the source reports one run)`,
    "decoding: CTC greedy (best path) for accuracy and CER",
  ];
}

function flagOf(key: string): string {
  return key.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`);
}

/**
 * Why the named configuration sets what it sets: one `flag value: why` entry per setting of
 * `--config` that this run kept (a setting given on the command line with another value is left
 * out: its reason is not this run's; see {@linkcode configOverrides}).
 *
 * @param o options as parsed (presets applied)
 * @returns one entry per kept setting, without the leading `--`
 */
export function configReasons(o: ParsedOptions): string[] {
  return Object.entries(CONFIGS[String(o.config ?? "source")] ?? {})
    .filter(([key, c]) => o[key] === c.value)
    .map(([key, c]) => `${flagOf(key)} ${c.value}: ${c.why}`);
}

/**
 * The settings of the named configuration that this run replaced with its own (given on the
 * command line), as `--flag value (tuned: value)`, so a report does not pass them off as the
 * configuration's nor leave them out because they happen to equal the source's.
 *
 * @param o options as parsed (presets applied)
 * @returns one entry per replaced setting
 *
 * @example
 * ```ts
 * import { applyPresets, configOverrides } from "./_protocol_configs.ts";
 * import { PROTOCOL_OPTIONS } from "./_protocol_options.ts";
 * import { givenOptions, parseOptions } from "./_args.ts";
 * import assert from "node:assert/strict";
 * const args = ["--config", "tuned", "--supervised-epochs", "50"];
 * const o = applyPresets(parseOptions(args, PROTOCOL_OPTIONS), givenOptions(args, PROTOCOL_OPTIONS));
 * assert.deepEqual(configOverrides(o), ["--supervised-epochs 50 (tuned: 5)"]);
 * ```
 */
export function configOverrides(o: ParsedOptions): string[] {
  const name = String(o.config ?? "source");
  return Object.entries(CONFIGS[name] ?? {})
    .filter(([key, c]) => o[key] !== undefined && o[key] !== c.value)
    .map(([key, c]) => `--${flagOf(key)} ${o[key]} (${name}: ${c.value})`);
}
