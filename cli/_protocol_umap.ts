/**
 * The UMAP plots of a protocol run: mean-pooled test embeddings of each pretrained encoder and of
 * the random initialization.
 *
 * @module
 */
import { extractFeatures, plotUmap } from "../eval/mod.ts";
import { type MemorySet, prefix } from "./_protocol_data.ts";
import type { ProtocolResults } from "./_protocol_report.ts";
import { type Context, load } from "./_protocol_io.ts";

/** UMAP of mean-pooled test embeddings of each pretrained encoder and of the random init. */
export async function umapStage(ctx: Context): Promise<ProtocolResults["umap"]> {
  const { p, data, say } = ctx;
  const count = Math.min(p.o.umapPoints as number, data.test.length);
  if (count < 10) return null;
  const set: MemorySet = prefix(data.test, count);
  const charset = data.charset;
  const labels = set.samples.map((s) =>
    data.task === "sequence" ? charset!.indexOf(s.text![0]) : s.label ?? 0
  );
  const classNames = data.task === "sequence" ? Array.from(charset!) : undefined;
  const plots: string[] = [];
  const encoders: [string, string][] = [
    ["random-init", `${ctx.dir}/init/encoder`],
    ...p.methods.map((m): [string, string] => [m, `${ctx.dir}/pretrain-${m}/encoder`]),
  ];
  for (const [name, dir] of encoders) {
    const file = `umap_${name.replace(/[^a-z0-9]/gi, "_")}.svg`;
    const encoder = await load(dir);
    const features = await extractFeatures(encoder, set, { pool: "mean", batchSize: 64 });
    await plotUmap(features, labels, `${p.dir}/plots/${file}`, {
      seed: ctx.seed,
      title: `${
        name === "random-init" ? "random-init" : `${name}-pretrained`
      } encoder: ${count} test ${
        data.task === "sequence" ? "lines by first character" : "images by label"
      }`,
      ...(classNames ? { classNames } : {}),
      nNeighbors: Math.min(15, count - 1),
    });
    features.dispose();
    encoder.dispose();
    plots.push(file);
    say(`umap: plots/${file}`);
  }
  return {
    plots,
    seed: ctx.seed,
    coloring: data.task === "sequence"
      ? "each point is one test line's embedding, the mean of its frame features [L, D] over the " +
        "L frames (the frozen encoder after stage 1, or at random init); the color is the line's " +
        "first character. Frames carry no character alignment, so a per-frame coloring would " +
        "need a trained recognizer's alignment; the first character is the ground-truth label " +
        "nearest to one line."
      : "each point is one test image's pooled embedding, colored by its class.",
  };
}
