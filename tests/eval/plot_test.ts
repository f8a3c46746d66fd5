import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import { plotLines, plotUmap } from "../../eval/mod.ts";
import { pcg32, randomNormal, setupBackend } from "../_utils.ts";

await setupBackend();

Deno.test("plotLines writes a well-formed SVG with one polyline per series and a legend", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/loss.svg`;
  const svg = await plotLines(
    [
      { name: "pretrain <simclr>", x: [0, 1, 2, 3], y: [4, 3, 2.5, 2.2] },
      { name: "fine-tune", x: [0, 1, 2, 3], y: [3, NaN, 1.5, 1] }, // NaN breaks the line
    ],
    path,
    { title: "Loss & accuracy", xLabel: "epoch", yLabel: "loss" },
  );
  assert.equal(await Deno.readTextFile(path), svg);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith("</svg>"));
  assert.equal(
    svg.match(/<polyline/g)?.length,
    2,
    "one run for series 1, one for series 2 after its gap",
  );
  assert.ok(
    svg.includes("pretrain &lt;simclr&gt;") && svg.includes("Loss &amp; accuracy"),
    "text is escaped",
  );
  assert.equal(svg.match(/<circle/g)?.length, 7);
  // points stay inside the canvas
  for (const m of svg.matchAll(/cx="([\d.]+)" cy="([\d.]+)"/g)) {
    assert.ok(+m[1] >= 0 && +m[1] <= 640 && +m[2] >= 0 && +m[2] <= 400);
  }
  const logSvg = await plotLines([{ name: "acc", x: [400, 4000, 40000], y: [0.2, 0.5, 0.9] }], "", {
    logX: true,
  });
  // log axis: equal ratios are equally spaced
  const cx = [...logSvg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => +m[1]);
  assert.ok(Math.abs((cx[1] - cx[0]) - (cx[2] - cx[1])) < 0.2, `${cx}`);
  await assert.rejects(() => plotLines([{ name: "a", x: [1, 2], y: [1] }]), TypeError);
  await assert.rejects(
    () => plotLines([{ name: "a", x: [0, 1], y: [1, 2] }], "", { logX: true }),
    RangeError,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("plotUmap keeps well-separated clusters apart, colored by label", async () => {
  const prng = pcg32(3);
  const perClass = 40, d = 10;
  const centers = randomNormal(3 * d, prng).map((v) => 8 * v);
  const rows: number[][] = [], labels: number[] = [];
  const noise = randomNormal(3 * perClass * d, prng);
  for (let i = 0; i < 3 * perClass; i++) {
    const c = i % 3;
    labels.push(c);
    rows.push(Array.from({ length: d }, (_, j) => centers[c * d + j] + noise[i * d + j]));
  }
  const features = tf.tensor2d(rows);
  const dir = await Deno.makeTempDir();
  const { embedding, svg } = await plotUmap(features, labels, `${dir}/umap.svg`, {
    classNames: ["zero", "one", "two"],
    seed: 1,
  });
  assert.equal(embedding.length, 120);
  assert.equal(svg.match(/<circle/g)?.length, 120);
  assert.equal(new Set(svg.match(/fill="#[0-9a-f]{6}" fill-opacity/g)).size, 3, "three colors");
  assert.ok(svg.includes(">zero<") && svg.includes(">two<"));
  // nearest embedded neighbour of every point has the same label
  let agree = 0;
  for (let i = 0; i < embedding.length; i++) {
    let best = -1, bestD = Infinity;
    for (let j = 0; j < embedding.length; j++) {
      if (j === i) continue;
      const dd = (embedding[i][0] - embedding[j][0]) ** 2 +
        (embedding[i][1] - embedding[j][1]) ** 2;
      if (dd < bestD) [best, bestD] = [j, dd];
    }
    if (labels[best] === labels[i]) agree++;
  }
  assert.ok(agree / embedding.length >= 0.95, `1-NN agreement ${agree}`);
  await assert.rejects(() => plotUmap(features, labels.slice(1)), TypeError);
  features.dispose();
  await Deno.remove(dir, { recursive: true });
});

/** The legend box of an SVG and every data mark (circle centres, polyline and error-bar pieces). */
function legendAndMarks(svg: string) {
  const m = svg.match(
    /<rect class="legend" x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)"/,
  );
  assert.ok(m, "a legend box");
  const [x, y, w, h] = m!.slice(1).map(Number);
  const points = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((
    c,
  ) => [+c[1], +c[2]]);
  const segments: number[][] = [];
  for (const pl of svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)) {
    const pts = pl[1].split(" ").map((p) => p.split(",").map(Number));
    for (let i = 1; i < pts.length; i++) segments.push([...pts[i - 1], ...pts[i]]);
  }
  for (const b of svg.matchAll(/class="error-bar"[^>]*d="M([\d.]+),([\d.]+)V([\d.]+)/g)) {
    segments.push([+b[1], +b[2], +b[1], +b[3]]);
  }
  return { box: { x, y, w, h }, points, segments };
}

function assertLegendCoversNothing(svg: string, what: string) {
  const { box, points, segments } = legendAndMarks(svg);
  const inside = (px: number, py: number) =>
    px >= box.x && px <= box.x + box.w && py >= box.y && py <= box.y + box.h;
  for (const [px, py] of points) {
    assert.ok(!inside(px, py), `${what}: point ${px},${py} under ${JSON.stringify(box)}`);
  }
  // sample each segment densely: no sample may fall inside the box
  for (const [x1, y1, x2, y2] of segments) {
    for (let t = 0; t <= 1; t += 0.01) {
      const px = x1 + t * (x2 - x1), py = y1 + t * (y2 - y1);
      assert.ok(
        !inside(px, py),
        `${what}: line through ${px.toFixed(1)},${py.toFixed(1)} under the legend`,
      );
    }
  }
}

Deno.test("plot legends sit where they cover no point, line or error bar", async () => {
  // rising curves end in the top-right corner, where a fixed legend used to sit
  const rising = await plotLines(
    [
      {
        name: "ssl-simclr+fine-tune",
        x: [500, 1000, 2500, 5000],
        y: [0.1, 0.4, 0.7, 0.9],
        yErr: [0.05, 0.05, 0.03, 0.02],
      },
      {
        name: "supervised",
        x: [500, 1000, 2500, 5000],
        y: [0.02, 0.2, 0.5, 0.8],
        yErr: [0.01, 0.1, 0.05, 0.02],
      },
    ],
    "",
    { logX: true },
  );
  assertLegendCoversNothing(rising, "rising");
  assert.equal(rising.match(/class="error-bar"/g)?.length, 8);
  assert.match(
    rising,
    /^<svg[^>]* width="640"/,
    "a free corner inside: the canvas keeps its width",
  );
  // a curve through all four corners: the legend goes outside, right of the plot area
  const zigzag = await plotLines([
    { name: "everywhere", x: [0, 1, 0, 1, 0.5], y: [0, 1, 1, 0, 0.5] },
  ], "");
  assertLegendCoversNothing(zigzag, "zigzag");
  const { box } = legendAndMarks(zigzag);
  assert.ok(box.x > 620, `legend outside the frame, at x ${box.x}`);
  const w = +zigzag.match(/^<svg[^>]* width="(\d+)"/)![1];
  assert.ok(w >= box.x + box.w, `canvas ${w} holds the legend ending at ${box.x + box.w}`);
  // an error bar alone can cover a corner: the legend avoids it too
  const bars = await plotLines([
    { name: "flat", x: [0, 1], y: [0.5, 0.5], yErr: [0, 0.5] },
  ], "");
  assertLegendCoversNothing(bars, "error bar");
  await assert.rejects(
    () => plotLines([{ name: "a", x: [1, 2], y: [1, 2], yErr: [1] }]),
    TypeError,
  );
});

Deno.test("plotUmap places its legend over no point", async () => {
  // points spread over the whole square, ten long class names: a top-right legend would cover
  // points (11-25 of them for seeds 1-5); seed 1 has no free corner (the legend goes outside),
  // seed 2 a free bottom-left one
  for (const seed of [1, 2]) {
    const prng = pcg32(seed);
    const rows = Array.from({ length: 200 }, () => [prng(), prng(), prng()]);
    const labels = rows.map((_, i) => i % 10);
    const classNames = Array.from({ length: 10 }, (_, i) => `class number ${i}`);
    const { svg } = await plotUmap(rows, labels, "", { seed, nNeighbors: 10, classNames });
    assertLegendCoversNothing(svg, `umap seed ${seed}`);
  }
});

Deno.test("plotLines xTicks: ticks and labels the values given, inside the range, apart", async () => {
  const xTicksOf = (svg: string) =>
    [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" text-anchor="middle">([\d.]+)<\/text>/g)]
      .map((m) => +m[2]);
  const series = [{ name: "acc", x: [250, 300, 500], y: [0.1, 0.4, 0.8] }];
  // the automatic log ticks (1, 2, 5 x 10^k) label only 500 here
  assert.deepEqual(xTicksOf(await plotLines(series, "", { logX: true })), [500]);
  const svg = await plotLines(series, "", { logX: true, xTicks: [500, 250, 300, 250, 2000, NaN] });
  // sorted, once each, 2000 (outside the data) and NaN left out; a grid line under each label
  assert.deepEqual(xTicksOf(svg), [250, 300, 500]);
  assert.equal(
    svg.match(/stroke="#e5e5e5"/g)?.length,
    3 + (svg.match(/text-anchor="end"/g)?.length ?? 0),
  );
  // a label that would overlap the one before it is dropped (251 is 1.5 px from 250)
  assert.deepEqual(
    xTicksOf(await plotLines(series, "", { logX: true, xTicks: [250, 251, 300, 500] })),
    [250, 300, 500],
  );
  // linear axes take them too
  assert.deepEqual(xTicksOf(await plotLines(series, "", { xTicks: [250, 300, 500] })), [
    250,
    300,
    500,
  ]);
});
