/**
 * The plan of a protocol run: the resolved sets, labeled sizes, encoder and epochs, from the
 * parsed options.
 *
 * @module
 */
import { METHOD_NAMES } from "../methods/mod.ts";
import { type ParsedOptions, UsageError } from "./_args.ts";
import type { ProtocolSizes } from "./_protocol_data.ts";
import { REFERENCE_SIZES } from "./_protocol_options.ts";

/** Resolved settings of a run. */
export interface Plan {
  name: string;
  dir: string;
  methods: string[];
  dataset: string;
  sizes: ProtocolSizes;
  labeledSizes: number[];
  fractions: number[];
  encoder: "sequence" | "convnet" | "resnet18";
  widths?: number[];
  epochs: { pretrain: number; head: number; fineTune: number; supervised: number };
  /** The seeds every stage and arm runs with. */
  seeds: number[];
  o: ParsedOptions;
}

/** The folder of one seed's stages: `<run>/seed-<s>` with `--seeds`, else the run folder. */
export function seedDir(p: Plan, seed: number): string {
  return p.o.seeds === undefined ? p.dir : `${p.dir}/seed-${seed}`;
}

/** `--scale`: `full`, `machine` or a fraction in (0, 1] of the reference sizes. */
export function scaleFraction(text: string): number {
  if (text === "full" || text === "machine") return 1;
  const v = Number(text);
  if (text.trim() === "" || !Number.isFinite(v)) {
    throw new UsageError(`--scale must be full, machine or a number in (0, 1], received "${text}"`);
  }
  if (v <= 0) throw new UsageError(`--scale must be > 0, received ${text}`);
  if (v > 1) throw new UsageError(`--scale must be <= 1, received ${text}`);
  return v;
}

export function list(text: string, flag: string): string[] {
  const items = text.split(",").map((s) => s.trim());
  if (items.some((s) => s.length === 0)) {
    // "simclr,,simsiam" or a trailing comma: a typo, not a list of two
    throw new UsageError(
      `--${flag} must be a comma-separated list without empty entries, received "${text}"`,
    );
  }
  return items;
}

export function plan(o: ParsedOptions): Plan {
  const methods = list(o.methods as string, "methods");
  for (const m of methods) {
    if (!(METHOD_NAMES as readonly string[]).includes(m)) {
      throw new UsageError(
        `--methods must list some of ${METHOD_NAMES.join(", ")}, received "${m}"`,
      );
    }
  }
  if (new Set(methods).size !== methods.length) {
    throw new UsageError(`--methods must not repeat a method, received "${o.methods}"`);
  }
  const fractions = list(o.fractions as string, "fractions").map((s) => {
    const v = Number(s);
    if (!(v > 0 && v <= 1)) {
      throw new UsageError(`--fractions must be numbers in (0, 1], received "${o.fractions}"`);
    }
    return v;
  }).sort((a, b) => a - b);
  const widths = o.widths === undefined
    ? undefined
    : list(o.widths as string, "widths").map((s) => {
      const v = Number(s);
      if (!Number.isInteger(v) || v < 1) {
        throw new UsageError(
          `--widths must be positive integers separated by commas, received "${o.widths}"`,
        );
      }
      return v;
    });
  const scale = scaleFraction(String(o.scale));
  const seeds = o.seeds === undefined ? [o.seed as number] : list(String(o.seeds), "seeds").map(
    (t) => {
      const v = Number(t);
      if (!Number.isInteger(v) || v < 0) {
        throw new UsageError(
          `--seeds must be non-negative integers separated by commas, received "${o.seeds}"`,
        );
      }
      return v;
    },
  );
  if (new Set(seeds).size !== seeds.length) {
    throw new UsageError(`--seeds must not repeat a seed, received "${o.seeds}"`);
  }
  const pretrainBatch = o.pretrainBatch as number;
  const minLabeled = o.minLabeled as number;
  const unlabeled = (o.unlabeled as number | undefined) ??
    Math.max(pretrainBatch, Math.round(REFERENCE_SIZES.unlabeled * scale));
  const labeled = (o.labeled as number | undefined) ??
    Math.max(minLabeled, Math.round(REFERENCE_SIZES.labeled * scale));
  const test = (o.test as number | undefined) ??
    Math.min(2000, Math.max(200, Math.round(labeled / 4)));
  if (unlabeled < pretrainBatch) {
    throw new UsageError(
      `--unlabeled must hold at least one pretraining batch (${pretrainBatch}), received ${unlabeled}`,
    );
  }
  const labeledSizes = [
    ...new Set(
      fractions.map((f) => Math.min(labeled, Math.max(minLabeled, Math.round(f * labeled)))),
    ),
  ];
  const es = o.epochsScale as number;
  const scaled = (e: number) => Math.max(1, Math.round(e * es));
  const dataset = o.dataset as string;
  if (dataset === "folder:") {
    throw new UsageError('--dataset folder:<dir> needs a folder, received "folder:"');
  }
  const encoder = (o.encoder as Plan["encoder"] | undefined) ??
    (dataset.startsWith("folder:") ? "convnet" : "sequence");
  const name = (o.runName as string | undefined) ??
    `protocol-${dataset.replace(/[^a-z0-9-]/gi, "_")}-${
      new Date().toISOString().replace(/[:.]/g, "-")
    }`;
  return {
    name,
    dir: `${o.out}/${name}`,
    methods,
    dataset,
    sizes: { unlabeled, labeled, test },
    labeledSizes,
    fractions,
    encoder,
    ...(widths ? { widths } : {}),
    epochs: {
      pretrain: (o.pretrainEpochs as number) * es,
      head: scaled(o.headEpochs as number),
      fineTune: scaled(o.finetuneEpochs as number),
      supervised: scaled(o.supervisedEpochs as number),
    },
    seeds,
    o,
  };
}
