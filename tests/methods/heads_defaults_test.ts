/**
 * The heads each method builds, by style: the paper's (image encoders) or the source's (sequence
 * encoders, the default there), their default sizes as the method docs give them, explicit sizes
 * passed through in both styles, and the messages of the options the methods check themselves.
 * The loss pins use the nets' own outputs whatever the head, so a wrong head or size passes them.
 * Mutation-testing survivors of methods/{byol,simsiam,moco,swav,simclr}.ts (issue 17).
 *
 * @module
 */
import assert from "node:assert/strict";
import type * as tfl from "@tensorflow/tfjs-layers";
import { byol, moco, simclr, simsiam, swav } from "../../methods/mod.ts";
import { setupBackend } from "../_utils.ts";
import { toyEncoder, toySequenceEncoder } from "./_helpers.ts";

await setupBackend();

const IMG: [number, number, number] = [6, 6, 1];
const SEQ: [number, number, number] = [4, 10, 1];
const image = (seed = 1) => ({ encoder: toyEncoder(IMG, 8, seed), inputShape: IMG, seed: 1 });
const sequence = () => ({ encoder: toySequenceEncoder(SEQ, 6), inputShape: SEQ, seed: 1 });

/** A head's layers after the input, Dense layers as `Dense:<units>`. */
function layout(m: tfl.LayersModel): string[] {
  return m.layers.slice(1).map((l) =>
    l.getClassName() === "Dense"
      ? `Dense:${(l.getConfig() as { units: number }).units}`
      : l.getClassName()
  );
}

// the source's projector: Dense(P, no bias, L2) -> BN -> LeakyReLU -> Dense(P) -> BN
const sourceProjector = (p: number) => [
  `Dense:${p}`,
  "BatchNormalization",
  "LeakyReLU",
  `Dense:${p}`,
  "BatchNormalization",
];
// the source's predictor: Dense(H, no bias, L2) -> LeakyReLU -> BN -> Dense(P)
const sourcePredictor = (h: number, p: number) => [
  `Dense:${h}`,
  "LeakyReLU",
  "BatchNormalization",
  `Dense:${p}`,
];
// BYOL's MLP: Dense(H) -> BN -> ReLU -> Dense(P)
const byolMlp = (
  h: number,
  p: number,
) => [`Dense:${h}`, "BatchNormalization", "ReLU", `Dense:${p}`];

Deno.test("byol: the source's projector (128) and predictor (64 -> 128) in sequence mode; sizes pass through in both styles", () => {
  const d = byol(sequence()).nets;
  assert.deepEqual(layout(d.projector), sourceProjector(128));
  assert.deepEqual(layout(d.predictor), sourcePredictor(64, 128));
  const s = byol({ ...sequence(), projectionDim: 12, hiddenDim: 5 }).nets;
  assert.deepEqual(layout(s.projector), sourceProjector(12));
  assert.deepEqual(layout(s.predictor), sourcePredictor(5, 12));
  const p = byol({ ...sequence(), heads: "paper", projectionDim: 6, hiddenDim: 10 }).nets;
  assert.deepEqual(layout(p.projector), byolMlp(10, 6));
  assert.deepEqual(layout(p.predictor), byolMlp(10, 6));
  assert.deepEqual([p.projector.name, p.predictor.name], ["byol_projector", "byol_predictor"]);
  // the target nets are copies of the online ones
  assert.deepEqual(layout(p.targetProjector), byolMlp(10, 6));
  assert.throws(() => byol({ ...image(), momentum: 1.5 }), {
    name: "RangeError",
    message: "Cannot build byol: momentum must be in [0, 1], received 1.5",
  });
});

Deno.test("simsiam: paper heads 2048 / 2048-512-2048 by default, hidden = projectionDim / 4 (at least 1); the source's 128 / 64", () => {
  const d = simsiam(image()).nets;
  // SimSiam (Chen & He 2020): 3-layer projector of 2048, predictor bottleneck 512
  assert.deepEqual(
    layout(d.projector).filter((l) => l.startsWith("Dense")),
    ["Dense:2048", "Dense:2048", "Dense:2048"],
  );
  assert.deepEqual(layout(d.predictor), ["Dense:512", "BatchNormalization", "ReLU", "Dense:2048"]);
  assert.deepEqual(layout(simsiam({ ...image(), projectionDim: 10 }).nets.predictor)[0], "Dense:3");
  assert.deepEqual(layout(simsiam({ ...image(), projectionDim: 1 }).nets.predictor)[0], "Dense:1");
  const s = simsiam(sequence()).nets;
  assert.deepEqual(layout(s.projector), sourceProjector(128));
  assert.deepEqual(layout(s.predictor), sourcePredictor(64, 128));
  const e = simsiam({ ...sequence(), projectionDim: 12, hiddenDim: 5 }).nets;
  assert.deepEqual(layout(e.projector), sourceProjector(12));
  assert.deepEqual(layout(e.predictor), sourcePredictor(5, 12));
  const p = simsiam({ ...sequence(), heads: "paper", projectionDim: 8, hiddenDim: 3 }).nets;
  assert.deepEqual(layout(p.predictor), ["Dense:3", "BatchNormalization", "ReLU", "Dense:8"]);
});

