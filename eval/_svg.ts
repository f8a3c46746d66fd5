/**
 * Self-contained SVG charts (no dependencies): line charts and labeled scatter plots.
 *
 * @module
 */

/** Categorical colors (Tableau 10), cycled for more series or classes. */
export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];

/** Escapes text for SVG content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  );
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  // multiples of step, not a running sum: summing leaves e.g. -5.6e-17 where the tick is 0
  for (let k = Math.ceil(min / step); k * step <= max + step * 1e-9; k++) {
    out.push(Number((k * step).toPrecision(12)));
  }
  return out;
}

function fmt(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

/** Plot geometry: data ranges mapped into the inner box of a width x height canvas. */
export interface Frame {
  width: number;
  height: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
  sx: (x: number) => number;
  sy: (y: number) => number;
}

/** Builds a frame for data ranges, padding a degenerate range. */
export function frame(
  xr: [number, number],
  yr: [number, number],
  width: number,
  height: number,
  logX = false,
): Frame {
  const pad = (r: [number, number]): [number, number] =>
    r[1] > r[0] ? r : [r[0] - (Math.abs(r[0]) || 1) * 0.5, r[0] + (Math.abs(r[0]) || 1) * 0.5];
  const tx = logX ? Math.log10 : (v: number) => v;
  // 4% margin so points on the data range's edge are not cut by the frame
  const margin = (r: [number, number]): [number, number] => {
    const m = (r[1] - r[0]) * 0.04;
    return [r[0] - m, r[1] + m];
  };
  const [x0, x1] = margin(pad([tx(xr[0]), tx(xr[1])]));
  const [y0, y1] = margin(pad(yr));
  const left = 70, top = 40, right = width - 20, bottom = height - 50;
  return {
    width,
    height,
    left,
    top,
    right,
    bottom,
    sx: (x) => left + ((tx(x) - x0) / (x1 - x0)) * (right - left),
    sy: (y) => bottom - ((y - y0) / (y1 - y0)) * (bottom - top),
  };
}

/** Ticks of a log axis: powers of ten, with 2 and 5 times them when the range spans few decades. */
function logTicks(xr: [number, number]): number[] {
  const lo = Math.floor(Math.log10(xr[0])), hi = Math.ceil(Math.log10(xr[1]));
  const decades = niceTicks(lo, hi, 5).filter(Number.isInteger);
  const steps = hi - lo <= 3 ? [1, 2, 5] : [1];
  const ticks = decades.flatMap((e) => steps.map((m) => Number((m * 10 ** e).toPrecision(12))));
  return ticks.filter((v) => v >= xr[0] && v <= xr[1]);
}

/** Least distance in pixels between the centres of two x tick labels. */
const MIN_TICK_GAP = 36;

/**
 * Explicit x ticks: the finite ones inside the data range, sorted, without duplicates, each
 * dropped that would sit closer than {@linkcode MIN_TICK_GAP} to the one kept before it (their
 * labels would overlap).
 */
function chosenTicks(f: Frame, xr: [number, number], ticks: readonly number[]): number[] {
  const inside = [...new Set(ticks)].filter((v) => Number.isFinite(v) && v >= xr[0] && v <= xr[1])
    .sort((a, b) => a - b);
  const out: number[] = [];
  for (const v of inside) {
    if (out.length === 0 || f.sx(v) - f.sx(out[out.length - 1]) >= MIN_TICK_GAP) out.push(v);
  }
  return out;
}

/**
 * Axes, ticks, grid, labels and title as SVG elements. `xTicks`, when given, are the x values to
 * tick and label instead of the automatic ones (e.g. the sizes a curve was measured at).
 */
export function axes(
  f: Frame,
  xr: [number, number],
  yr: [number, number],
  labels: { title?: string; xLabel?: string; yLabel?: string },
  logX = false,
  xTicks?: readonly number[],
): string {
  const parts: string[] = [];
  const ticks = xTicks ? chosenTicks(f, xr, xTicks) : logX ? logTicks(xr) : niceTicks(xr[0], xr[1]);
  for (const v of ticks) {
    const x = f.sx(v).toFixed(1);
    parts.push(`<line x1="${x}" y1="${f.top}" x2="${x}" y2="${f.bottom}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${x}" y="${f.bottom + 18}" text-anchor="middle">${fmt(v)}</text>`);
  }
  for (const v of niceTicks(yr[0], yr[1])) {
    const y = f.sy(v).toFixed(1);
    parts.push(`<line x1="${f.left}" y1="${y}" x2="${f.right}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(
      `<text x="${f.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${
        fmt(v)
      }</text>`,
    );
  }
  parts.push(
    `<rect x="${f.left}" y="${f.top}" width="${f.right - f.left}" height="${
      f.bottom - f.top
    }" fill="none" stroke="#333"/>`,
  );
  if (labels.title) {
    parts.push(
      `<text x="${f.width / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${
        escapeXml(labels.title)
      }</text>`,
    );
  }
  if (labels.xLabel) {
    parts.push(
      `<text x="${(f.left + f.right) / 2}" y="${f.height - 12}" text-anchor="middle">${
        escapeXml(labels.xLabel)
      }</text>`,
    );
  }
  if (labels.yLabel) {
    const cy = (f.top + f.bottom) / 2;
    parts.push(
      `<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})">${
        escapeXml(labels.yLabel)
      }</text>`,
    );
  }
  return parts.join("\n");
}

