/**
 * `deno task pretrain --recipe solo-cifar` with Barlow Twins: the recipe's `scaleLoss` (solo-learn's
 * barlow.yaml `scale_loss: 0.1`) reaches the method, as `deno task table` passes it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { pretrainMain } from "../../cli/pretrain.ts";
import { captureMain } from "./_helpers.ts";

Deno.test("--recipe solo-cifar: barlow-twins' loss is scaled by solo-learn's scale_loss 0.1, saved in config.json", async () => {
  const out = await Deno.makeTempDir();
  const run = async (name: string, recipe: string) => {
    const r = await captureMain(pretrainMain, [
      ...["--method", "barlow-twins", "--dataset", "mnist", "--train-size", "32"],
      ...["--batch-size", "16", "--widths", "4,8", "--projection-dim", "8", "--hidden-dim", "8"],
      ...["--steps", "1", "--knn-bank", "0"],
      ...["--backend", "cpu", "--out", out, "--run-name", name, "--recipe", recipe],
    ]);
    assert.equal(r.code, 0, r.err);
    const metrics = (await Deno.readTextFile(`${out}/${name}/metrics.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l)).filter((l) => l.kind === "step");
    const config = JSON.parse(await Deno.readTextFile(`${out}/${name}/config.json`));
    return { err: r.err, loss: metrics[0].loss as number, config };
  };
  const solo = await run("solo", "solo-cifar");
  assert.match(solo.err, /recipe solo-cifar \(solo-learn.*barlow\.yaml\)\):.* loss x0\.1,/);
  assert.equal(solo.config.resolved.methodOptions.scaleLoss, 0.1);
  const paper = await run("paper", "paper");
  assert.equal(paper.config.resolved.methodOptions.scaleLoss, undefined);
  // the first step's loss is computed before any update: the same nets and views (same seed),
  // only the loss's scale differs
  assert.ok(paper.loss > 1, `paper loss ${paper.loss}`);
  assert.ok(
    Math.abs(solo.loss / paper.loss - 0.1) < 1e-4,
    `solo / paper ${solo.loss / paper.loss}`,
  );
  await Deno.remove(out, { recursive: true });
});