Deno.test("moco: paper heads per version (v1 linear 128, v2 MLP 128, v3 4096 -> 256 with predictor); the source's 128 in sequence mode", () => {
  const v1 = moco({ ...image(), version: 1, queueSize: 8 }).nets;
  assert.deepEqual(layout(v1.projector), ["Dense:128"]);
  assert.equal(v1.predictor, null);
  const v2 = moco({ ...image(), version: 2, queueSize: 8 }).nets;
  assert.deepEqual(layout(v2.projector), ["Dense:8", "ReLU", "Dense:128"]);
  assert.equal(v2.predictor, null);
  const v3 = moco({ ...image(), version: 3 }).nets;
  assert.deepEqual(layout(v3.projector).filter((l) => l.startsWith("Dense")), [
    "Dense:4096",
    "Dense:256",
  ]);
  assert.deepEqual(layout(v3.predictor!).filter((l) => l.startsWith("Dense")), [
    "Dense:4096",
    "Dense:256",
  ]);
  const h = moco({ ...image(), version: 3, projectionDim: 6, hiddenDim: 10 }).nets;
  assert.deepEqual(layout(h.projector).filter((l) => l.startsWith("Dense")), [
    "Dense:10",
    "Dense:6",
  ]);
  assert.deepEqual(layout(h.predictor!).filter((l) => l.startsWith("Dense")), [
    "Dense:10",
    "Dense:6",
  ]);
  assert.deepEqual(
    layout(moco({ ...image(), version: 2, queueSize: 8, hiddenDim: 5 }).nets.projector),
    ["Dense:5", "ReLU", "Dense:128"],
  );
  for (const version of [1, 2] as const) {
    const s = moco({ ...sequence(), version, queueSize: 8 }).nets;
    assert.deepEqual(layout(s.projector), sourceProjector(128));
    assert.equal(s.predictor, null);
  }
  const s3 = moco({ ...sequence(), version: 3 }).nets;
  assert.deepEqual(layout(s3.projector), sourceProjector(128));
  assert.deepEqual(layout(s3.predictor!), sourcePredictor(64, 128));
  const e3 = moco({ ...sequence(), version: 3, projectionDim: 12, hiddenDim: 5 }).nets;
  assert.deepEqual(layout(e3.projector), sourceProjector(12));
  assert.deepEqual(layout(e3.predictor!), sourcePredictor(5, 12));
});

Deno.test("swav: byolHead 2048 -> 128 with the paper's style, the source's projector in sequence mode; prototypes and crops from the preset", () => {
  const d = swav({ ...image(), preset: "small" });
  assert.deepEqual(layout(d.nets.projector), byolMlp(2048, 128));
  assert.equal(d.nets.projector.name, "swav_projector");
  assert.deepEqual(layout(d.nets.prototypes), ["Dense:100"]); // the small preset's K
  assert.deepEqual(layout(swav(image()).nets.prototypes), ["Dense:3000"]); // imagenet by default
  const s = swav({ ...sequence(), preset: "small" }).nets;
  assert.deepEqual(layout(s.projector), sourceProjector(128));
  const e = swav({ ...sequence(), preset: "small", projectionDim: 12, prototypes: 7 }).nets;
  assert.deepEqual(layout(e.projector), sourceProjector(12));
  assert.deepEqual(layout(e.prototypes), ["Dense:7"]);
});

Deno.test("simclr: the source's head (Dense(128) -> LeakyReLU -> Dense(128)) and InfoNCE at 0.1 in sequence mode", () => {
  assert.deepEqual(layout(simclr(sequence()).nets.head), ["Dense:128", "LeakyReLU", "Dense:128"]);
  assert.deepEqual(layout(simclr({ ...sequence(), projectionDim: 12 }).nets.head), [
    "Dense:12",
    "LeakyReLU",
    "Dense:12",
  ]);
  assert.deepEqual(
    layout(simclr({ ...sequence(), heads: "paper", projectionDim: 12, hiddenDim: 5 }).nets.head),
    ["Dense:5", "BatchNormalization", "ReLU", "Dense:12", "BatchNormalization"],
  );
});