/** Size in pixels of the legend box for `names`. */
export function legendSize(names: readonly string[]): { w: number; h: number } {
  if (names.length === 0) return { w: 0, h: 0 };
  return {
    // about 7.5 px per character at the 12 px font: long names widen the box rather than spill
    w: Math.ceil(30 + 7.5 * Math.max(...names.map((n) => n.length))),
    h: 12 + names.length * 18,
  };
}

/** What a legend must not cover: data points and line segments, in canvas pixels. */
export interface Marks {
  points: readonly (readonly [number, number])[];
  segments: readonly (readonly [number, number, number, number])[];
}

function segmentHitsBox(
  [x1, y1, x2, y2]: readonly [number, number, number, number],
  b: { x0: number; y0: number; x1: number; y1: number },
): boolean {
  // Liang-Barsky clipping: the segment meets the box when a part of it survives the clip
  let t0 = 0, t1 = 1;
  const dx = x2 - x1, dy = y2 - y1;
  const edges: [number, number][] = [
    [-dx, x1 - b.x0],
    [dx, b.x1 - x1],
    [-dy, y1 - b.y0],
    [dy, b.y1 - y1],
  ];
  for (const [pp, q] of edges) {
    if (pp === 0) {
      if (q < 0) return false;
      continue;
    }
    const r = q / pp;
    if (pp < 0) t0 = Math.max(t0, r);
    else t1 = Math.min(t1, r);
    if (t0 > t1) return false;
  }
  return true;
}

/**
 * Where a `w` x `h` legend goes: the first inner corner (top right, top left, bottom right,
 * bottom left) whose box, with a few pixels of margin, holds no point and crosses no segment;
 * when every corner covers data, outside the plot area on its right (`outside: true`, the caller
 * widens the canvas by `w + 20`).
 */
export function placeLegend(
  f: Frame,
  size: { w: number; h: number },
  marks: Marks,
): { x: number; y: number; outside: boolean } {
  const { w, h } = size, pad = 8, m = 4;
  const corners: [number, number][] = [
    [f.right - w - pad, f.top + pad],
    [f.left + pad, f.top + pad],
    [f.right - w - pad, f.bottom - h - pad],
    [f.left + pad, f.bottom - h - pad],
  ];
  for (const [x, y] of corners) {
    const b = { x0: x - m, y0: y - m, x1: x + w + m, y1: y + h + m };
    const covers = marks.points.some(([px, py]) =>
      px >= b.x0 && px <= b.x1 && py >= b.y0 && py <= b.y1
    ) || marks.segments.some((s) => segmentHitsBox(s, b));
    if (!covers) return { x, y, outside: false };
  }
  return { x: f.right + 12, y: f.top, outside: true };
}

/**
 * A legend box at `at` (from {@linkcode placeLegend}); in the top-right corner when not given.
 */
export function legend(
  f: Frame,
  entries: { name: string; color: string }[],
  at?: { x: number; y: number },
): string {
  if (entries.length === 0) return "";
  const { w, h } = legendSize(entries.map((e) => e.name));
  const { x, y } = at ?? { x: f.right - w - 8, y: f.top + 8 };
  const rows = entries.map((e, i) =>
    `<rect x="${x + 8}" y="${y + 8 + i * 18}" width="12" height="12" fill="${e.color}"/>` +
    `<text x="${x + 26}" y="${y + 18 + i * 18}">${escapeXml(e.name)}</text>`
  );
  return `<rect class="legend" x="${x}" y="${y}" width="${w}" height="${h}" fill="white" fill-opacity="0.85" stroke="#999"/>\n${
    rows.join("\n")
  }`;
}

/** Wraps elements in an `<svg>` document with a white background. */
export function document(width: number, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n${body}\n</svg>\n`;
}
