import {
  axes,
  document,
  escapeXml,
  frame,
  legend,
  legendSize,
  type Marks,
  PALETTE,
  placeLegend,
} from "./_svg.ts";

/** One line of a {@linkcode plotLines} chart. */
export interface LineSeries {
  /** Legend name. */
  name: string;
  /** X values (e.g. steps, epochs, labeled-set sizes). */
  x: readonly number[];
  /** Y values, same count; non-finite points break the line. */
  y: readonly number[];
  /**
   * Error bar half-widths, same count (e.g. the std over seeds); a bar from `y - e` to `y + e`
   * is drawn where `e` is finite and positive.
   */
  yErr?: readonly number[];
}

/** Options for {@linkcode plotLines}. */
export interface PlotLinesOptions {
  /** Chart title. */
  title?: string;
  /** X-axis label. */
  xLabel?: string;
  /** Y-axis label. */
  yLabel?: string;
  /**
   * Logarithmic x axis (for labeled-set sizes such as 1%, 10%, 100%).
   * @default false
   */
  logX?: boolean;
  /**
   * The x values to tick and label instead of the automatic ticks, e.g. the labeled-set sizes a
   * curve was measured at (a log axis's automatic ticks are 1, 2, 5 x 10^k, which may miss all
   * but one of them). Values outside the data's x range are left out, and so is a tick whose
   * label would overlap the one before it.
   */
  xTicks?: readonly number[];
  /**
   * Canvas width in pixels.
   * @default 640
   */
  width?: number;
  /**
   * Canvas height in pixels.
   * @default 400
   */
  height?: number;
}

/**
 * Draws line series (loss curves, accuracy against labeled-set size) as a self-contained SVG
 * with axes, ticks, a title, optional error bars and a legend, writes it to `path` when one is
 * given, and returns it. The legend goes in an inner corner that covers no point, line or error
 * bar; when every corner would cover data, it goes outside the plot area, on the right.
 *
 * @param series the lines
 * @param path where to write the SVG; `undefined` or `""` to only return it
 * @returns the SVG document
 *
 * @example
 * ```ts
 * import { plotLines } from "./plot_lines.ts";
 * import assert from "node:assert/strict";
 * const svg = await plotLines([{ name: "loss", x: [0, 1, 2], y: [2, 1, 0.5] }], "", { title: "Loss" });
 * assert.ok(svg.startsWith("<svg") && svg.includes("<polyline"));
 * ```
 */
export async function plotLines(
  series: readonly LineSeries[],
  path?: string,
  options: PlotLinesOptions = {},
): Promise<string> {
  const { title, xLabel, yLabel, logX = false, xTicks, width = 640, height = 400 } = options;
  if (!Array.isArray(series as unknown)) {
    throw new TypeError(`Cannot plot lines: series must be an array, received ${typeof series}`);
  }
  for (const s of series) {
    if (s.x.length !== s.y.length) {
      throw new TypeError(
        `Cannot plot lines: series ${
          JSON.stringify(s.name)
        } has ${s.x.length} x values and ${s.y.length} y values`,
      );
    }
    if (s.yErr !== undefined && s.yErr.length !== s.y.length) {
      throw new TypeError(
        `Cannot plot lines: series ${
          JSON.stringify(s.name)
        } has ${s.y.length} y values and ${s.yErr.length} error bars`,
      );
    }
    if (logX && s.x.some((v) => !(v > 0))) {
      throw new RangeError(
        `Cannot plot lines: a log x axis needs positive x values in ${JSON.stringify(s.name)}`,
      );
    }
  }
  const xs = series.flatMap((s) =>
    s.x.filter((v, i) => Number.isFinite(v) && Number.isFinite(s.y[i]))
  );
  const err = (s: LineSeries, i: number) => {
    const e = s.yErr?.[i];
    return e !== undefined && Number.isFinite(e) && e > 0 ? e : 0;
  };
  const ys = series.flatMap((s) =>
    s.y.flatMap((v, i) =>
      Number.isFinite(v) && Number.isFinite(s.x[i]) ? [v - err(s, i), v + err(s, i)] : []
    )
  );
  const xr: [number, number] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  const yr: [number, number] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  const f = frame(xr, yr, width, height, logX);
  const body: string[] = [axes(f, xr, yr, { title, xLabel, yLabel }, logX, xTicks)];
  const marks: Marks = { points: [], segments: [] };
  const points = marks.points as [number, number][];
  const segments = marks.segments as [number, number, number, number][];
  series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length];
    let run: [number, number][] = [];
    const flush = () => {
      if (run.length > 1) {
        body.push(
          `<polyline fill="none" stroke="${color}" stroke-width="2" points="${
            run.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ")
          }"/>`,
        );
        for (let i = 1; i < run.length; i++) segments.push([...run[i - 1], ...run[i]]);
      }
      run = [];
    };
    s.x.forEach((x, i) => {
      const y = s.y[i];
      if (!Number.isFinite(x) || !Number.isFinite(y)) return flush();
      const px = f.sx(x), py = f.sy(y);
      run.push([px, py]);
      points.push([px, py]);
      const e = err(s, i);
      if (e > 0) {
        const lo = f.sy(y - e), hi = f.sy(y + e);
        body.push(
          `<path class="error-bar" stroke="${color}" stroke-width="1.5" d="M${px.toFixed(1)},${
            lo.toFixed(1)
          }V${hi.toFixed(1)}M${(px - 4).toFixed(1)},${lo.toFixed(1)}h8M${(px - 4).toFixed(1)},${
            hi.toFixed(1)
          }h8"/>`,
        );
        segments.push([px, lo, px, hi]);
      }
      if (s.x.length <= 50) {
        body.push(
          `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${color}"><title>${
            escapeXml(`${s.name}: (${x}, ${y})`)
          }</title></circle>`,
        );
      }
    });
    flush();
  });
  const entries = series.map((s, k) => ({ name: s.name, color: PALETTE[k % PALETTE.length] }));
  const size = legendSize(entries.map((e) => e.name));
  const at = placeLegend(f, size, marks);
  body.push(legend(f, entries, at));
  const canvasWidth = at.outside && entries.length > 0 ? width + size.w + 20 : width;
  const svg = document(canvasWidth, height, body.join("\n"));
  if (path) await Deno.writeTextFile(path, svg);
  return svg;
}
