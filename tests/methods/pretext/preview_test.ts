import assert from "node:assert/strict";
import sharp from "sharp";
import { pretextPreviewMain, previewPretext } from "../../../cli/_preview_pretext.ts";

Deno.test("pretext preview: jigsaw grid with its permutations, rotation with 4 label columns", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const j = await previewPretext({ method: "jigsaw", out: `${dir}/j.png`, count: 3, zoom: 1 });
    const meta = await sharp(`${dir}/j.png`).metadata();
    assert.equal(meta.height, 2 + 3 * (28 + 2));
    const sidecar = JSON.parse(await Deno.readTextFile(`${dir}/j.png.json`));
    assert.deepEqual(sidecar.labels, j.labels);
    for (const { permutation } of sidecar.labels as { permutation: number[] }[]) {
      assert.deepEqual([...permutation].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    }
    await previewPretext({ method: "rotation", out: `${dir}/r.png`, count: 2, zoom: 1 });
    const r = await sharp(`${dir}/r.png`).metadata();
    assert.equal(r.width, 2 + 4 * (28 + 2) + 6);
    assert.equal(await pretextPreviewMain(["--method", "rotation", "--count", "0"]), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
