import { tf } from "../backend/tf.ts";
import { UMAP } from "umap-js";
import { pcg32 } from "../data/prng.ts";
import { axes, document, frame, legend, legendSize, PALETTE, placeLegend } from "./_svg.ts";

/** Options for {@linkcode plotUmap}. */
export interface PlotUmapOptions {
  /**
   * UMAP neighbourhood size. `[0]` McInnes et al. 2018, arXiv:1802.03426.
   * @default 15
   */
  nNeighbors?: number;
  /**
   * UMAP minimum distance between embedded points. `[0]` McInnes et al. 2018.
   * @default 0.1
   */
  minDist?: number;
  /**
   * Seed of UMAP's random initialization and sampling.
   * @default 0
   */
  seed?: number;
  /** Chart title. */
  title?: string;
  /** Names of the classes for the legend (default: the label numbers). */
  classNames?: readonly string[];
  /**
   * Canvas size in pixels (square).
   * @default 560
   */
  size?: number;
}

/** What {@linkcode plotUmap} returns. */
export interface UmapPlot {
  /** The 2-D embedding, one `[x, y]` per input row. */
  embedding: number[][];
  /** The SVG document. */
  svg: string;
}

/**
 * Embeds features in 2-D with UMAP (npm `umap-js`) and draws them as a scatter plot colored by
 * label, written as a self-contained SVG to `path` (when given).
 *
 * @param features embeddings, shape `[N, D]` (a tensor or rows of numbers)
 * @param labels class per row, shape `[N]`
 * @param path where to write the SVG; `undefined` or `""` to only return it
 * @returns the embedding and the SVG
 *
 * @example
 * ```ts
 * import { plotUmap } from "./plot_umap.ts";
 * import assert from "node:assert/strict";
 * const rows = Array.from({ length: 30 }, (_, i) => [i % 2 ? 5 : 0, (i * 7) % 3, i % 5]);
 * const labels = rows.map((_, i) => i % 2);
 * const { embedding, svg } = await plotUmap(rows, labels, "", { nNeighbors: 5 });
 * assert.equal(embedding.length, 30);
 * assert.equal(svg.match(/<circle/g)?.length, 30);
 * ```
 */
export async function plotUmap(
  features: tf.Tensor | readonly (readonly number[])[],
  labels: tf.Tensor | ArrayLike<number>,
  path?: string,
  options: PlotUmapOptions = {},
): Promise<UmapPlot> {
  const { nNeighbors = 15, minDist = 0.1, seed = 0, title, classNames, size = 560 } = options;
  let rows: number[][];
  if (features instanceof tf.Tensor) {
    if (features.rank !== 2) {
      throw new TypeError(
        `Cannot plot UMAP: features must be [N, D], received shape [${features.shape}]`,
      );
    }
    rows = features.arraySync() as number[][];
  } else {
    rows = features.map((r) => Array.from(r));
  }
  const y = Array.from(
    labels instanceof tf.Tensor ? labels.dataSync() as ArrayLike<number> : labels,
  );
  if (y.length !== rows.length) {
    throw new TypeError(`Cannot plot UMAP: expected ${rows.length} labels, received ${y.length}`);
  }
  if (rows.length < 3) {
    throw new RangeError(`Cannot plot UMAP: expected at least 3 points, received ${rows.length}`);
  }
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.min(nNeighbors, rows.length - 1),
    minDist,
    random: pcg32(seed),
  });
  const embedding = umap.fit(rows);
  const xs = embedding.map((p) => p[0]), ys = embedding.map((p) => p[1]);
  const xr: [number, number] = [Math.min(...xs), Math.max(...xs)];
  const yr: [number, number] = [Math.min(...ys), Math.max(...ys)];
  const f = frame(xr, yr, size, size);
  const classes = [...new Set(y)].sort((a, b) => a - b);
  const color = (c: number) => PALETTE[classes.indexOf(c) % PALETTE.length];
  const body = [
    axes(f, xr, yr, { title: title ?? "UMAP of embeddings", xLabel: "UMAP 1", yLabel: "UMAP 2" }),
  ];
  const points: [number, number][] = [];
  embedding.forEach(([px, py], i) => {
    const cx = f.sx(px), cy = f.sy(py);
    points.push([cx, cy]);
    body.push(
      `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="3" fill="${
        color(y[i])
      }" fill-opacity="0.8"/>`,
    );
  });
  // legend() escapes the names
  const entries = classes.map((c) => ({ name: classNames?.[c] ?? String(c), color: color(c) }));
  const box = legendSize(entries.map((e) => e.name));
  const at = placeLegend(f, box, { points, segments: [] });
  body.push(legend(f, entries, at));
  const svg = document(at.outside ? size + box.w + 20 : size, size, body.join("\n"));
  if (path) await Deno.writeTextFile(path, svg);
  return { embedding, svg };
}
