import assert from "node:assert/strict";
import { tf } from "../../backend/tf.ts";
import {
  prePoolEncoder,
  runMethodTable,
  TABLE_DEFAULT_VIEWS,
  TABLE_METHODS,
  TABLE_PRETEXT_TASKS,
  type TableDataset,
  type TableRow,
} from "../../eval/method_table.ts";
import { renderTableMarkdown } from "../../eval/table_report.ts";
import { tableMain } from "../../cli/table.ts";
import { type Augmentation, fashionAugment } from "../../augment/mod.ts";
import { convNet } from "../../models/mod.ts";
import { setupBackend } from "../_utils.ts";
import { tinyNoiseSet } from "./_tiny_sets.ts";
import { oldTableMeta } from "./_table_meta.ts";

await setupBackend();

Deno.test("the table's views reach every pretraining and the supervised baseline", async () => {
  const [train, test] = [tinyNoiseSet(256, 1), tinyNoiseSet(64, 2)];
  // a spy around fashionAugment: which rows' trainings called it, and how often
  const calls: number[] = [];
  const inner = fashionAugment();
  const spy: Augmentation = (x, seed) => {
    calls.push(x.shape[0]);
    return inner(x, seed);
  };
  const lines: string[] = [];
  const rows = await runMethodTable({
    datasets: ["fashion-mnist"],
    methods: ["simclr"],
    steps: 2,
    batchSize: 16,
    seeds: [0],
    widths: [4, 4, 4],
    probeEpochs: 1,
    views: { "fashion-mnist": { name: "spy", augment: spy } },
    log: (l) => lines.push(l),
    loadDataset: (_d: TableDataset, split) => Promise.resolve(split === "train" ? train : test),
  });
  const byMethod = Object.fromEntries(rows.map((r) => [r.method, r]));
  assert.equal(byMethod["supervised"].error, undefined, lines.join("\n"));
  assert.equal(byMethod["simclr"].error, undefined, lines.join("\n"));
  // supervised: one view per step (2 calls); SimCLR: two views per step (4 calls)
  assert.equal(calls.length, 6, `augmentation calls ${calls}`);
  assert.match(byMethod["supervised"].recipe!, /views spy$/);
  assert.match(byMethod["simclr"].recipe!, /views spy$/);
});

Deno.test("prePoolEncoder: the map whose mean is the encoder's output, on the same weights", () => {
  const encoder = convNet({ widths: [4, 8, 8] });
  const map = prePoolEncoder(encoder);
  const x = tf.randomUniform([3, 28, 28, 1], 0, 1, "float32", 1);
  const m = map.predict(x) as tf.Tensor;
  assert.deepEqual(m.shape, [3, 4, 4, 8]);
  const pooled = encoder.predict(x) as tf.Tensor;
  const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.mean(m, [1, 2]), pooled))).dataSync()[0]);
  assert.ok(gap < 1e-6, `mean of the map vs the encoder: ${gap}`);
  // the same variables: a change to the encoder's first kernel shows in the map
  const w = encoder.trainableWeights[0].read() as tf.Variable;
  w.assign(tf.mul(w, 2));
  const m2 = map.predict(x) as tf.Tensor;
  assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(m2, m))).dataSync()[0]) > 1e-4);
  assert.throws(() => prePoolEncoder(map), TypeError);
  tf.dispose([x, m, pooled, m2]);
  encoder.dispose();
});

Deno.test("deno task table --resume refuses another views, widths or features (exit code 2)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // a report from before --views / --widths / --features: mnistAugment, 16-32-64, pooled
    const meta = oldTableMeta();
    await Deno.writeTextFile(`${dir}/t.json`, JSON.stringify({ meta, rows: [] }));
    // (were one accepted, the run would train one 5-step row and exit 0: the test fails)
    const base = ["--steps", "5", "--out", `${dir}/t`, "--resume", "--datasets", "mnist"];
    base.push("--methods", "simclr", "--no-baselines");
    assert.equal(await tableMain([...base, "--views", "fashion"]), 2);
    assert.equal(await tableMain([...base, "--widths", "32,64,128"]), 2);
    assert.equal(await tableMain([...base, "--features", "map"]), 2);
    assert.equal(await tableMain([...base, "--widths", "16,x"]), 2);
    // Fashion-MNIST's default views are not the old reports' mnistAugment
    if (TABLE_DEFAULT_VIEWS["fashion-mnist"] !== "mnist") {
      assert.equal(
        await tableMain([
          "--steps",
          "5",
          "--out",
          `${dir}/t`,
          "--resume",
          "--datasets",
          "fashion-mnist",
        ]),
        2,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("table report: 'every SSL method beats raw pixels' names how many of them it holds", () => {
  const row = (method: string, kind: TableRow["kind"], v: number): TableRow => ({
    dataset: "fashion-mnist",
    method,
    kind,
    seeds: [0],
    knn20: [v],
    knn200: [v],
    linear: [v],
    trainSeconds: [0],
    finalLoss: [NaN],
    zStd: [NaN],
  });
  const meta = { command: "", steps: 1, batchSize: 64, seeds: [0], backend: "cpu", date: "" };
  const one = renderTableMarkdown(
    [row("raw pixels", "baseline", 0.8), row("simclr", "ssl", 0.9)],
    meta,
  );
  assert.match(
    one,
    /Every SSL method beats raw pixels at k = 20 \(80\.0%\) \(only 1 of the table's 9 SSL methods in this report: simclr\)\./,
  );
  const nine = TABLE_METHODS.filter((m) => !TABLE_PRETEXT_TASKS.includes(m)).map((m) =>
    row(m, "ssl", 0.9)
  );
  const all = renderTableMarkdown([row("raw pixels", "baseline", 0.8), ...nine], meta);
  assert.match(all, /Every SSL method beats raw pixels at k = 20 \(80\.0%\)\./);
});
