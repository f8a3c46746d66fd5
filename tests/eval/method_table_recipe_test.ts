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

/** One table row of `method` trained for `steps` steps on tiny noise sets with `recipe`. */
async function tableRow(
  method: "moco-v3" | "barlow-twins",
  steps: number,
  recipe: "solo-cifar" | "paper",
  lr?: number,
) {
  const [train, test] = [tinyNoiseSet(256, 1), tinyNoiseSet(64, 2)];
  const lines: string[] = [];
  const rows = await runMethodTable({
    datasets: ["fashion-mnist"],
    methods: [method],
    steps,
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
  const r = rows.find((x) => x.method === method)!;
  assert.equal(r.error, undefined, lines.join("\n"));
  return r;
}

Deno.test("table --recipe solo-cifar: moco-v3 trains with LARS trust 0.02 clipped, not only at solo-learn's lr", async () => {
  const solo = await tableRow("moco-v3", 2, "solo-cifar");
  assert.match(solo.recipe!, /^recipe solo-cifar .*lars lr 0\.01875 .*trust 0\.02 clipped at lr/);
  // the paper recipe at solo-learn's lr, with the same wd, warm-up (0 of 2 steps) and EMA,
  // differs only in LARS's trust: another loss after the first update
  const paper = await tableRow("moco-v3", 2, "paper", 0.3 * 16 / 256);
  assert.doesNotMatch(paper.recipe!, /trust/);
  assert.notEqual(solo.finalLoss[0], paper.finalLoss[0]);
});

Deno.test("table --recipe solo-cifar: barlow-twins' loss is scaled by solo-learn's scale_loss 0.1", async () => {
  // one step: its loss is computed before any update, so the two recipes see the same nets and
  // views (same seed) and differ only in the loss's scale
  const solo = await tableRow("barlow-twins", 1, "solo-cifar");
  const paper = await tableRow("barlow-twins", 1, "paper");
  assert.match(solo.recipe!, /loss x0\.1,/);
  assert.doesNotMatch(paper.recipe!, /loss x/);
  const ratio = solo.finalLoss[0] / paper.finalLoss[0];
  assert.ok(paper.finalLoss[0] > 1, `paper loss ${paper.finalLoss[0]}`);
  assert.ok(Math.abs(ratio - 0.1) < 1e-4, `solo-cifar / paper first loss ${ratio}`);
});
