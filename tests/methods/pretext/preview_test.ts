import assert from "node:assert/strict";
import sharp from "sharp";
import { pretextPreviewMain, previewPretext } from "../../../cli/_preview_pretext.ts";
import { tf } from "../../../backend/tf.ts";
import { corrupt } from "../../../methods/denoising_autoencoder.ts";

Deno.test("pretext preview: jigsaw grid with its permutations, rotation with 4 label columns", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const j = await previewPretext({
      method: "jigsaw",
      out: `${dir}/j.png`,
      count: 3,
      zoom: 1,
      labels: false,
    });
    const meta = await sharp(`${dir}/j.png`).metadata();
    assert.equal(meta.height, 2 + 3 * (28 + 2));
    const sidecar = JSON.parse(await Deno.readTextFile(`${dir}/j.png.json`));
    assert.deepEqual(sidecar.labels, j.labels);
    for (const { permutation } of sidecar.labels as { permutation: number[] }[]) {
      assert.deepEqual([...permutation].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    }
    await previewPretext({ method: "rotation", out: `${dir}/r.png`, count: 2, zoom: 1 });
    const r = await sharp(`${dir}/r.png`).metadata();
    // labelled by default: the grid's width, a title and the angles above it
    assert.equal(r.width, 2 + 4 * (28 + 2) + 6);
    assert.ok(r.height! > 2 + 2 * (28 + 2) + 20, `no label band: height ${r.height}`);
    // --bare: the grid alone
    assert.equal(
      await pretextPreviewMain([
        "--method",
        "rotation",
        "--count",
        "2",
        "--zoom",
        "1",
        "--bare",
        "--out",
        `${dir}/b.png`,
        "--quiet",
      ]),
      0,
    );
    assert.equal((await sharp(`${dir}/b.png`).metadata()).height, 2 + 2 * (28 + 2));
    assert.equal(await pretextPreviewMain(["--method", "rotation", "--count", "0"]), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The PNG's pixels, decoded. */
async function pixels(path: string): Promise<Uint8Array> {
  return new Uint8Array(await sharp(path).raw().toBuffer());
}

Deno.test("denoising-autoencoder preview: the same seed draws the same picture, another seed another", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // seed 0 was tfjs's "no seed" for the gaussian noise: each run drew its noise from Math.random
    const run = async (seed: number, name: string) => {
      const out = `${dir}/${name}.png`;
      await previewPretext({
        method: "denoising-autoencoder",
        out,
        count: 2,
        steps: 2,
        zoom: 1,
        seed,
        backend: "wasm",
      });
      return await pixels(out);
    };
    const a = await run(0, "a"), b = await run(0, "b"), c = await run(1, "c");
    assert.equal(a.length, b.length);
    assert.ok(a.every((v, i) => v === b[i]), "seed 0 twice gave different pixels");
    assert.ok(a.some((v, i) => v !== c[i]), "seeds 0 and 1 gave the same pixels");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("corrupt: gaussian noise of seed 0 is a seed like any other", () => {
  const x = tf.fill([1, 6, 6, 1], 0.5) as tf.Tensor4D;
  const draw = (seed: number) => {
    const y = corrupt(x, "gaussian", 0.3, seed);
    const v = y.dataSync().slice();
    y.dispose();
    return v;
  };
  assert.deepEqual(draw(0), draw(0));
  assert.notDeepEqual(draw(0), draw(1));
  assert.deepEqual(draw(5), draw(5));
  x.dispose();
});
