import assert from "node:assert/strict";
import sharp from "sharp";
import { tf } from "../../backend/tf.ts";
import { parsePreviewArgs, preview, renderGrid } from "../../cli/preview.ts";
import { UsageError } from "../../cli/_args.ts";
import { setupBackend } from "../_utils.ts";

await setupBackend();

Deno.test("parsePreviewArgs is strict and supports --help and the task's leading --", () => {
  const parsed = parsePreviewArgs([
    "--",
    "--dataset",
    "mnist",
    "--augment",
    "simclr",
    "--count",
    "3",
  ]);
  assert.ok(!parsed.help);
  assert.equal(parsed.options.dataset, "mnist");
  assert.equal(parsed.options.augment, "simclr");
  assert.equal(parsed.options.count, 3);
  const help = parsePreviewArgs(["--help"]);
  assert.ok(help.help && help.text.includes("--dataset"));
  assert.throws(() => parsePreviewArgs(["--colour", "red"]), /Unknown option/);
  assert.throws(() => parsePreviewArgs(["extra"]));
  assert.throws(
    () => parsePreviewArgs(["--dataset", "cifar"]),
    (e) => e instanceof UsageError && /--dataset must be one of .*received "cifar"/.test(e.message),
  );
  assert.throws(
    () => parsePreviewArgs(["--count", "two"]),
    (e) => e instanceof UsageError && /--count must be a number, received "two"/.test(e.message),
  );
  assert.throws(
    () => parsePreviewArgs(["--views", "0"]),
    (e) => e instanceof UsageError && /--views must be >= 1, received 0/.test(e.message),
  );
  assert.throws(() => parsePreviewArgs(["--dataste", "mnist"]), /did you mean --dataset\?/);
  assert.ok(parsePreviewArgs(["-h"]).help);
});

Deno.test("renderGrid places each column's images in rows with gaps and zoom", () => {
  const a = tf.tensor4d([0, 1], [2, 1, 1, 1]); // row 0 black, row 1 white
  const b = tf.fill([2, 1, 2, 1], 0.5) as tf.Tensor4D;
  const g = renderGrid([a, b], { zoom: 2, gap: 1, separator: 1, background: 7 });
  // width: gap + 2 + gap + sep + 4 + gap = 10; height: gap + 2 rows of (2 + gap) = 7
  assert.deepEqual([g.width, g.height, g.channels], [10, 7, 1]);
  const at = (x: number, y: number) => g.data[y * g.width + x];
  assert.equal(at(0, 0), 7);
  assert.deepEqual([at(1, 1), at(2, 2)], [0, 0]);
  assert.deepEqual([at(1, 4), at(2, 5)], [255, 255]);
  assert.equal(at(3, 1), 7);
  assert.deepEqual([at(5, 1), at(8, 2), at(5, 5)], [128, 128, 128]);
  assert.throws(() => renderGrid([a, tf.zeros([3, 1, 1, 1]) as tf.Tensor4D]), TypeError);
  tf.dispose([a, b]);
});

Deno.test("preview writes a PNG grid of synthetic text lines and their views", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/views.png`;
    const before = tf.memory().numTensors;
    const r = await preview({ count: 2, views: 2, out, zoom: 1, labels: false });
    assert.equal(tf.memory().numTensors, before, "no leaked tensors");
    assert.equal(r.dataset, "synthetic-text");
    assert.equal(r.augment, "text");
    const meta = await sharp(out).metadata();
    assert.equal(meta.format, "png");
    // 3 cells of 128 px, gaps of 2 px and a 6 px separator; 2 rows of 32 px
    assert.deepEqual([meta.width, meta.height], [2 + 3 * (128 + 2) + 6, 2 + 2 * (32 + 2)]);
    assert.deepEqual([r.width, r.height], [meta.width, meta.height]);
    // by default a title and the column headings sit above the same grid
    const labelled = await preview({ count: 2, views: 2, out: `${dir}/l.png`, zoom: 1 });
    const lm = await sharp(`${dir}/l.png`).metadata();
    assert.deepEqual([labelled.width, labelled.height], [lm.width, lm.height]);
    assert.equal(lm.width, meta.width);
    assert.ok(lm.height! > meta.height! + 20, `no label band: ${lm.height} vs ${meta.height}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
