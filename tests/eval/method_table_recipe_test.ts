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
