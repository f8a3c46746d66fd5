/**
 * The table's `recipe` reaches every pretraining whole: `solo-cifar`'s LARS trust coefficient and
 * clipping (not only its lr) get to `train`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { runMethodTable, type TableDataset } from "../../eval/method_table.ts";
import { setupBackend } from "../_utils.ts";
import { tinyNoiseSet } from "./_tiny_sets.ts";

await setupBackend();

Deno.test("table --recipe solo-cifar: moco-v3 trains with LARS trust 0.02 clipped, not only at solo-learn's lr", async () => {
  const [train, test] = [tinyNoiseSet(256, 1), tinyNoiseSet(64, 2)];
  const row = async (recipe: "solo-cifar" | "paper", lr?: number) => {
    const lines: string[] = [];
    const rows = await runMethodTable({
      datasets: ["fashion-mnist"],
      methods: ["moco-v3"],
      steps: 2,
      batchSize: 16,
      seeds: [0],
      widths: [4, 4, 4],
      probeEpochs: 1,
      skipBaselines: true,
      recipe,
      ...(lr !== undefined ? { recipeOptions: { lr } } : {}),
      log: (l) => lines.push(l),
      loadDataset: (_d: TableDataset, split) => Promise.resolve(split === "train" ? train : test),
    });
    const r = rows.find((x) => x.method === "moco-v3")!;
    assert.equal(r.error, undefined, lines.join("\n"));
    return r;
  };
  const solo = await row("solo-cifar");
  assert.match(solo.recipe!, /^recipe solo-cifar .*lars lr 0\.01875 .*trust 0\.02 clipped at lr/);
  // the paper recipe at solo-learn's lr, with the same wd, warm-up (0 of 2 steps) and EMA,
  // differs only in LARS's trust: another loss after the first update
  const paper = await row("paper", 0.3 * 16 / 256);
  assert.doesNotMatch(paper.recipe!, /trust/);
  assert.notEqual(solo.finalLoss[0], paper.finalLoss[0]);
});

Deno.test("table --recipe solo-cifar: barlow-twins' loss is scaled by solo-learn's scale_loss 0.1", async () => {
  const [train, test] = [tinyNoiseSet(256, 1), tinyNoiseSet(64, 2)];
  const row = async (recipe: "solo-cifar" | "paper") => {
    const lines: string[] = [];
    const rows = await runMethodTable({
      datasets: ["fashion-mnist"],
      methods: ["barlow-twins"],
      // one step: its loss is computed before any update, so the two recipes see the same nets
      // and views (same seed) and differ only in the loss's scale
      steps: 1,
      batchSize: 16,
      seeds: [0],
      widths: [4, 4, 4],
      probeEpochs: 1,
      skipBaselines: true,
      recipe,
      log: (l) => lines.push(l),
      loadDataset: (_d: TableDataset, split) => Promise.resolve(split === "train" ? train : test),
    });
    const r = rows.find((x) => x.method === "barlow-twins")!;
    assert.equal(r.error, undefined, lines.join("\n"));
    return r;
  };
  const solo = await row("solo-cifar");
  const paper = await row("paper");
  assert.match(solo.recipe!, /loss x0\.1,/);
  assert.doesNotMatch(paper.recipe!, /loss x/);
  const ratio = solo.finalLoss[0] / paper.finalLoss[0];
  assert.ok(paper.finalLoss[0] > 1, `paper loss ${paper.finalLoss[0]}`);
  assert.ok(Math.abs(ratio - 0.1) < 1e-4, `solo-cifar / paper first loss ${ratio}`);
});
