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
