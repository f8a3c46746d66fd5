import { axes, document, escapeXml, frame, legend, PALETTE } from "./_svg.ts";

/** One line of a {@linkcode plotLines} chart. */
export interface LineSeries {
  /** Legend name. */
  name: string;
  /** X values (e.g. steps, epochs, labeled-set sizes). */
  x: readonly number[];
  /** Y values, same count; non-finite points break the line. */
  y: readonly number[];
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
 * with axes, ticks, a title and a legend, writes it to `path` when one is given, and returns it.
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
  const { title, xLabel, yLabel, logX = false, width = 640, height = 400 } = options;
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
    if (logX && s.x.some((v) => !(v > 0))) {
      throw new RangeError(
        `Cannot plot lines: a log x axis needs positive x values in ${JSON.stringify(s.name)}`,
      );
    }
  }
  const xs = series.flatMap((s) =>
    s.x.filter((v, i) => Number.isFinite(v) && Number.isFinite(s.y[i]))
  );
  const ys = series.flatMap((s) =>
    s.y.filter((v, i) => Number.isFinite(v) && Number.isFinite(s.x[i]))
  );
  const xr: [number, number] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  const yr: [number, number] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  const f = frame(xr, yr, width, height, logX);
  const body: string[] = [axes(f, xr, yr, { title, xLabel, yLabel }, logX)];
  series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length];
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) {
        body.push(
          `<polyline fill="none" stroke="${color}" stroke-width="2" points="${run.join(" ")}"/>`,
        );
      }
      run = [];
    };
    s.x.forEach((x, i) => {
      const y = s.y[i];
      if (!Number.isFinite(x) || !Number.isFinite(y)) return flush();
      const p = `${f.sx(x).toFixed(1)},${f.sy(y).toFixed(1)}`;
      run.push(p);
      if (s.x.length <= 50) {
        body.push(
          `<circle cx="${f.sx(x).toFixed(1)}" cy="${
            f.sy(y).toFixed(1)
          }" r="3" fill="${color}"><title>${escapeXml(`${s.name}: (${x}, ${y})`)}</title></circle>`,
        );
      }
    });
    flush();
  });
  body.push(
    legend(f, series.map((s, k) => ({ name: s.name, color: PALETTE[k % PALETTE.length] }))),
  );
  const svg = document(width, height, body.join("\n"));
  if (path) await Deno.writeTextFile(path, svg);
  return svg;
}
